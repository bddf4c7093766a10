"""documents.snapshot: a view of a document that later changes do not reach (it is read
from a worker thread while the event loop applies edits)."""

from __future__ import annotations

from codeloop.lsp.documents import snapshot
from codeloop.workspace.document import Document
from codeloop.workspace.model import Span


def test_snapshot_keeps_the_text_and_tree_of_its_version():
    doc = Document("file:///tmp/m.py", "def f():\n    ...\n\nx = 1\n", 1)
    view = snapshot(doc)
    old_tree_text = view.tree.root_node.text
    doc.apply_changes([(Span(1, 4, 1, 7), "return 2")], 2)
    doc.apply_changes([(Span(3, 0, 3, 5), "y = [")], 3)
    assert (view.version, view.text, view.line_text(1)) == (1, "def f():\n    ...\n\nx = 1\n", "    ...")
    assert view.tree.root_node.text == old_tree_text and not view.tree.root_node.has_error
    assert doc.line_text(1) == "    return 2" and doc.tree.root_node.has_error
    doc.apply_changes([(None, "z = 3\n")], 4)  # a whole-document change too
    assert view.line_count == 5 and view.span_of(0, 3).end_col == 3
