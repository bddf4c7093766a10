"""run_pytest(): per-test outcomes, frames at original paths, coverage, extra files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codeloop_sandbox import Policy, run_pytest

pytestmark = pytest.mark.usefixtures("needs_bwrap")
P = Policy(timeout=60, allow_levels=("A", "B"), env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})

CALC = '''def div(a, b):
    if b == 0:
        raise ZeroDivisionError("b is zero")
    return a / b


def sign(x):
    if x < 0:
        return -1
    return 1
'''

TESTS = '''import pytest
from pkg.calc import div

def test_ok():
    assert div(4, 2) == 2

def test_fail():
    assert div(1, 1) == 2, "one over one"

def test_err():
    div(1, 0)

@pytest.mark.skip(reason="nope")
def test_skip():
    pass

@pytest.mark.xfail
def test_xf():
    assert 0

@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")

def test_setup_err(broken):
    pass
'''


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "calc.py").write_text(CALC)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text(TESTS)
    return tmp_path


def snapshot(root):
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            out[p] = Path(p).read_bytes()
    return out


def test_outcomes_frames_and_coverage(project):
    before = snapshot(project)
    res = run_pytest(project, policy=P, coverage=True)
    assert res.result.exit_code == 1, res.result.stderr
    assert res.collected == 6 and res.errors == []
    by = {t.nodeid.split("::")[1]: t for t in res.tests}
    assert {k: v.outcome for k, v in by.items()} == {
        "test_ok": "passed",
        "test_fail": "failed",
        "test_err": "failed",
        "test_skip": "skipped",
        "test_xf": "xfailed",
        "test_setup_err": "error",
    }
    assert "one over one" in by["test_fail"].message
    err = by["test_err"]
    assert "ZeroDivisionError: b is zero" in err.message
    assert [(f.path, f.line, f.function) for f in err.frames] == [
        (str(project / "tests" / "test_calc.py"), 11, "test_err"),
        (str(project / "pkg" / "calc.py"), 3, "div"),
    ]
    assert by["test_fail"].path == str(project / "tests" / "test_calc.py") and by["test_fail"].line == 7
    cov = res.coverage
    assert cov is not None and cov["meta"]["branch_coverage"] is True
    calc = cov["files"][str(project / "pkg" / "calc.py")]
    assert 3 in calc["executed_lines"] and 8 in calc["missing_lines"]
    assert calc["missing_branches"]  # sign() never ran
    assert all(os.path.isabs(k) and k.startswith(str(project)) for k in cov["files"])
    assert snapshot(project) == before  # no .pytest_cache, no __pycache__, no .coverage


def test_extra_files_and_cov_source(project):
    gen = "from pkg.calc import sign\n\ndef test_neg():\n    assert sign(-3) == -1\n"
    res = run_pytest(project, ["tests/test_gen.py"], P, coverage=True, cov_source=["pkg"],
                     extra_files={"tests/test_gen.py": gen})
    assert res.result.exit_code == 0, res.result.stdout + res.result.stderr
    assert [(t.nodeid, t.outcome) for t in res.tests] == [("tests/test_gen.py::test_neg", "passed")]
    assert not (project / "tests" / "test_gen.py").exists()
    files = res.coverage["files"]
    assert set(files) <= {str(project / "pkg" / "calc.py"), str(project / "pkg" / "__init__.py")}
    assert 9 in files[str(project / "pkg" / "calc.py")]["executed_lines"]


def test_collection_error(project):
    (project / "tests" / "test_broken.py").write_text("import nonexistent_module_xyz\n")
    res = run_pytest(project, ["tests/test_broken.py"], P)
    assert res.result.exit_code == 2
    assert res.errors and "nonexistent_module_xyz" in res.errors[0]
    assert res.tests == []


def test_timeout_keeps_finished_results(project):
    (project / "tests" / "test_slow.py").write_text("import time\n\ndef test_a():\n    pass\n\ndef test_b():\n    time.sleep(60)\n")
    res = run_pytest(project, ["tests/test_slow.py"], Policy(timeout=5, allow_levels=("A", "B"), env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}))
    assert res.result.timed_out
    assert [(t.nodeid, t.outcome) for t in res.tests] == [("tests/test_slow.py::test_a", "passed")]
