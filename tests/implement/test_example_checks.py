"""Examples -> pytest checks, run against small modules, and results mapped back."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

from codeloop.verify.examples import ExampleResult, build_example_tests, map_results, summarize
from codeloop.verify.examples import test_name_for as name_for
from codeloop.workspace.model import Example
from codeloop_sandbox import TestOutcome

MODULE = '''\
import asyncio


class Cart:
    def __init__(self):
        self.items = []

    def add(self, n):
        self.items.append(n)

    def total(self):
        return sum(self.items)


def area(w, h=1.0):
    return w * h


def third(x):
    return x / 3


def parse(s):
    if not s:
        raise ValueError("empty")
    return s.split(",")


def shout(s):
    print(s.upper())


async def later(n):
    await asyncio.sleep(0)
    return n + 1


def wrong(x):
    return x + 1
'''


def run_examples(tmp_path, examples):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "shapes.py").write_text(MODULE)
    tests = build_example_tests(examples, "pkg.shapes", str(tmp_path), title="shapes")
    (tmp_path / tests.path).write_text(tests.source)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", tests.path],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "400"},
    )
    outcomes = []
    for m in re.finditer(r"^(\S+::(\w+)) (PASSED|FAILED|ERROR)", proc.stdout, re.M):
        msg = ""
        fail = re.search(rf"^FAILED {re.escape(m.group(1))} - (.*)$", proc.stdout, re.M)
        if fail:
            msg = fail.group(1)
        outcomes.append(TestOutcome(nodeid=m.group(1), outcome=m.group(3).lower(), message=msg))
    return tests, map_results(tests, outcomes), proc.stdout


def ex(call, expected, line, style="doctest"):
    return Example(call, expected, line, style)


def test_passing_examples_of_every_style(tmp_path):
    examples = [
        ex("area(2, 3)", "6", 3),
        ex("area(2, 3)", "6.0", 4, "arrow"),
        ex("area(1.5)", "1.5", 5, "equals"),
        ex("third(1)", "0.333333", 6, "arrow"),  # numbers within approx
        ex("parse('a,b')", "['a', 'b']", 7),
        ex("parse('')", "Traceback (most recent call last):\n  ...\nValueError: empty", 8),
        ex("parse('')", "ValueError", 9, "arrow"),
        ex("parse('')", "raises ValueError", 10, "arrow"),
        ex("shout('hi')", "HI", 11),
        ex("later(1)", "2", 12),
        ex("area", None, 13, "doctest"),  # an expression with no output: must print nothing... (a function repr is output)
    ]
    tests, results, out = run_examples(tmp_path, examples[:-1])
    assert all(r.passed for r in results), out
    assert summarize(results) == "10/10 examples"
    assert [r.test_name for r in results][:2] == ["test_example_line_4", "test_example_line_5"]


def test_doctest_setup_lines_are_replayed(tmp_path):
    examples = [
        ex("cart = Cart()", None, 20),
        ex("cart.add(2)", None, 21),
        ex("cart.add(3)", None, 22),
        ex("cart.total()", "5", 23),
    ]
    tests, results, out = run_examples(tmp_path, examples)
    # The assignment is setup only; the two add() calls are checks (return None) and setup.
    assert [r.test_name for r in results] == ["test_example_line_22", "test_example_line_23", "test_example_line_24"]
    assert all(r.passed for r in results), out


def test_failing_examples_say_what_happened(tmp_path):
    examples = [
        ex("wrong(1)", "1", 30),
        ex("area(2, 2)", "ValueError", 31, "arrow"),
        ex("area(2, 2)", None, 32),
        ex("wrong(1)", "2", 33, "equals"),
    ]
    tests, results, out = run_examples(tmp_path, examples)
    assert [r.passed for r in results] == [False, False, False, True], out
    assert results[0].message == "example at line 31: wrong(1) returned 2, expected 1"
    assert results[1].message == "example at line 32: area(2, 2) returned 4, expected it to raise ValueError"
    assert results[2].message == "example at line 33: area(2, 2) returned 4, expected no output"
    assert summarize(results) == "1/4 examples"


def test_missing_outcomes_report_the_error():
    tests = build_example_tests([ex("f(1)", "2", 0)], "m", "/ws")
    results = map_results(tests, [], errors=["ImportError while importing test module: boom\nmore"])
    assert results == [
        ExampleResult(tests.tests[0][1], "test_example_line_1", False, "missing",
                      "ImportError while importing test module: boom", "ImportError while importing test module: boom\nmore")
    ]


def test_outcomes_of_other_files_are_ignored():
    tests = build_example_tests([ex("f(1)", "2", 0)], "m", "/ws")
    other = TestOutcome(nodeid="tests/test_other.py::test_example_line_1", outcome="passed")
    mine = TestOutcome(nodeid="test_codeloop_examples.py::test_example_line_1", outcome="failed",
                       message="AssertionError: example at line 1: f(1) returned 3, expected 2")
    (result,) = map_results(tests, [other, mine])
    assert not result.passed and result.message == "example at line 1: f(1) returned 3, expected 2"


def test_repeated_lines_get_distinct_names():
    assert name_for(ex("f(1)", "1", 4), ["test_example_line_5"]) == "test_example_line_5_2"
    tests = build_example_tests([ex("f(1)", "1", 4, "arrow"), ex("f(2)", "2", 4, "arrow")], "m", "/ws")
    assert [n for n, _ in tests.tests] == ["test_example_line_5", "test_example_line_5_2"]


def test_generated_file_is_valid_python():
    import ast

    tests = build_example_tests([ex("f('''x''')", "'x'", 0)], "pkg.mod", "/some/root")
    ast.parse(tests.source)
    assert "'/some/root'" in tests.source and "'pkg.mod'" in tests.source
    assert textwrap.dedent(tests.source).startswith("# Generated by codeloop")


def test_an_endless_example_fails_alone(tmp_path):
    pkg = tmp_path / "loop"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "m.py").write_text("def spin(n):\n    while n:\n        pass\n    return n\n")
    tests = build_example_tests([ex("spin(1)", "1", 0), ex("spin(0)", "0", 1)], "loop.m", str(tmp_path), seconds=1)
    (tmp_path / tests.path).write_text(tests.source)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", tests.path],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "example at line 1: spin(1) did not finish within 1 s" in proc.stdout
    assert "1 failed, 1 passed" in proc.stdout


def test_a_truth_without_output_must_hold(tmp_path):
    # ">>> f(x) == y" with no output line: a statement that must be true, not "prints nothing"
    examples = [
        ex("wrong(1) == 2", None, 40),
        ex("wrong(1) == 3", None, 41),
        ex("parse('') == []", None, 42),
        ex("area(2, 2) > 3", None, 43),
    ]
    tests, results, out = run_examples(tmp_path, examples)
    assert [r.passed for r in results] == [True, False, False, True], out
    assert results[1].message == "example at line 42: wrong(1) == 3: got 2"
    assert results[2].message == "example at line 43: parse('') == []: raised ValueError: empty"


def test_parsed_truths_and_comment_values_pass_and_fail_as_written(tmp_path):
    from codeloop.workspace.examples import comment_examples, doctest_examples

    examples = [
        *doctest_examples(">>> wrong(1) == 2\n>>> area(2, 3)  # w times h\n6  # six\n", 50),
        *comment_examples([(60, "wrong(2) == 3  # one more"), (61, "Examples: wrong(5) == 6, wrong(-2) == -2")],
                          "wrong"),
    ]
    assert [(e.call, e.expected) for e in examples] == [
        ("wrong(1)", "2"), ("area(2, 3)", "6"), ("wrong(2)", "3"), ("wrong(5)", "6"), ("wrong(-2)", "-2")]
    tests, results, out = run_examples(tmp_path, examples)
    assert [r.passed for r in results] == [True, True, True, True, False], out
    # the evidence quotes the example as written, and what the candidate gave
    assert results[-1].message == "example at line 62: wrong(-2) == -2: got -1"
