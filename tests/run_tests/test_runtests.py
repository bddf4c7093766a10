"""The run-tests service selects and runs in the sandbox; run_summary turns the real run into findings."""

from __future__ import annotations

import pytest

from codeloop.services.run_tests import RunTestsRequest, run_tests
from codeloop.verify.run_summary import CODE_ERROR, CODE_FAILED, CODE_RAISED_HERE, RunSummary
from codeloop.workspace.testindex import affected_tests, select_tests
from codeloop_sandbox import Policy

P = Policy(timeout=60, allow_levels=("A", "B"), env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})


def run(root: str, target: str | None = None, current_file: str | None = None) -> RunSummary:
    request = RunTestsRequest(root, targets=[target] if target else [], current_files=[current_file] if current_file else [],
                              policy=P)
    return run_tests(request).summary


@pytest.fixture
def project(tmp_path, write_tree):
    return write_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/calc.py": "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    if x > hi:\n"
                       "        raise ValueError('too big')\n    return x\n",
        "pkg/api.py": "from .calc import clamp\n\ndef safe(x):\n    return clamp(x, 0, 10)\n",
        "pkg/other.py": "X = 1\n",
        "tests/test_calc.py": "from pkg.calc import clamp\n\ndef test_low():\n    assert clamp(-1, 0, 10) == 0\n\n"
                              "def test_high():\n    assert clamp(11, 0, 10) == 10\n",
        "tests/test_api.py": "from pkg import api\n\ndef test_safe():\n    assert api.safe(5) == 5\n",
        "tests/test_other.py": "import pkg.other\n\ndef test_x():\n    assert pkg.other.X == 1\n",
    })


def test_affected_through_imports(project):
    calc = str(project / "pkg" / "calc.py")
    assert affected_tests(str(project), calc) == [str(project / "tests" / "test_api.py"), str(project / "tests" / "test_calc.py")]
    assert affected_tests(str(project), str(project / "pkg" / "other.py")) == [str(project / "tests" / "test_other.py")]
    assert select_tests(str(project), "tests/test_calc.py::test_low") == ["tests/test_calc.py::test_low"]
    assert select_tests(str(project), str(project / "tests" / "test_api.py")) == ["tests/test_api.py"]


def test_failure_becomes_findings_and_clears(project, needs_bwrap):
    root, calc_py = str(project), str(project / "pkg" / "calc.py")
    s = run(root, current_file=calc_py)
    assert s.executed and s.passed + s.failed == 3 and not s.ok
    assert s.coverage
    test_file = str(project / "tests" / "test_calc.py")
    assert sorted(s.findings) == [calc_py, test_file]
    (err,) = s.findings[test_file]
    # test_calc.py line 7 is the failing assert; calc.py line 5 raises (both 1-based)
    assert (err.line, err.severity, err.code, err.origin) == (7, "error", CODE_FAILED, "tests/test_calc.py::test_high")
    assert "too big" in err.message
    assert [(r.path, r.line) for r in err.related] == [(calc_py, 5)]
    (info,) = s.findings[calc_py]
    assert (info.line, info.severity, info.code) == (5, "information", CODE_RAISED_HERE)
    assert [(r.path, r.line) for r in info.related] == [(test_file, 7)]
    # Fix the code: the next run passes and replaces (clears) the old findings' origin.
    (project / "pkg" / "calc.py").write_text("def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n")
    s = run(root, current_file=calc_py)
    assert s.ok and s.findings == {} and s.passed == 3
    assert s.covers(err.origin)


def test_fixture_error_lands_on_the_test_definition(project, write_tree, needs_bwrap):
    # No frame of the test file is in the traceback (the fixture raises in conftest), so the
    # error goes on the test's def line: line 4 of test_fx.py.
    write_tree(project, {
        "tests/conftest.py": "import pytest\n\n@pytest.fixture\ndef broken():\n    raise RuntimeError('no db')\n",
        "tests/test_fx.py": "import pytest\n\n\ndef test_uses(broken):\n    assert broken\n",
    })
    s = run(str(project), target="tests/test_fx.py")
    (err,) = s.findings[str(project / "tests" / "test_fx.py")]
    assert (err.line, err.code) == (4, CODE_ERROR)
    assert "no db" in err.message and s.errors == 1


def test_no_tests_for_file(project):
    (project / "pkg" / "lonely.py").write_text("Y = 2\n")
    s = run(str(project), current_file=str(project / "pkg" / "lonely.py"))
    assert not s.executed and "no tests import" in s.note
