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


# -- every common form: one test each, with the prose (or wrong) case that must not count --


def _one(text: str, name: str | None = "to_cents") -> tuple[Example, ...]:
    return comment_examples([(7, text)], name)


def test_equals_form():
    assert _one('to_cents("1.50") == 150') == (Example('to_cents("1.50")', "150", 7, "equals"),)
    assert _one("the result == 150 (to_cents rounds)") == ()


def test_arrow_forms():
    for arrow in ("->", "=>", "\u279e", "\u2192"):
        assert _one(f'to_cents("2") {arrow} 200') == (Example('to_cents("2")', "200", 7, "arrow"),), arrow
    assert _one("maps a dollar string -> cents") == ()
    assert _one("to_cents(text) -> int") == ()  # a signature, not an example
    assert _one('to_cents("2") -> two hundred') == ()  # the value is not an expression


def test_returns_and_should_forms():
    for verb in ("returns", "should return", "should be"):
        assert _one(f'to_cents("2") {verb} 200') == (Example('to_cents("2")', "200", 7, "arrow"),), verb
    assert _one("returns the amount in cents") == ()
    assert _one("to_cents(text) returns the amount in cents") == ()


def test_input_output_on_one_line_and_on_two():
    assert _one('Input: "1.50"  Output: 150') == (Example('to_cents("1.50")', "150", 7, "arrow"),)
    lines = [(3, "Input: nums = [2, 7], target = 9"), (4, ""), (5, "Output: [0, 1]")]
    assert comment_examples(lines, "two_sum") == (Example("two_sum(nums = [2, 7], target = 9)", "[0, 1]", 3, "arrow"),)
    # without the function's name there is nothing to call; prose after Input: is no example
    assert comment_examples(lines) == ()
    assert _one("Input: the amount as text. Output: cents") == ()


def test_several_examples_on_one_line_split_at_top_level_only():
    assert _one('Examples: to_cents("1.50") == 150, to_cents("-2") == -200') == (
        Example('to_cents("1.50")', "150", 7, "equals"), Example('to_cents("-2")', "-200", 7, "equals"))
    assert _one('to_cents("1,5") -> 150; to_cents("2") -> 200') == (
        Example('to_cents("1,5")', "150", 7, "arrow"), Example('to_cents("2")', "200", 7, "arrow"))
    assert comment_examples([(0, "pair(1) == (1, 2), pair(2) == (2, 3)")], "pair") == (
        Example("pair(1)", "(1, 2)", 0, "equals"), Example("pair(2)", "(2, 3)", 0, "equals"))
    assert _one("amounts like 1,50 or 2;00 are read") == ()


def test_examples_section_reads_a_call_then_its_value():
    lines = [(0, "Examples:"), (1, 'to_cents("3")'), (2, "300"), (3, "Args:"), (4, 'to_cents("4")'), (5, "400")]
    assert comment_examples(lines, "to_cents") == (Example('to_cents("3")', "300", 1, "arrow"),)
    assert comment_examples([(0, "Examples:"), (1, 'to_cents("3")'), (2, "three hundred")], "to_cents") == ()


def test_doctest_truth_without_output_reads_as_equals():
    doc = 'Cents.\n\n    >>> to_cents("-2") == -200\n    >>> to_cents("1")\n    100\n    '
    assert doctest_examples(doc, 4) == (Example('to_cents("-2")', "-200", 6, "equals"),
                                        Example('to_cents("1")', "100", 7, "doctest"))
    # a comparison that is not call == value stays a statement for the checks
    assert doctest_examples(">>> 1 < to_cents('2')\n") == (Example("1 < to_cents('2')", None, 0, "doctest"),)


def test_inline_comments_are_not_part_of_the_value():
    assert _one('to_cents("1.50") == 150  # rounds down') == (Example('to_cents("1.50")', "150", 7, "equals"),)
    assert _one('to_cents("#1") == 100') == (Example('to_cents("#1")', "100", 7, "equals"),)
    found = doctest_examples(">>> to_cents('5')  # five\n500  # cents\n>>> show('#')\n# printed\n")
    assert found == (Example("to_cents('5')", "500", 0, "doctest"), Example("show('#')", "# printed", 2, "doctest"))


def test_docstrings_read_every_form_and_only_the_documented_function():
    doc = """Dollars to cents.

    Examples: to_cents("1.50") == 150, to_cents("-2") == -200
    round_half(1.5) == 2
    The text -> an int, e.g. to_cents("7") returns 700

    >>> to_cents("1")
    100
    """
    found = doctest_examples(doc, 10, "to_cents")
    assert [(e.call, e.expected, e.line) for e in found] == [
        ('to_cents("1.50")', "150", 12), ('to_cents("-2")', "-200", 12), ('to_cents("7")', "700", 14),
        ('to_cents("1")', "100", 16)]


def test_generator_reading_is_unchanged_by_the_new_forms():
    # the offline test generator keeps its own, narrower reading (its suites must not change)
    assert docstring_call_examples('to_cents("2") should return 200\n', 1, {"to_cents"}) == []


def test_intents_json_lists_the_parsed_examples(tmp_path):
    import json
    import subprocess
    import sys

    (tmp_path / "money.py").write_text(
        "# Examples: to_cents(\"1.50\") == 150, to_cents(\"-2\") == -200\n"
        "def to_cents(text: str) -> int:\n"
        '    """Dollars as text to cents.\n\n'
        "    Input: \"3\"\n    Output: 300\n"
        "    to_cents(\"0.5\") \u279e 50  # half\n"
        '    """\n'
        "    raise NotImplementedError\n")
    res = subprocess.run([sys.executable, "-m", "codeloop", "intents", "--json", "money.py"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    (intent,) = [d for d in data if d["kind"] == "implement"]
    assert [(e["call"], e["expected"], e["style"]) for e in intent["examples"]] == [
        ('to_cents("3")', "300", "arrow"), ('to_cents("0.5")', "50", "arrow"),
        ('to_cents("1.50")', "150", "equals"), ('to_cents("-2")', "-200", "equals")]
