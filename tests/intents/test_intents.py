"""Intent detection on small sources: every kind and the awkward cases."""

from __future__ import annotations

import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from codeloop.workspace.document import Document
from codeloop.workspace.examples import comment_examples, doctest_examples
from codeloop.workspace.intents import IntentLines, find_intents, intents_at
from codeloop.workspace.model import Example, Param, Span
from codeloop.workspace.syntax import syntax_issues


def intents(src: str, tested=None, uri="file:///w/pkg/mod.py", kind=None):
    doc = Document(uri, textwrap.dedent(src))
    found = find_intents(doc, tested)
    return [i for i in found if kind is None or i.kind == kind]


def names(found):
    return [(i.kind, i.name) for i in found]


# -- implement ----------------------------------------------------------------------------


def test_implement_stub_kinds():
    src = """
    def a():
        ...

    def b():
        pass

    def c():
        raise NotImplementedError("later")

    def d():
        raise NotImplementedError

    def e():
        \"\"\"Only a docstring.\"\"\"

    def f():
        \"\"\"Docstring then pass.\"\"\"
        pass

    def real():
        return 1

    def mixed():
        pass
        return 2
    """
    assert [i.name for i in intents(src, kind="implement")] == ["a", "b", "c", "d", "e", "f"]


def test_implement_extracts_signature_docstring_examples_and_comment():
    src = '''
    import functools

    # Uses the shoelace formula.
    # polygon_area([(0, 0), (1, 0), (0, 1)]) == 0.5
    @functools.cache
    def polygon_area(points: list[tuple[float, float]], *, absolute: bool = True) -> float:
        """Area of a simple polygon.

        >>> polygon_area([(0, 0), (2, 0), (2, 2), (0, 2)])
        4.0
        >>> polygon_area(
        ...     [(0, 0), (1, 0), (0, 1)])
        0.5
        """
        ...
    '''
    (it,) = intents(src, kind="implement")
    assert it.name == "polygon_area"
    assert it.signature == (
        "def polygon_area(points: list[tuple[float, float]], *, absolute: bool = True) -> float"
    )
    assert it.returns == "float"
    assert it.params == (
        Param("points", "list[tuple[float, float]]", None, "positional"),
        Param("absolute", "bool", "True", "keyword_only"),
    )
    assert it.decorators == ("@functools.cache",)
    assert it.docstring.startswith("Area of a simple polygon.\n\n>>> polygon_area(")
    assert it.comment == "Uses the shoelace formula.\npolygon_area([(0, 0), (1, 0), (0, 1)]) == 0.5"
    # span starts at the first decorator (line 5, 0-based 5 after the dedent's leading newline)
    assert it.span.start_line == 5
    assert it.comment_span.start_line == 3 and it.comment_span.end_line == 4
    assert it.body_span is not None and it.body_span.start_line == 7
    calls = [(e.call, e.expected, e.style, e.line) for e in it.examples]
    assert calls == [
        ("polygon_area([(0, 0), (2, 0), (2, 2), (0, 2)])", "4.0", "doctest", 9),
        ("polygon_area(\n    [(0, 0), (1, 0), (0, 1)])", "0.5", "doctest", 11),
        ("polygon_area([(0, 0), (1, 0), (0, 1)])", "0.5", "equals", 4),
    ]


def test_async_function_and_methods_and_nested_classes():
    src = """
    class Outer:
        class Inner:
            async def fetch(self, url: str) -> bytes:
                raise NotImplementedError()

            @staticmethod
            def helper(x):
                ...

        def done(self):
            return 1
    """
    found = intents(src, kind="implement")
    assert [i.name for i in found] == ["Outer.Inner.fetch", "Outer.Inner.helper"]
    fetch, helper = found
    assert fetch.is_async and fetch.is_method and fetch.class_name == "Outer.Inner"
    assert fetch.signature == "async def fetch(self, url: str) -> bytes"
    assert helper.decorators == ("@staticmethod",)
    assert helper.span.start_line == 6  # the decorator line


def test_overload_abstract_and_nested_functions_are_not_stubs():
    src = """
    import abc
    from typing import overload

    @overload
    def f(x: int) -> int: ...

    class Base(abc.ABC):
        @abc.abstractmethod
        def run(self):
            raise NotImplementedError

    def outer():
        def inner():
            pass
        return inner
    """
    assert intents(src, kind="implement") == []


def test_unicode_identifiers_and_columns():
    src = """
    x = "😀"; y = 1
    def größe(länge: float) -> float:
        \"\"\"Fläche.\"\"\"
        ...
    """
    (it,) = intents(src, kind="implement")
    assert it.name == "größe"
    assert it.params[0].name == "länge"
    assert it.span.start_line == 2 and it.span.start_col == 0


def test_syntax_errors_elsewhere_do_not_hide_intents():
    src = """
    def ok():
        ...

    def broken(:
        pass

    x = (1,

    def later():
        pass
    """
    doc = Document("file:///w/m.py", textwrap.dedent(src))
    found = find_intents(doc)
    assert ("implement", "ok") in names(found)
    issues = syntax_issues(doc)
    assert issues, "syntax errors are reported"
    assert all(i.message.startswith("syntax error") for i in issues)


