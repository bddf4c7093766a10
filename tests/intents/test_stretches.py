"""A parse of the edited statements alone stands in for the file's only when it agrees with it.

Random edits (some of them syntax-breaking: quotes, brackets, indentation, new definitions)
on real modules of this repository; after each one, wherever ``Document.region`` offers a
stretch parse, its statements must be node for node those of a fresh parse of the whole
text, and the intents found through it those a fresh document finds.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from codeloop.workspace.document import Document
from codeloop.workspace.intents import find_intents, intents_at
from codeloop.workspace.model import Span
from codeloop.workspace.stretches import MAX_PENDING, Pending, after_edit

ROOT = Path(__file__).resolve().parents[2] / "server" / "codeloop"
MODULES = ["workspace/intents.py", "workspace/nodes.py", "index/extract.py", "lsp/code_actions.py"]
SNIPPETS = ["x", " ", "\n", "    ", '"""', "'", "(", ")", ":", "# note\n", "\\", "\n\ndef added(a):\n    return a\n",
            "    # about it\n", "@property\n", "if x:\n", "pass", "]"]


def _node_text(node) -> list[tuple[str, int, int]]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append((n.type, n.start_byte, n.end_byte))
        stack.extend(reversed(n.children))
    return out


def _random_edit(rng: random.Random, doc: Document) -> tuple[tuple[Span, str], tuple[Span, str]]:
    """An edit and the one that undoes it (typing, then deleting what was typed)."""
    line = rng.randrange(doc.line_count)
    here = doc.line_text(line)
    col = rng.randrange(len(here) + 1)
    if rng.random() < 0.3:  # delete a few characters on the line
        end = min(col + rng.randint(1, 4), len(here))
        return (Span(line, col, line, end), ""), (Span(line, col, line, col), here[col:end])
    text = rng.choice(SNIPPETS) if rng.random() < 0.5 else rng.choice(["x", "y2", "_", " "])
    rows = text.split("\n")
    end_line, end_col = line + len(rows) - 1, (col + len(rows[0]) if len(rows) == 1 else len(rows[-1]))
    return (Span(line, col, line, col), text), (Span(line, col, end_line, end_col), "")


@pytest.mark.parametrize("module", MODULES)
def test_a_stretch_parse_is_the_file_parse_there(module: str) -> None:
    rng = random.Random(module)
    text = (ROOT / module).read_text()
    doc = Document(f"file:///ws/{Path(module).name}", text, 1)
    offered = 0
    undo = None
    for version in range(2, 162):
        if undo is None:
            edit, undo = _random_edit(rng, doc)
            doc.apply_changes([edit], version)
        else:  # typed and deleted again, as the benchmark does
            doc.apply_changes([undo], version)
            undo = None
        if rng.random() < 0.1:
            doc.tree  # noqa: B018 - now and then the whole file is parsed (a diagnostics pass)
        fresh = Document(doc.uri, doc.text, version)
        for _ in range(3):
            first = rng.randrange(doc.line_count)
            last = min(first + rng.randint(0, 6), doc.line_count - 1)
            view = doc.region(first, last)
            if view is not doc:
                offered += 1
                whole = {(n.start_byte, n.end_byte): n for n in fresh.tree.root_node.children}
                for top in view.tree.root_node.children:
                    assert (top.start_byte, top.end_byte) in whole, (version, top)
                    assert _node_text(top) == _node_text(whole[(top.start_byte, top.end_byte)]), version
            names = frozenset({"find_intents", "extract"})
            assert find_intents(doc, names, lines=(first, last)) == intents_at(find_intents(fresh, names), first, last)
    assert offered > 50  # the stretch parse was in use, not only the fallback


def test_an_edit_that_reaches_past_its_statement_is_not_parsed_alone() -> None:
    text = "def a():\n    return 1\n\n\ndef b():\n    return 2\n\n\ndef c():\n    return 3\n"
    doc = Document("file:///ws/m.py", text, 1)
    doc.apply_changes([(Span(1, 4, 1, 4), '"""')], 2)  # opens a string that swallows b
    assert doc.region(4, 5) is doc
    assert doc.region(1, 1) is doc
    doc.tree  # noqa: B018 - parsed with the string open: a syntax error
    doc.apply_changes([(Span(1, 4, 1, 7), "")], 3)
    assert doc.region(4, 5) is doc  # the last parse had an error: no stretch is trusted
    doc.tree  # noqa: B018
    doc.apply_changes([(Span(5, 11, 5, 11), "1")], 4)  # each function stands alone again
    view = doc.region(4, 5)
    assert view is not doc
    assert [n.type for n in view.tree.root_node.children] == ["function_definition"]
    assert view.text == doc.text and view.version == doc.version


def test_a_file_with_a_syntax_error_is_parsed_whole() -> None:
    doc = Document("file:///ws/m.py", "def a(:\n    pass\n\n\ndef b():\n    return 2\n", 1)
    doc.apply_changes([(Span(5, 11, 5, 11), "0")], 2)
    assert doc.region(4, 5) is doc


def test_pending_edits_move_and_merge() -> None:
    pending = after_edit([], 10, 10, 11)  # typed one character at 10
    assert pending == [Pending(10, 11)]
    pending[0].checked = True
    pending = after_edit(pending, 50, 55, 50)  # deleted five characters after it: it stays checked
    assert pending == [Pending(10, 11, True), Pending(50, 50)]
    pending = after_edit(pending, 0, 0, 3)  # typed three at the top: both move
    assert pending == [Pending(13, 14, True), Pending(53, 53), Pending(0, 3)]
    pending = after_edit(pending, 12, 14, 12)  # a deletion over the first: merged, checked no more
    assert pending == [Pending(53 - 2, 53 - 2), Pending(0, 3), Pending(12, 12)]
    many: list[Pending] | None = []
    for i in range(MAX_PENDING + 1):
        many = after_edit(many, 10 * i, 10 * i, 10 * i + 1)
    assert many is None  # too many to track: the next read parses the file
