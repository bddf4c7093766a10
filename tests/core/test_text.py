"""codeloop.text.first_line: the one 'first line of a message' helper."""

from __future__ import annotations

from codeloop.text import first_line


def test_first_non_blank_line_stripped():
    assert first_line("\n  \n  E   AssertionError: boom  \nmore") == "E   AssertionError: boom"
    assert first_line("") == "" and first_line(None) == "" and first_line("  \n ") == ""


def test_non_strings_go_through_str():
    assert first_line(ValueError("bad\nvalue")) == "bad"


def test_limit_cuts_with_an_ellipsis():
    assert first_line("abcdefghij", 10) == "abcdefghij"
    assert first_line("abcdefghijk", 10) == "abcdefg..."