def test_syntax_issue_messages():
    doc = Document("file:///w/m.py", "def f(:\n    pass\n")
    (issue,) = syntax_issues(doc)
    assert issue.message == "syntax error: missing ')'"
    assert (issue.span.start_line, issue.span.start_col) == (0, 6)
    doc = Document("file:///w/m.py", "def g():\nreturn 1\n")
    assert [i.message for i in syntax_issues(doc)] == ["syntax error: expected an indented block"]
    doc = Document("file:///w/m.py", "x = 1 +* 2 $\n")
    msgs = [i.message for i in syntax_issues(doc)]
    assert any(m.startswith("syntax error: unexpected '") for m in msgs)
    assert syntax_issues(Document("file:///w/m.py", "x = 1\n")) == []


# -- from_comment -------------------------------------------------------------------------


def test_from_comment_block_with_examples():
    src = """
    import math

    # fizzbuzz(n) returns "Fizz" for multiples of three and "Buzz" for five.
    # fizzbuzz(3) == "Fizz"
    # fizzbuzz(5) -> "Buzz"
    # >>> fizzbuzz(15)
    # 'FizzBuzz'

    def other():
        return 1
    """
    (it,) = intents(src, kind="from_comment")
    assert it.name == "fizzbuzz"
    assert it.span.start_line == 3 and it.span.end_line == 7
    assert [(e.call, e.expected, e.style) for e in it.examples] == [
        ("fizzbuzz(3)", '"Fizz"', "equals"),
        ("fizzbuzz(5)", '"Buzz"', "arrow"),
        ("fizzbuzz(15)", "'FizzBuzz'", "doctest"),
    ]
    assert it.summary.endswith("(3 examples)")
    assert it.comment.splitlines()[0].startswith("fizzbuzz(n) returns")


def test_from_comment_at_end_of_file_and_title_without_examples():
    src = "x = 1\n\n# Parse a duration such as 3h20m into seconds and reject garbage"
    (it,) = intents(src, kind="from_comment")
    assert it.name.startswith("Parse a duration")
    assert it.examples == ()


def test_from_comment_in_class_body():
    src = """
    class Stack:
        # Push a value and return the new size, e.g. push(3) == 1

        def pop(self):
            return 1
    """
    (it,) = intents(src, kind="from_comment")
    assert it.name == "push" and it.is_method and it.class_name == "Stack"
    assert it.extra["indent"] == "    "


def test_comments_that_are_not_intents():
    src = """
    #!/usr/bin/env python3
    # -*- coding: utf-8 -*-
    # Copyright 2026 Example Corp. Licensed under MIT.

    # Helpers

    # x = compute(1)
    # print(x)

    # type: ignore

    # Attached to the function below, so not a block of its own
    def f():
        # inside a function body, describing nothing to write here

        return 1

    # TODO: a todo block is a todo, not code to write
    """
    assert intents(src, kind="from_comment") == []


def test_comment_example_forms():
    rows = list(
        enumerate(
            [
                "- double(2) == 4",
                "e.g. `triple(2) -> 6`",
                ">>> add(1,",
                "...     2)",
                "3",
                "just prose (with parens) here",
                "square(3) returns 9",
                "f(x) returns a value for every x",
            ]
        )
    )
    got = [(e.call, e.expected, e.style, e.line) for e in comment_examples(rows)]
    assert got == [
        ("double(2)", "4", "equals", 0),
        ("triple(2)", "6", "arrow", 1),
        ("add(1,\n2)", "3", "doctest", 2),
        ("square(3)", "9", "arrow", 6),
    ]


def test_doctest_examples_line_numbers():
    doc = "Sum.\n\n    >>> total([1, 2])\n    3\n    >>> total([])\n    0\n"
    assert doctest_examples(doc, 10) == (
        Example("total([1, 2])", "3", 12, "doctest"),
        Example("total([])", "0", 14, "doctest"),
    )
    assert doctest_examples("no examples", 0) == ()


# -- generate_tests -----------------------------------------------------------------------


def test_generate_tests_functions_and_public_methods():
    src = """
    def top(): return 1
    def _private(): return 1
    async def fetch(): return 1

    class Shape:
        def __init__(self): pass
        def area(self): return 1
        def _hidden(self): return 1
        class Inner:
            def method(self): return 2

    class _Internal:
        def visible(self): return 3

    def outer():
        def nested(): return 1
        return nested
    """
    found = intents(src, tested=frozenset({"top", "area"}), kind="generate_tests")
    assert [(i.name, i.untested) for i in found] == [
        ("top", False),
        ("fetch", True),
        ("Shape.area", False),
        ("Shape.Inner.method", True),
        ("outer", True),
    ]
    assert "(untested)" in found[1].summary and "(untested)" not in found[0].summary
    assert found[1].is_async


def test_generate_tests_unknown_test_names_marks_nothing_untested():
    assert all(not i.untested for i in intents("def f(): return 1\n", kind="generate_tests"))


