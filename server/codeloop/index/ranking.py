"""Re-ranking full-text search candidates: bm25 says which definitions mention the query's
words; these rules say which of them a person most likely means.

- A name that is the query, or is made of the query's words (``html_report`` for "write an
  html report"), goes up, by how many words it covers; words of the enclosing class that
  the name does not cover count too (``MarkdownIt.render`` for "render markdown").
  Words match loosely: a plural, a shortening (``dir`` for "directory"), words run
  together (``asdict`` says "dict").
- Vendored copies (``_vendor/``, ``third_party/``, ...), tests, private names and special
  methods go down; so does each further method of a class already listed.
- Definitions sharing a name are one candidate seen several times (copies, overrides,
  platform variants): the one a caller would import (not vendored, shallowest, shortest
  qualified name) stands for the group with the group's best text score, and the others
  follow it, so that five copies of one thing do not fill the top five.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Protocol

from codeloop.index.words import STOP_WORDS, identifier_parts, split_identifier

NAME_IS_QUERY = 10.0
NAME_WORDS = 3.0  # a name made only of query words
PER_MORE_WORD = 1.0  # for each query word it covers beyond the first
PER_PARENT_WORD = 1.5  # for each further query word the enclosing class's name covers
VENDORED = 4.0
PRIVATE_OR_TEST = 2.0
SPECIAL = 2.0
SIBLING = 1.5  # each earlier result of the same class
MAX_SIBLING = 4.5
FOLLOWER = 2.0  # a group's second member, below its representative; each next one 1 more
MAX_FOLLOWER = 6.0
REPRESENTS_FROM = 0.8  # a representative's own score must be this share of the group's best

_VENDORED = re.compile(r"(?:^|/)(?:_?vendor(?:ed)?|third_?party|_?externa?l?s?)(?:/|$)")


class Ranked(Protocol):
    name: str
    qualified_name: str
    path: str
    line: int
    kind: str
    is_test: bool
    score: float


def stem(word: str) -> str:
    """A crude singular: enough to make "specifiers" meet ``Specifier``."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _covers(part: str, term: str) -> bool:
    """Does the identifier part ``part`` say the query word ``term``?"""
    return _says(part, stem(part), term, stem(term))


def _says(part: str, p: str, term: str, t: str) -> bool:
    """:func:`_covers` with both words' stems at hand."""
    # "dir" shortens "directory"; "asdict" and "dictview" are run together from "dict"
    return (part == term or p == t or (len(p) >= 3 and t.startswith(p))
            or (len(t) >= 4 and (p.startswith(t) or p.endswith(t))))


class _Said:
    """The query words each identifier part says (``_covers``), remembered for one query:
    the candidates of a search repeat their parts many times over."""

    def __init__(self, terms: list[str]) -> None:
        self.terms = terms
        self.stems = [(t, stem(t)) for t in terms]
        self.memo: dict[str, frozenset[str]] = {}

    def __call__(self, part: str) -> frozenset[str]:
        got = self.memo.get(part)
        if got is None:
            p = stem(part)
            got = self.memo[part] = frozenset(t for t, st in self.stems if _says(part, p, t, st))
        return got

    def covered(self, parts: tuple[str, ...]) -> set[str] | None:
        """The query words ``parts`` cover, when every part is one of them (else None)."""
        got: set[str] = set()
        for part in parts:
            hit = self(part)
            if not hit:
                return None
            got |= hit
        return got


@lru_cache(maxsize=16384)
def is_vendored(path: str) -> bool:
    return _VENDORED.search(path) is not None


def _representative_key(s: Ranked) -> tuple:
    return (is_vendored(s.path), s.is_test, s.qualified_name.count("."), len(s.qualified_name), s.path, s.line)


def _name_bonus(name: str, kind: str, parent_name: str, whole: str, said: _Said) -> float:
    """What the name (and its class's name) says beyond the text score."""
    parts = identifier_parts(name)
    covered = said.covered(parts) if parts and said.terms else None
    bonus = 0.0
    if "".join(parts) == whole:
        bonus += NAME_IS_QUERY
    elif covered:
        bonus += NAME_WORDS + PER_MORE_WORD * (len(covered) - 1)
    if kind == "method" and said.terms:
        own = frozenset().union(*map(said, parts))
        parent = frozenset().union(*map(said, identifier_parts(parent_name)))
        bonus += PER_PARENT_WORD * len(parent - own)
    return bonus


def _penalty(s: Ranked) -> float:
    penalty = VENDORED if is_vendored(s.path) else 0.0
    if s.is_test or (s.name.startswith("_") and not s.name.startswith("__")):
        penalty += PRIVATE_OR_TEST
    elif s.name.startswith("__") and s.name.endswith("__"):
        penalty += SPECIAL  # __repr__, __init__: the class is the better answer
    return penalty


def rerank(found: list[Ranked], query: str, text_scores: dict[int, float]) -> None:
    """Set ``score`` of each candidate (higher is better) from its bm25 ``text_scores`` (by
    id, higher is better) and the rules above, and sort ``found`` best first."""
    words = split_identifier(query)
    whole = "".join(words)
    terms = [t for t in dict.fromkeys(words) if t not in STOP_WORDS] or list(dict.fromkeys(words))
    text = {id(s): text_scores[s.id] for s in found}  # type: ignore[attr-defined]
    said = _Said(terms)
    named: dict[tuple[str, str, str], float] = {}  # candidates repeat names (copies, overrides)
    bonus: dict[int, float] = {}
    for s in found:
        key = (s.name, s.kind, s.qualified_name.rpartition(".")[0].rpartition(".")[2])
        b = named.get(key)
        if b is None:
            b = named[key] = _name_bonus(*key, whole, said)
        bonus[id(s)] = b - _penalty(s)
    groups: dict[str, list[Ranked]] = {}
    for s in found:
        groups.setdefault(s.name, []).append(s)
    followers: list[tuple[Ranked, Ranked, int]] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        best = max(text[id(m)] for m in members)
        members.sort(key=_representative_key)
        lead = members[0]
        if text[id(lead)] >= REPRESENTS_FROM * best:
            text[id(lead)] = best
        else:  # the natural representative is a weak match: the best match leads instead
            lead = max(members, key=lambda m: text[id(m)])
        rest = sorted((m for m in members if m is not lead), key=lambda m: -text[id(m)])
        followers += [(m, lead, i) for i, m in enumerate(rest) if bonus[id(m)] <= bonus[id(lead)]]
    for s in found:
        s.score = text[id(s)] + bonus[id(s)]
    for m, lead, i in followers:  # below their representative (one that says more stays)
        m.score = min(m.score, lead.score - min(FOLLOWER + i, MAX_FOLLOWER))
    # Crowding: each further method of a class already listed says less than the first.
    found.sort(key=lambda s: (-s.score, s.path, s.line))
    seen: dict[str, int] = {}
    for s in found:
        if s.kind != "method":
            continue
        parent = s.qualified_name.rpartition(".")[0]
        n = seen.get(parent, 0)
        seen[parent] = n + 1
        s.score -= min(SIBLING * n, MAX_SIBLING)
    for s in found:
        s.score = round(s.score, 4)
    found.sort(key=lambda s: (-s.score, s.path, s.line))


__all__ = ["is_vendored", "rerank", "stem"]
