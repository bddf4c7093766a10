"""Document.lines_text (one decode for a completion's context) equals joining line_text."""

from __future__ import annotations

import random

from codeloop.generate.completion import document_context
from codeloop.workspace.document import Document


class LineByLine:
    """A document seen only through line_count/line_text (the path without lines_text)."""

    def __init__(self, doc: Document) -> None:
        self._doc = doc
        self.line_count = doc.line_count

    def line_text(self, line: int) -> str:
        return self._doc.line_text(line)


def random_text(rng: random.Random) -> str:
    pieces = ["def f(x):", "    return x", "", "# é ☃ 𝔘", "    ", "x = '\\r'", "pass"]
    ends = ["\n"] if rng.random() < 0.5 else ["\n", "\r\n", "\r"]
    return "".join(rng.choice(pieces) + rng.choice(ends) for _ in range(rng.randint(0, 30))) + rng.choice(["", "tail"])


def test_lines_text_equals_the_joined_lines_for_any_range_and_terminators() -> None:
    rng = random.Random(7)
    for _ in range(300):
        doc = Document("file:///t.py", random_text(rng), 1)
        first = rng.randint(-2, doc.line_count + 2)
        last = rng.randint(first - 1, doc.line_count + 3)
        expected = "\n".join(doc.line_text(i) for i in range(max(first, 0), min(last, doc.line_count)))
        assert doc.lines_text(first, last) == expected, (doc.text, first, last)


def test_the_completion_context_is_the_same_with_and_without_lines_text() -> None:
    rng = random.Random(11)
    for _ in range(100):
        doc = Document("file:///t.py", random_text(rng), 1)
        line = rng.randint(0, max(doc.line_count - 1, 0))
        col = rng.randint(0, len(doc.line_text(line)))
        assert document_context(doc, line, col) == document_context(LineByLine(doc), line, col)
