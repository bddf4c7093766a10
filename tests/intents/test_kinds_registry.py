"""The intent kinds table: a new kind is one module plus one register() line."""

from __future__ import annotations

import re
import textwrap

import pytest

from codeloop.workspace import kinds
from codeloop.workspace.document import Document
from codeloop.workspace.intents import find_intents
from codeloop.workspace.kinds import FunctionSite, Kind, Offer, Scan
from codeloop.workspace.model import Intent

SRC = textwrap.dedent(
    '''\
    def area(w: float, h: float) -> float:
        """Area. XXX: check negative sizes."""
        return w * h


    def stub(x):
        ...

    # HACK: this whole module is temporary
    '''
)


def _hack_comments(scan: Scan) -> list[Intent]:
    """A document-level kind: ``HACK:`` comments."""
    out = []
    for c in scan.comments:
        m = re.search(r"\bHACK:\s*(.*)", c.text)
        if m:
            out.append(Intent(kind="hack", name="HACK", summary=m.group(1), span=scan.doc.node_span(c.node),
                              path=scan.doc.path))
    return out


def _docstring_notes(scan: Scan, site: FunctionSite) -> list[Intent]:
    """A function-level kind: ``XXX:`` notes in docstrings."""
    if site.docstring and "XXX:" in site.docstring:
        return [Intent(kind="docnote", name=site.fn.qualname, summary="docstring note", span=site.span,
                       **site.common)]
    return []


@pytest.fixture
def registered():
    added: list[str] = []

    def add(kind: Kind) -> Kind:
        added.append(kind.name)
        return kinds.register(kind)

    yield add
    for name in added:
        kinds.unregister(name)


def test_builtin_kinds_are_registered_in_order():
    assert list(kinds.KINDS)[:4] == ["implement", "from_comment", "generate_tests", "todo"]
    assert kinds.implementable("implement") and kinds.implementable("from_comment")
    assert not kinds.implementable("generate_tests") and not kinds.implementable("todo")
    assert not kinds.implementable("no_such_kind") and kinds.lookup("no_such_kind") is None
    assert kinds.lookup("todo").offer is None
    assert kinds.lookup("implement").writes == "body" and kinds.lookup("from_comment").writes == "below"
    assert kinds.lookup("generate_tests").offer.command == "codeloop.generateTests"


def test_what_kinds_offer_for_an_intent():
    doc = Document("file:///w/pkg/mod.py", SRC)
    found = {(it.kind, it.name): it for it in find_intents(doc, frozenset())}
    offer = kinds.lookup("implement").offer
    assert offer.title_for(found[("implement", "stub")]) == "Implement stub"
    notice = kinds.lookup("generate_tests").notice
    assert notice.message_for(found[("generate_tests", "area")]) == "area has no tests"
    known = {(it.kind, it.name): it for it in find_intents(doc)}  # no test index: nothing is untested
    assert notice.message_for(known[("generate_tests", "area")]) is None


def test_a_registered_document_kind_is_found(registered):
    doc = Document("file:///w/pkg/mod.py", SRC)
    before = find_intents(doc)
    assert "hack" not in {it.kind for it in before}
    registered(Kind("hack", "a HACK comment", per_document=_hack_comments,
                    offer=Offer("Clean up {name}", "codeloop.implement", "refactor.rewrite.codeloop")))
    after = find_intents(doc)  # the same document: its caches must not hide the new kind
    hacks = [it for it in after if it.kind == "hack"]
    assert [(h.summary, h.span.start_line) for h in hacks] == [("this whole module is temporary", 8)]
    assert [it for it in after if it.kind != "hack"] == before
    assert [it.kind for it in find_intents(doc, lines=(8, 8))] == ["from_comment", "hack"]  # ranged too
    kinds.unregister("hack")
    assert "hack" not in {it.kind for it in find_intents(doc)}


def test_a_registered_function_kind_is_found(registered):
    doc = Document("file:///w/pkg/mod.py", SRC)
    find_intents(doc)  # fills the per-function cache without the new kind
    registered(Kind("docnote", "a note in a docstring", per_function=_docstring_notes))
    found = find_intents(doc)
    notes = [it for it in found if it.kind == "docnote"]
    assert [(n.name, n.signature) for n in notes] == [("area", "def area(w: float, h: float) -> float")]
    # same start as area's generate_tests intent: the table's order breaks the tie
    area = [it.kind for it in found if it.name == "area"]
    assert area == ["generate_tests", "docnote"]
