"""Document.snapshot: a view of a document that later changes do not reach (it is read
from a worker thread while the event loop applies edits)."""

from __future__ import annotations

from codeloop.workspace.document import Document
from codeloop.workspace.model import Span

OLD = "def f():\n    ...\n\nx = 1\n"


def test_snapshot_keeps_the_text_and_tree_of_its_version():
    doc = Document("file:///tmp/m.py", "def f():\n    ...\n\nx = 2\n", 0)
    doc.apply_changes([(Span(3, 4, 3, 5), "1")], 1)  # an edit still waiting for its parse
    view = doc.snapshot()
    doc.apply_changes([(Span(1, 4, 1, 7), "return 2")], 2)
    doc.apply_changes([(Span(3, 0, 3, 5), "y = [")], 3)
    expected = Document("file:///tmp/fresh.py", OLD).tree.root_node
    # read only now, after the changes: what the view parses must be its own version
    assert str(view.tree.root_node) == str(expected) and view.tree.root_node.text == OLD.encode()
    assert (view.version, view.text, view.line_text(1)) == (1, OLD, "    ...")
    assert doc.line_text(1) == "    return 2" and doc.tree.root_node.has_error
    doc.apply_changes([(None, "z = 3\n")], 4)  # a whole-document change too
    assert view.line_count == 5 and view.span_of(0, 3).end_col == 3
