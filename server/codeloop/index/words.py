"""Identifiers as words for full-text search: ``parseHTTPResponse_v2`` is found by
"parse", "http", "response" and "v2" as well as by its whole name.

SQLite's tokenizer already splits on ``_`` and ``.`` but not inside camelCase, so the text
indexed for a name is the name followed by its parts; queries go through the same split.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Lower-to-upper, acronym-to-word (HTTPResponse -> HTTP Response), letter/digit boundaries.
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+\d*|[A-Z]+\d*|\d+")
_WORD = re.compile(r"[A-Za-z0-9_]+")
_WORDS_ONLY = re.compile(r"[A-Za-z0-9_ ]*")  # names joined by spaces: each name is one word
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
# Words of a natural-language query that say nothing about which definition is wanted.
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from", "get", "gets", "how", "i",
    "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "what", "when", "where", "which",
    "who", "with", "why",
})


def split_identifier(name: str) -> list[str]:
    """The lower-case parts of one identifier or dotted name, in order."""
    return list(_split(name))


def identifier_parts(name: str) -> tuple[str, ...]:
    """:func:`split_identifier` as the cached tuple (for hot loops: no copy)."""
    return _split(name)


@lru_cache(maxsize=65536)  # a workspace repeats its names many times over
def _split(name: str) -> tuple[str, ...]:
    parts: list[str] = []
    for chunk in _SEPARATORS.split(name):
        if chunk.isalpha() and chunk.islower():  # most chunks: a lower-case word is its own part
            parts.append(chunk)
        elif chunk:
            parts.extend(p.lower() for p in _CAMEL.findall(chunk))
    return tuple(parts)


@lru_cache(maxsize=65536)
def _expanded(word: str) -> str:
    parts = _split(word)
    return f"{word} {' '.join(parts)}" if len(parts) > 1 else word


@lru_cache(maxsize=65536)  # a definition's name: the same few thousand again and again
def searchable_name(name: str) -> str:
    """:func:`searchable` of one name, cached."""
    return searchable(name)


def searchable(text: str) -> str:
    """``text`` with each identifier followed by its parts (the indexed form)."""
    return searchable_code(text, "")


def searchable_code(text: str, names: str) -> str:
    """``searchable(f"{text} {names}")`` where ``names`` are identifiers joined by spaces (a
    definition's words): the regex only runs over ``text`` (a signature: short) when the
    names are plain ASCII words, as nearly all are."""
    words = dict.fromkeys(_WORD.findall(text)) if text.strip() else {}
    if names:
        words.update(dict.fromkeys(names.split(" ") if _WORDS_ONLY.fullmatch(names) else _WORD.findall(names)))
    return " ".join([_expanded(word) for word in words])


def query_terms(query: str) -> list[str]:
    """The distinct search terms of a query, stop words dropped (unless nothing else is left)."""
    terms: list[str] = []
    for word in _WORD.findall(query):
        for part in [word.lower(), *split_identifier(word)]:
            if part and part not in terms:
                terms.append(part)
    kept = [t for t in terms if t not in STOP_WORDS]
    return kept or terms


def fts_expression(query: str) -> str | None:
    """An FTS5 MATCH expression: any of the terms (bm25 ranks the rows matching more and
    rarer terms first); None when the query has no word."""
    terms = query_terms(query)
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)


__all__ = ["STOP_WORDS", "fts_expression", "identifier_parts", "query_terms", "searchable", "searchable_code", "searchable_name",
           "split_identifier"]
