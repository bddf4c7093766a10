"""Static analysis of a subject module: literals, parameter usage, examples (no execution)."""

from __future__ import annotations

import textwrap

from codeloop.generate.offline.analysis import analyze_module

SOURCE = textwrap.dedent('''
    """Module doc.

    >>> double(2)
    4
    """


    def double(x):
        return x * 2


    def grade(score: int, name: str = "x") -> str:
        """Grade a score.

        >>> grade(95)
        'A'
        >>> grade(10)  # doctest: +SKIP
        'F'
        grade(70) == 'C'
        """
        if score > 90:
            return "A"
        if name.startswith("pre_") and score in (50, 60):
            return "B"
        return {"low": "F"}.get(name[:3], "C")


    # shout("hi") -> "HI"
    def shout(text, times=1, func=None):
        if func:
            text = func(text)
        for _ in range(times):
            text = text.upper()
        return text + "!" * len(text)


    class Box:
        def __init__(self, size: int):
            self.size = size

        def fits(self, other) -> bool:
            """Box(3).fits(2) -> True"""
            return other <= self.size
''')


def test_literals_come_from_comparisons_membership_and_string_tests():
    info = analyze_module(SOURCE).callables["grade"]
    assert 90 in info.literals["int"]
    assert {50, 60} <= set(info.literals["int"])
    assert "pre_" in info.literals["str"]
    assert "low" in info.literals["str"]
    assert 3 in info.literals["int"]  # slice bound
    assert "x" in info.literals["str"]  # default value


def test_usage_kinds_for_untyped_parameters():
    info = analyze_module(SOURCE).callables["shout"]
    assert "str" in info.usage["text"]
    assert "callable" in info.usage["func"]
    assert "int" in info.usage["times"]
    assert info.params == ["text", "times", "func"]
    assert not info.annotated


def test_doctest_examples_with_lines_and_skip_honoured():
    info = analyze_module(SOURCE).callables["grade"]
    doctests = [e for e in info.examples if e.style == "doctest"]
    assert [(e.call, e.expected) for e in doctests] == [("grade(95)", "'A'")]
    lines = SOURCE.splitlines()
    assert lines[doctests[0].line - 1].strip() == ">>> grade(95)"


def test_equals_and_arrow_examples_in_docstrings_and_comments():
    mod = analyze_module(SOURCE)
    shout = mod.callables["shout"].examples
    assert [(e.call, e.expected, e.style) for e in shout] == [('shout("hi")', '"HI"', "arrow")]
    fits = mod.callables["Box.fits"].examples
    assert [(e.call, e.expected) for e in fits] == [("Box(3).fits(2)", "True")]
    assert mod.callables["double"].examples[0].call == "double(2)"  # from the module docstring


def test_methods_drop_self_and_classes_use_init_parameters():
    mod = analyze_module(SOURCE)
    assert mod.callables["Box"].params == ["size"]
    assert mod.callables["Box.fits"].params == ["other"]
    assert mod.callables["Box.fits"].kind == "method"


def test_raises_documentation_is_detected():
    src = 'def f(x: int) -> int:\n    """Raises ValueError when x is negative."""\n    return x\n'
    info = analyze_module(src).callables["f"]
    assert info.documents_raising
    assert info.doc_raises == ["ValueError"]
    assert info.annotated


def test_stubs_are_recognised():
    src = textwrap.dedent('''
        def a(x):
            """Doc."""
            ...

        def b(x):
            raise NotImplementedError("later")

        def c(x):
            pass

        def d(x):
            return x
    ''')
    info = analyze_module(src).callables
    assert [info[n].is_stub for n in "abcd"] == [True, True, True, False]


def test_facts_that_shape_inputs_across_functions():
    src = '''
import re

PERIOD = re.compile(r"^(?P<sign>[+-])?P(?P<days>[0-9]+D)?$")


def _check(lat, lon):
    if lat > 90 or lon < -180:
        raise ValueError("out of range")


def distance(point, other):
    lat, lon = point
    _check(lat, lon)
    return lat


class Spec:
    def __init__(self, schema):
        self._schema = schema


def priority(s):
    if type(s) in (list, tuple):
        return 1
    if isinstance(s, dict) or callable(s):
        return 2
    return 0
'''
    info = analyze_module(src)
    # a compiled pattern at module level (re.compile is a method call on `re`)
    assert info.module_literals["regex"] == [r"^(?P<sign>[+-])?P(?P<days>[0-9]+D)?$"]
    # unpacked into two names; the helper's comparison constants lent to its caller
    dist = info.callables["distance"]
    assert "tuple:2" in dist.usage["point"]
    assert 90 in dist.literals["int"] and -180 in dist.literals["int"]
    assert info.checked_types == ["list", "tuple", "dict", "callable"]
    assert info.callables["Spec"].usage["schema"] == ["stored"]  # kept for the methods


def test_duck_typed_parameters_name_the_classes_that_fit():
    src = '''
class Stream:
    def __init__(self, source):
        self.error = ValueError
        self.items = source.split()

    def move(self):
        return self.items.pop(0)


class Option:
    def __init__(self, long=None):
        self.long = long


class LongOption(Option):
    pass


def parse(tokens, options):
    token = tokens.move()
    similar = [o for o in options if o.long == token]
    if not similar:
        raise tokens.error(token)
    return similar
'''
    usage = analyze_module(src).callables["parse"].usage
    assert "type:Stream" in usage["tokens"]  # has move() and error
    assert usage["options"][:2] == ["items:LongOption", "items:Option"] or set(usage["options"][:2]) == {
        "items:Option", "items:LongOption"}  # items with .long (inherited counts)
