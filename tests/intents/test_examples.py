"""The one example parser: both readings give codeloop.workspace.model.Example."""

from __future__ import annotations

from codeloop.workspace.examples import (
    comment_call_examples,
    comment_examples,
    docstring_call_examples,
    doctest_examples,
)
from codeloop.workspace.model import Example

DOC = """Boxes.

    >>> b = Box(2)
    >>> b.fits(1)
    True
    >>> other(3)
    4
"""


def test_intents_reading_keeps_every_doctest_with_0_based_lines():
    found = doctest_examples(DOC, first_line=10)
    assert [(e.call, e.expected, e.line) for e in found] == [
        ("b = Box(2)", None, 12), ("b.fits(1)", "True", 13), ("other(3)", "4", 15)]
    assert all(e.setup == () for e in found)


def test_generator_reading_keeps_calls_of_known_names_with_their_setup():
    found = docstring_call_examples(DOC, 11, {"Box", "fits"})
    assert found == [Example("b.fits(1)", "True", 14, "doctest", ("b = Box(2)",))]


def test_comment_readings():
    assert comment_examples([(3, "e.g. double(2) == 4")]) == (Example("double(2)", "4", 3, "equals"),)
    source = "# double(2) -> 4\n# prose only\ndef double(x): ...\n"
    assert comment_call_examples(source, 1, 2, {"double"}) == [Example("double(2)", "4", 1, "arrow")]
    assert comment_call_examples(source, 1, 2, {"triple"}) == []
