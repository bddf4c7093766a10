"""Coverage in the sandbox traces only while workspace code can run (conftests, collection,
test setup/call/teardown); what it reports must equal what ``coverage run -m pytest``
reports for the same tests: lines and branches, code run at import time, in a fixture's
teardown and in a thread the test starts. Cold runs and the warm pool both."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from codeloop_sandbox import Policy, WarmPool, run_pytest

pytestmark = pytest.mark.usefixtures("needs_bwrap")
P = Policy(timeout=60, allow_levels=("A", "B"), env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})

CALC = '''import threading

LIMIT = 10 if threading else 5


def clamp(x, lo, hi):
    if x > hi:
        return hi
    if x < lo:
        return lo
    return x


class Acc:
    def __init__(self):
        self.total = 0

    def add(self, v):
        for _ in range(v):
            self.total += 1
        return self.total


def in_thread():
    out = []
    t = threading.Thread(target=lambda: out.append(clamp(50, 0, 10)))
    t.start()
    t.join()
    return out


def unused(y):
    if y:
        return 1
    return 2
'''
CONFTEST = '''import pytest
from pkg.calc import Acc


@pytest.fixture
def acc():
    a = Acc()
    yield a
    if a.total > 2:
        a.total = 0
'''
TESTS = '''import pytest
from pkg.calc import clamp, in_thread


@pytest.mark.parametrize("x", [-1, 5])
def test_clamp(x):
    assert 0 <= clamp(x, 0, 10) <= 10


def test_acc(acc):
    assert acc.add(3) == 3


def test_thread():
    assert in_thread() == [10]


def test_fail():
    assert clamp(1, 0, 10) == 2
'''
KEYS = ("executed_lines", "missing_lines", "executed_branches", "missing_branches")


def reference(root, tmp_path) -> dict:
    """``coverage run --branch -m pytest`` outside the sandbox: file -> KEYS."""
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "COVERAGE_FILE": str(tmp_path / "ref.data")}
    out = tmp_path / "ref.json"
    subprocess.run([sys.executable, "-m", "coverage", "run", "--branch", f"--source={root}", "-m", "pytest", "-q",
                    "-p", "no:cacheprovider"], cwd=root, env=env, capture_output=True, check=False)
    subprocess.run([sys.executable, "-m", "coverage", "json", "-o", str(out)], cwd=root, env=env, check=True,
                   capture_output=True)
    files = json.loads(out.read_text())["files"]
    return {os.path.join(root, f): {k: v[k] for k in KEYS} for f, v in files.items()}


def test_windows_measure_what_coverage_run_measures(write_tree, tmp_path):
    root = tmp_path / "ws"
    write_tree(root, {"pkg/__init__.py": "", "pkg/calc.py": CALC, "tests/conftest.py": CONFTEST,
                      "tests/test_calc.py": TESTS})
    want = reference(str(root), tmp_path)
    assert want[str(root / "pkg/calc.py")]["executed_branches"]  # the reference measured branches
    cold = run_pytest(root, ["-q"], P, coverage=True)
    with WarmPool(root, P) as pool:
        warm = [run_pytest(root, ["-q"], P, coverage=True, pool=pool) for _ in range(2)]
    for res in (cold, *warm):
        assert res.result.exit_code == 1 and len(res.tests) == 5, res.result.stdout[-800:]
        got = {f: {k: v[k] for k in KEYS} for f, v in res.coverage["files"].items()}
        assert got == want
