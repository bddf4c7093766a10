"""Documents re-parse lazily: edits are recorded on the old tree, one parse on the next read
(typing in a long file does not pay a tree-sitter parse per keystroke on the event loop)."""

from __future__ import annotations

from codeloop.workspace.document import Document
from codeloop.workspace.model import Span


def test_several_edits_then_one_read_equal_a_fresh_parse():
    doc = Document("file:///tmp/ws/m.py", "def f(x):\n    return x\n\n\ndef g():\n    pass\n", 1)
    before = doc.tree
    doc.apply_changes([(Span(1, 11, 1, 12), "x + 1")], 2)
    doc.apply_changes([(Span(4, 6, 4, 6), "y")], 3)
    doc.apply_changes([(Span(5, 4, 5, 8), "return y * 2")], 4)
    assert doc.text == "def f(x):\n    return x + 1\n\n\ndef g(y):\n    return y * 2\n"
    assert str(doc.tree.root_node) == str(doc.reparse_full().root_node)
    names = [n.child_by_field_name("name").text for n in doc.tree.root_node.children]
    assert names == [b"f", b"g"]
    # whoever held the old tree still has the old, valid tree
    assert before.root_node.end_byte == len("def f(x):\n    return x\n\n\ndef g():\n    pass\n")


def test_a_full_replacement_then_an_edit_parses_the_final_text():
    doc = Document("file:///tmp/ws/m.py", "x = 1\n", 1)
    doc.apply_changes([(None, "def h():\n    pass\n"), (Span(0, 4, 0, 5), "k")], 2)
    assert doc.text == "def k():\n    pass\n"
    assert doc.tree.root_node.children[0].child_by_field_name("name").text == b"k"
    assert not doc.tree.root_node.has_error
