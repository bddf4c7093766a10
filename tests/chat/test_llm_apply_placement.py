"""Where codeloop.applyCode puts code that comes without a range."""

from __future__ import annotations

from codeloop.lsp.chat import placement
from codeloop.workspace.document import Document


def apply(text: str, rng, new: str) -> str:
    doc = Document("file:///t.py", text, 1)
    doc.apply_changes([(_span(rng), new)])
    return doc.text


def _span(rng):
    from codeloop.workspace.model import Span

    return Span(rng.start.line, rng.start.character, rng.end.line, rng.end.character)


def test_replaces_the_definition_of_the_same_name():
    text = "import os\n\n\n@cache\ndef add(a, b):\n    return a - b\n\n\nx = add(1, 2)\n"
    doc = Document("file:///t.py", text, 1)
    rng, new = placement(doc, "def add(a, b):\n    return a + b\n")
    assert (rng.start.line, rng.end.line) == (3, 5)
    assert apply(text, rng, new) == "import os\n\n\ndef add(a, b):\n    return a + b\n\n\nx = add(1, 2)\n"


def test_appends_new_code_at_the_end_with_pep8_spacing():
    text = "import os\n\nx = 1\n"
    doc = Document("file:///t.py", text, 1)
    rng, new = placement(doc, "def helper():\n    return 2")
    assert apply(text, rng, new) == "import os\n\nx = 1\n\n\ndef helper():\n    return 2\n"
    rng, new = placement(Document("file:///t.py", "x = 1", 1), "y = 2\n")
    assert apply("x = 1", rng, new) == "x = 1\n\ny = 2\n"


def test_several_definitions_or_broken_code_are_appended():
    text = "def a():\n    pass\n"
    doc = Document("file:///t.py", text, 1)
    rng, new = placement(doc, "def a():\n    return 1\n\ndef b():\n    return 2\n")
    assert rng.start == rng.end and rng.start.line == 2
    rng, new = placement(doc, "def a(:\n")
    assert rng.start == rng.end


def test_empty_document():
    doc = Document("file:///t.py", "", 1)
    rng, new = placement(doc, "x = 1")
    assert (rng.start.line, rng.start.character) == (0, 0) and new == "x = 1\n"
