"""What an intent kind is: its detector and what it offers (the contract of every kind module).

A kind module defines one :class:`Kind`; :mod:`codeloop.workspace.kinds` registers it.
Detection comes in two shapes, and a kind has one or both:

``per_function(scan, site)``
    called once per top-level function or method (:class:`FunctionSite`); its results
    are cached per function, so an edit elsewhere does not run it again;
``per_document(scan)``
    called once per analysis, with the comments of the analysed lines in ``scan``.

A ranged request (``find_intents(doc, lines=...)``) keeps only the intents offered on
those lines, whatever a detector returns, so a detector may ignore the range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from tree_sitter import Node

from codeloop.workspace.document import Document
from codeloop.workspace.model import Example, Intent, Span
from codeloop.workspace.nodes import Comment, Function


@dataclass
class Scan:
    """One analysis of a document (or of the lines a ranged request asked for)."""

    doc: Document
    tested_names: frozenset[str] | None  # None: nothing is known to be untested
    in_test_file: bool
    is_stub_file: bool  # a .pyi: declarations, nothing to implement
    comments: list[Comment]  # the comments of the analysed lines, in document order


@dataclass
class FunctionSite:
    """A function or method with what its intents share (computed once for all kinds)."""

    fn: Function
    body: Node | None
    span: Span  # the whole definition, decorators included
    docstring: str | None
    comment: str | None  # the comment lines right above it
    skip_decorated: bool  # @overload / @abstractmethod: a declaration
    # The Intent fields every intent of this function carries (path, signature, params...).
    common: dict[str, Any] = field(default_factory=dict)

    @property
    def examples(self) -> tuple[Example, ...]:
        return self.common["examples"]


@dataclass(frozen=True)
class Offer:
    """The code action an intent of this kind offers.

    ``title`` is formatted with the intent's ``name``; ``command`` is the command the
    action runs, ``action_kind`` the LSP code-action kind it is filed under.
    """

    title: str
    command: str
    action_kind: str

    def title_for(self, intent: Intent) -> str:
        return self.title.format(name=intent.name)


@dataclass(frozen=True)
class Notice:
    """How an intent of this kind shows as a diagnostic.

    ``message`` is formatted with the intent's ``name`` and ``summary``; with
    ``only_untested`` only intents marked ``untested`` show.
    """

    code: str
    severity: Literal["information", "hint"]
    message: str
    only_untested: bool = False

    def message_for(self, intent: Intent) -> str | None:
        if self.only_untested and not intent.untested:
            return None
        return self.message.format(name=intent.name, summary=intent.summary)


FunctionDetector = Callable[[Scan, FunctionSite], Iterable[Intent]]
DocumentDetector = Callable[[Scan], Iterable[Intent]]


@dataclass(frozen=True)
class Kind:
    """One intent kind: its name (``Intent.kind``), detection and what it offers."""

    name: str
    description: str  # one line: what the kind means
    per_function: FunctionDetector | None = None
    per_document: DocumentDetector | None = None
    # Where implementing an intent of this kind writes the code: "body" replaces the
    # stub's body (Intent.body_span), "below" goes under the comment block; None: codeloop
    # does not implement this kind.
    writes: Literal["body", "below"] | None = None
    offer: Offer | None = None  # the code action; None: none (yet)
    notice: Notice | None = None  # the diagnostic; None: none

    @property
    def implementable(self) -> bool:
        """Whether `codeloop implement` / codeloop.implement writes code for it."""
        return self.writes is not None