def test_no_generate_tests_in_test_files_or_for_tests():
    src = "def test_x():\n    assert 1\n\ndef helper():\n    return 1\n"
    assert intents(src, uri="file:///w/tests/test_mod.py", kind="generate_tests") == []
    assert intents(src, uri="file:///w/tests/mod_test.py", kind="generate_tests") == []
    assert [i.name for i in intents(src, kind="generate_tests")] == ["helper"]


# -- todo ---------------------------------------------------------------------------------


def test_todo_and_fixme_anywhere():
    src = """
    # TODO: top level
    def f():
        x = 1  # FIXME(ann): trailing
        # TODO
        return x
    class C:
        # todo in lower case is not a marker
        pass
    """
    found = intents(src, kind="todo")
    assert [(i.name, i.summary, i.span.start_line) for i in found] == [
        ("TODO", "top level", 1),
        ("FIXME", "trailing", 3),
        ("TODO", "TODO", 4),
    ]
    assert found[1].span.start_col == 11


# -- intents_at ---------------------------------------------------------------------------


def test_intents_at_counts_def_lines_and_comment_above():
    src = """
    # Compute it.
    @decorator
    def f(x):
        ...

    def g():
        return 1
    """
    found = intents(src)
    assert names(intents_at(found, 1, 1)) == [("implement", "f"), ("generate_tests", "f")]  # comment
    assert names(intents_at(found, 2, 2)) == [("implement", "f"), ("generate_tests", "f")]  # decorator
    assert names(intents_at(found, 4, 4)) == [("implement", "f"), ("generate_tests", "f")]  # body
    assert names(intents_at(found, 5, 5)) == []
    assert names(intents_at(found, 6, 7)) == [("generate_tests", "g")]



def _span(first: int, length: int) -> Span:
    return Span(first, 0, first + length, 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 25), st.one_of(st.none(), st.integers(1, 4))),
                max_size=30),
       st.integers(0, 90), st.integers(0, 8))
def test_intent_lines_finds_what_intents_at_finds(shapes, first, length):
    """The server's lookup by line over a cached list (IntentLines) against the plain filter:
    nested spans (methods in classes), comment blocks above, any range."""
    from dataclasses import replace

    doc = Document("file:///w/m.py", "def f():\n    ...\n")
    base = find_intents(doc, None)[0]
    intents = [replace(base, name=f"f{i}", span=_span(start, size),
                       comment_span=None if above is None else _span(max(start - above, 0), above - 1))
               for i, (start, size, above) in enumerate(shapes)]
    intents.sort(key=lambda it: it.span.start_line)
    assert IntentLines(intents).at(first, first + length) == intents_at(intents, first, first + length)


def test_intent_lines_on_a_real_file():
    from pathlib import Path

    demo = Path(__file__).resolve().parents[2] / "examples" / "demo" / "shapes" / "geometry.py"
    doc = Document("file:///w/geometry.py", demo.read_text(encoding="utf-8"))
    full = find_intents(doc, frozenset({"rectangle_area"}))
    by_line = IntentLines(full)
    assert len(full) > 5
    for first in range(doc.line_count + 1):
        for last in (first, first + 3):
            assert by_line.at(first, last) == intents_at(full, first, last), (first, last)


def test_ranged_find_intents_equals_filtered_full_result():
    from pathlib import Path

    demo = Path(__file__).resolve().parents[2] / "examples" / "demo" / "shapes" / "geometry.py"
    extra = textwrap.dedent(
        """
        class K:
            # Describe push, e.g. push(1) == 1

            # above a decorated method
            # second line
            @property
            @other
            def value(self):
                ...  # TODO: soon

        # trailing block at the end
        # with two lines
        """
    )
    doc = Document("file:///w/geometry.py", demo.read_text(encoding="utf-8") + extra)
    tested = frozenset({"rectangle_area"})
    full = find_intents(doc, tested)
    for first in range(doc.line_count + 1):
        for last in (first, first + 1, first + 4):
            assert find_intents(doc, tested, lines=(first, last)) == intents_at(full, first, last), (first, last)


def test_cached_function_intents_follow_edits():
    from pathlib import Path

    from codeloop.workspace.model import Span

    demo = Path(__file__).resolve().parents[2] / "examples" / "demo" / "shapes" / "geometry.py"
    doc = Document("file:///w/geometry.py", demo.read_text(encoding="utf-8"), 1)
    tested = frozenset({"rectangle_area", "clamp"})
    find_intents(doc, tested)
    edits = [
        (Span(0, 0, 0, 0), "# header\n\n"),  # everything moves down two lines
        (Span(30, 0, 30, 0), "    # a comment inside clamp\n"),
        (Span(10, 0, 11, 0), ""),  # delete a line inside rectangle_area's docstring
        (Span(5, 0, 5, 0), "def new_stub():\n    ...\n\n\n"),
    ]
    for version, change in enumerate(edits, 2):
        doc.apply_changes([change], version)
        fresh = find_intents(Document(doc.uri, doc.text), tested)
        assert find_intents(doc, tested) == fresh
        assert find_intents(doc, None) == find_intents(Document(doc.uri, doc.text), None)
        assert find_intents(doc, tested, lines=(20, 40)) == intents_at(fresh, 20, 40)
