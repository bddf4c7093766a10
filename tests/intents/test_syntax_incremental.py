"""``syntax_issues`` checks only the top-level statements an edit changed (the others are
remembered by their bytes): its result must equal a check of the whole tree, every time."""

from __future__ import annotations

import random

import pytest

from codeloop.workspace.document import Document, utf16_len
from codeloop.workspace.model import Span
from codeloop.workspace.syntax import _syntax_issues_in, syntax_issues

SOURCE = '''import math

def area(r):
    return math.pi * r ** 2

class Shape:
    """A shape."""

    def perimeter(self):
        # TODO: compute it

    def name(self): return "shape"

x = 1; y = (2,
     3)
s = "héllo 🐍"; t = f(
def broken(:
    pass

if x:
    for i in range(3):
        print(i)
else:
    while y:
        pass

with open("f") as fh:
    data = fh.read()
'''

PIECES = ["(", ")", ":", "\n", "    ", "def g():\n", "pass", "'", '"""', "🐍", "x = ", "[", "]", "\\", "#", "if y:\n"]


def full_check(doc: Document) -> list:
    """The whole tree in one go, nothing remembered (what ``syntax_issues`` computed before
    it remembered statements). The same tree: an incremental parse may recover from an
    error differently from a fresh one."""
    blocks, errors = _syntax_issues_in(doc, doc.tree.root_node)
    return sorted(blocks + errors, key=lambda s: (s.span.start_line, s.span.start_col))


def random_edit(doc: Document, rng: random.Random) -> None:
    lines = doc.text.split("\n")
    line = rng.randrange(len(lines))
    col = rng.randint(0, len(lines[line]))
    col16 = utf16_len(lines[line][:col])
    kind = rng.random()
    if kind < 0.5:
        doc.apply_changes([(Span(line, col16, line, col16), rng.choice(PIECES))])
    elif kind < 0.8 and col < len(lines[line]):
        end = col + rng.randint(1, min(4, len(lines[line]) - col))
        end16 = utf16_len(lines[line][:end])
        doc.apply_changes([(Span(line, col16, line, end16), "")])
    elif line + 1 < len(lines):  # join or drop a line
        doc.apply_changes([(Span(line, col16, line + 1, 0), "")])
    else:
        doc.apply_changes([(Span(line, col16, line, col16), "\n")])


@pytest.mark.parametrize("seed", range(6))
def test_equals_a_whole_tree_check_through_random_edits(seed):
    rng = random.Random(seed)
    doc = Document("file:///tmp/shapes.py", SOURCE)
    assert syntax_issues(doc) == full_check(doc)
    for _ in range(80):
        random_edit(doc, rng)
        assert syntax_issues(doc) == full_check(doc), doc.text
        # and a fresh document of the same text, with nothing remembered
        fresh = Document(doc.uri, doc.text)
        assert syntax_issues(fresh) == full_check(fresh)


def test_the_sample_has_errors_and_empty_blocks():
    messages = [i.message for i in syntax_issues(Document("file:///tmp/s.py", SOURCE))]
    assert "syntax error: expected an indented block" in messages
    assert any(m.startswith("syntax error: unexpected") or m.startswith("syntax error: missing") for m in messages)


def test_unchanged_statements_are_not_checked_again(monkeypatch):
    from codeloop.workspace import syntax

    text = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(50))
    text += "def empty():\nx = 1\ndef g(:\n    pass\n"
    doc = Document("file:///tmp/many.py", text)
    first = syntax_issues(doc)
    assert [i.message for i in first] == ["syntax error: expected an indented block", "syntax error: missing ')'"]
    checked: list[str] = []
    real = syntax._syntax_issues_in

    def spy(d, node):
        checked.append(d.source[node.start_byte : node.end_byte].decode())
        return real(d, node)

    monkeypatch.setattr(syntax, "_syntax_issues_in", spy)
    # an edit inside f3 (line 10 is its return): f3 is checked again, and the statement with
    # an error always is; the others (the empty block too) are remembered
    doc.apply_changes([(Span(10, 15, 10, 16), "7")])
    assert syntax_issues(doc) == first and checked == ["def f3(x):\n    return x + 7", "def g(:\n    pass"]
    # a line inserted at the top: the remembered issues move down with their statements
    checked.clear()
    doc.apply_changes([(Span(0, 0, 0, 0), "import os\n")])
    moved = syntax_issues(doc)
    assert checked == ["import os", "def g(:\n    pass"]
    assert moved == full_check(doc) and [i.span.start_line for i in moved] == [i.span.start_line + 1 for i in first]


def test_same_bytes_elsewhere_share_the_remembered_check():
    doc = Document("file:///tmp/twice.py", "def f():\nx = 1\ndef f():\nx = 1\n")
    got = syntax_issues(doc)
    assert got == full_check(doc) and [i.span.start_line for i in got] == [0, 2]
