"""Identifiers as words for full-text search: ``parseHTTPResponse_v2`` is found by
"parse", "http", "response" and "v2" as well as by its whole name.

SQLite's tokenizer already splits on ``_`` and ``.`` but not inside camelCase or between
letters and digits, so the text indexed is the text followed by the parts it would not find;
queries go through the same split.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Lower-to-upper, acronym-to-word (HTTPResponse -> HTTP Response), letter/digit boundaries.
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+\d*|[A-Z]+\d*|\d+")
_WORD = re.compile(r"[A-Za-z0-9_]+")
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


# A word the full-text tokenizer would not split into its parts by itself: it splits at "_"
# and other non-alphanumerics, lower-cases, but keeps camelCase and letter/digit runs whole.
_UNSPLIT = re.compile(r"(?<![A-Za-z0-9_])[a-z_]*[A-Z0-9][A-Za-z0-9_]*")


@lru_cache(maxsize=65536)
def _extra_parts(word: str) -> str:
    """The parts of ``word`` that the tokenizer would not find in it ("" if none)."""
    parts = _split(word)
    if len(parts) <= 1 or parts == tuple(chunk.lower() for chunk in _SEPARATORS.split(word) if chunk):
        return ""
    return " ".join(parts)


@lru_cache(maxsize=65536)  # a definition's name: the same few thousand again and again
def searchable_name(name: str) -> str:
    """:func:`searchable` of one name, cached."""
    return searchable(name)


def searchable(text: str) -> str:
    """``text`` followed by the parts of its camelCase and letter-digit identifiers (the
    indexed form: the tokenizer itself splits at "_" and punctuation)."""
    extra = [p for word in dict.fromkeys(_UNSPLIT.findall(text)) if (p := _extra_parts(word))]
    return f"{text} {' '.join(extra)}" if extra else text


def searchable_code(text: str, names: str) -> str:
    """:func:`searchable` of ``text`` (a signature and decorators) and ``names`` (the
    identifiers a definition uses, joined by spaces)."""
    return searchable(f"{text} {names}" if names else text)


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
