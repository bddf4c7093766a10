"""The intent kinds: one table, one module per kind.

A kind is a module that defines ``KIND = Kind(...)`` (its detector and what it
offers, see :mod:`codeloop.workspace.kinds.base`) plus one :func:`register` line
below. :func:`codeloop.workspace.intents.find_intents` runs every registered
detector; the adapters ask the table what a kind offers (:attr:`Kind.offer`,
:attr:`Kind.notice`) and whether it can be implemented (:func:`implementable`)
instead of comparing kind names.
"""

from __future__ import annotations

from codeloop.workspace.kinds import from_comment, generate_tests, implement, todo
from codeloop.workspace.kinds.base import (
    DocumentDetector,
    FunctionDetector,
    FunctionSite,
    Kind,
    Notice,
    Offer,
    Scan,
)

# Registration order is the order of intents that start at the same position.
KINDS: dict[str, Kind] = {}
_version = 0


def register(kind: Kind) -> Kind:
    """Add ``kind`` to the table (a kind of the same name is replaced)."""
    global _version
    KINDS[kind.name] = kind
    _version += 1  # cached intents were found without it
    return kind


def unregister(name: str) -> None:
    global _version
    KINDS.pop(name, None)
    _version += 1


def lookup(name: str) -> Kind | None:
    """The registered kind called ``name``, or None."""
    return KINDS.get(name)


def implementable(name: str) -> bool:
    """Whether codeloop writes code for an intent of this kind (implement, from_comment)."""
    kind = KINDS.get(name)
    return kind is not None and kind.implementable


def order(name: str) -> int:
    """A kind's place in the table (sorts intents that start at the same position)."""
    for i, known in enumerate(KINDS):
        if known == name:
            return i
    return len(KINDS)


def version() -> int:
    """Changes whenever the table does (part of every intents cache key)."""
    return _version


register(implement.KIND)
register(from_comment.KIND)
register(generate_tests.KIND)
register(todo.KIND)

__all__ = [
    "KINDS", "DocumentDetector", "FunctionDetector", "FunctionSite", "Kind", "Notice", "Offer", "Scan",
    "implementable", "lookup", "order", "register", "unregister", "version",
]
