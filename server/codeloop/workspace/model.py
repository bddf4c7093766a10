"""Plain data the workspace layer hands to everyone else (CLI, LSP, engines).

Positions are LSP-style: 0-based lines and UTF-16 code-unit columns, so the LSP
layer can pass them through unchanged; the CLI prints them 1-based.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# The name of a kind in codeloop.workspace.kinds.KINDS ("implement", "from_comment",
# "generate_tests", "todo", or one registered later).
IntentKind = str


@dataclass(frozen=True)
class Span:
    start_line: int
    start_col: int
    end_line: int
    end_col: int

    def contains_line(self, line: int) -> bool:
        return self.start_line <= line <= self.end_line

    def overlaps_lines(self, first: int, last: int) -> bool:
        return self.start_line <= last and first <= self.end_line


@dataclass(frozen=True)
class Example:
    """An input/expected-output pair written by the developer (parsed by
    :mod:`codeloop.workspace.examples`).

    ``call`` is a Python expression (``f(2)``); ``expected`` is the expected value
    as source text (``4``), or None when only the call was given. ``line`` is 0-based in
    intents (a document line) and 1-based in the offline analysis (a file line).
    ``setup`` are doctest statements that come before the call (offline analysis only).
    ``style``: ``doctest`` (a ``>>>`` line and its output), ``equals`` (``f(2) == 4``, also
    a ``>>> f(2) == 4`` truth), ``arrow`` (``->``, ``returns``, ``Input:``/``Output:``...).
    """

    call: str
    expected: str | None
    line: int
    style: Literal["doctest", "equals", "arrow"] = "doctest"
    setup: tuple[str, ...] = ()


@dataclass(frozen=True)
class Param:
    """One parameter of a function signature, as source text."""

    name: str  # without the * / ** prefix
    annotation: str | None = None
    default: str | None = None
    kind: Literal["positional", "var_positional", "keyword_only", "var_keyword"] = "positional"


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    name: str  # function or Class.method; for comments, the name the examples call or a short title
    summary: str  # one line for humans
    span: Span  # the whole construct (function, comment block, comment)
    path: str | None = None
    signature: str | None = None  # e.g. "def area(w: float, h: float) -> float"
    docstring: str | None = None
    comment: str | None = None  # the comment lines above a function / the comment block text
    examples: tuple[Example, ...] = ()
    is_async: bool = False
    is_method: bool = False
    class_name: str | None = None
    untested: bool = False  # generate_tests: no test file refers to it by name
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    # Added for the engines and code actions (all optional):
    params: tuple[Param, ...] = ()
    returns: str | None = None  # the return annotation, as source text
    decorators: tuple[str, ...] = ()  # e.g. ("@staticmethod",)
    body_span: Span | None = None  # implement: the body block to replace
    comment_span: Span | None = None  # the comment lines right above a function


@dataclass(frozen=True)
class SyntaxIssue:
    """A syntax error found by tree-sitter (an ERROR or MISSING node)."""

    message: str
    span: Span


@dataclass(frozen=True)
class Finding:
    """One line of ``codeloop check``: a syntax error, an intent, a failing test."""

    path: str  # as the user gave it
    span: Span
    severity: str  # "error" | "warning" | "info"
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.span.start_line + 1}:{self.span.start_col + 1}: {self.severity}: {self.message}"
