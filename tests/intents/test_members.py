"""Where definitions are in Python source: the member at a line, the line of a member."""

from __future__ import annotations

from codeloop.workspace.members import definition_line, member_at

SOURCE = '''import os


@decorated
def top(x):
    return x


class Box:
    size = 1

    def grow(self):
        return 2

x = 1
'''


def test_the_member_at_a_line_is_the_innermost_definition() -> None:
    assert member_at(SOURCE, 3) == "top"  # the decorator line belongs to the function
    assert member_at(SOURCE, 5) == "top"
    assert member_at(SOURCE, 9) == "Box"  # a class attribute: the class
    assert member_at(SOURCE, 12) == "Box.grow"
    assert member_at(SOURCE, 0) is None and member_at(SOURCE, 14) is None
    assert member_at("def broken(:\n", 0) is None


def test_the_line_of_a_member_or_the_fallback() -> None:
    assert definition_line(SOURCE, "top", 99) == 4  # the def line, past the decorator
    assert definition_line(SOURCE, "Box.grow", 99) == 11
    assert definition_line(SOURCE, "Box.shrink", 7) == 6
    assert definition_line(None, "top", 1) == 0
    assert definition_line("def broken(:\n", "broken", 3) == 2
