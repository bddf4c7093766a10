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


EXAMPLES = "".join(
    f"# Return the square of x plus {i}.\n# sq{i}(2) == {4 + i}\n# sq{i}(-3) == {9 + i}\n\n\n"
    f"def cube{i}(x):\n    \"\"\"Cube.\n\n    >>> cube{i}({i})\n    {i ** 3}\n    \"\"\"\n    ...\n\n\n"
    for i in range(60)
)


def test_intents_found_on_several_threads_at_once_equal_the_serial_result():
    """The diagnostics pass finds intents on a worker thread while the event loop's code
    actions find them too; examples in comments and docstrings are parsed by each thread's
    own expression parser (a tree-sitter parser is not safe to share)."""
    import threading

    from codeloop.workspace.intents import find_intents
    from codeloop.workspace.nodes import expression_parser

    doc = Document("file:///tmp/examples.py", EXAMPLES, 1)
    want = [(i.kind, i.name, i.span, i.summary) for i in find_intents(doc.snapshot())]
    assert len(want) >= 120
    results: list[list] = []
    parsers: list = []  # the objects, kept alive (an id alone could be reused)

    def work() -> None:
        parsers.append(expression_parser())
        for _ in range(5):
            view = doc.snapshot()
            view.cache = {}  # each pass from scratch, as a fresh document
            results.append([(i.kind, i.name, i.span, i.summary) for i in find_intents(view)])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(p) for p in parsers}) == 4 and all(p is not expression_parser() for p in parsers)
    assert results == [want] * 20
