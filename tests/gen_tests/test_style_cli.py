"""`codeloop gen-tests` follows the project's test style and writes no test that adds nothing
(end to end through the CLI, the real sandbox)."""

import ast
import json
from pathlib import Path

import pytest

from support.gen_tests import gen_tests, require_level_a, run_generated


@pytest.fixture
def sandbox_ok():
    require_level_a()


# the class both test modules share
COUNTER = '''
class Counter:
    def __init__(self, start: int = 0) -> None:
        self.count = start

    def step(self, by: int = 1) -> int:
        if by <= 0:
            raise ValueError("step must be positive")
        self.count += by
        return self.count
'''

OPS = '''
def clamp(value: int, low: int, high: int) -> int:
    """Clamp value into [low, high]."""
    if value < low:
        return low
    if value > high:
        return high
    return value

''' + COUNTER


def project(root: Path, tests: dict[str, str]) -> Path:
    (root / "calc").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "ops.py").write_text(OPS.lstrip())
    (root / "tests").mkdir()
    for name, text in tests.items():
        (root / "tests" / name).write_text(text.lstrip())
    return root


TESTCASE = '''
import unittest

import calc.ops as ops


class TestClamp(unittest.TestCase):
    def test_inside(self):
        self.assertEqual(ops.clamp(5, 0, 10), 5)
'''


def test_testcase_style_tests_get_a_testcase_class_appended(tmp_path, sandbox_ok):
    root = project(tmp_path, {"test_ops.py": TESTCASE})
    proc = gen_tests("calc/ops.py", "--budget", "8", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "in the style of the existing tests: import ... as ops, unittest.TestCase" in proc.stdout
    text = (root / "tests" / "test_ops.py").read_text()
    assert text.startswith(TESTCASE.lstrip())  # the user's file is appended to, never rewritten
    tree = ast.parse(text)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert [c.name for c in classes] == ["TestClamp", "TestOpsGenerated"]
    assert ast.unparse(classes[1].bases[0]) == "unittest.TestCase"
    methods = [n for n in classes[1].body if isinstance(n, ast.FunctionDef)]
    assert methods and all(m.args.args[0].arg == "self" for m in methods)
    assert "self.assertEqual(ops.clamp(" in text and "self.assertRaisesRegex(ValueError" in text
    assert "assert " not in text.split("class TestOpsGenerated", 1)[1].replace("self.assert", "")
    assert "from calc.ops import" not in text
    res = run_generated(root, "tests/test_ops.py")
    assert res.passed and len(res.tests) == 1 + len(methods), [(r.nodeid, r.outcome) for r in res.tests]


CONFTEST = '''
import pytest

from calc.ops import Counter


@pytest.fixture
def counter():
    return Counter()
'''


def test_a_fixture_that_builds_the_object_is_taken_as_a_parameter(tmp_path, sandbox_ok):
    root = project(tmp_path, {"conftest.py": CONFTEST,
                              "test_clamp.py": "from calc.ops import clamp\n\n\ndef test_inside():\n"
                                               "    assert clamp(5, 0, 10) == 5\n"})
    proc = gen_tests("calc/ops.py", "--budget", "8", cwd=root)
    assert proc.returncode == 0, proc.stderr
    text = (root / "tests" / "test_ops.py").read_text()
    fns = [n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)]
    with_fixture = [f for f in fns if [a.arg for a in f.args.args] == ["counter"]]
    assert with_fixture, text
    for fn in with_fixture:  # the object comes from the fixture, never built again
        assert "Counter(" not in ast.unparse(fn), ast.unparse(fn)
    assert "counter = Counter()" not in text
    assert run_generated(root, "tests/test_ops.py").passed


SIGNS = '''
def sign(x: int) -> int:
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0

''' + COUNTER

SIGN_TESTS = '''
import pytest

from calc.ops import Counter, sign


def test_sign():
    assert sign(5) == 1
    assert sign(1) == 1
    assert sign(-3) == -1
    assert sign(-1) == -1
    assert sign(0) == 0
'''

WEAK = SIGN_TESTS + '''

def test_counter_runs():
    c = Counter()
    c.step()
    with pytest.raises(ValueError):
        c.step(0)
'''

STRONG = SIGN_TESTS + '''

def test_counter():
    c = Counter()
    assert c.step() == 1
    assert c.step(2) == 3
    with pytest.raises(ValueError):
        c.step(0)
'''


def test_mutants_the_users_tests_miss_get_a_test_and_nothing_else_does(tmp_path, sandbox_ok):
    # Every branch is covered, but Counter.step's result is never checked: tests that kill its
    # mutants are written; none for sign, whose mutants the user's tests kill.
    root = project(tmp_path, {"test_ops.py": WEAK})
    (root / "calc" / "ops.py").write_text(SIGNS.lstrip())
    proc = gen_tests("calc/ops.py", "--budget", "10", "--json", cwd=root)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["coverage_before"] == 100.0
    targets = {t["target"] for t in data["tests"]}
    assert targets and targets <= {"Counter.step", "Counter"}, data["tests"]
    assert run_generated(root, "tests/test_ops.py").passed


def test_fully_covered_and_every_mutant_killed_writes_nothing(tmp_path, sandbox_ok):
    root = project(tmp_path, {"test_ops.py": STRONG})
    (root / "calc" / "ops.py").write_text(SIGNS.lstrip())
    proc = gen_tests("calc/ops.py", "--budget", "10", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "already covered by 2 tests:" in proc.stdout, proc.stdout
    assert (root / "tests" / "test_ops.py").read_text() == STRONG.lstrip()
