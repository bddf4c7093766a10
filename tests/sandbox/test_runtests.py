"""codeloop.verify.runtests: test selection through imports, failures as diagnostics."""

from __future__ import annotations

import pytest

from codeloop.verify.runtests import affected_tests, run_tests, select_tests
from codeloop_sandbox import Policy

P = Policy(timeout=60, allow_levels=("A", "B"), env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "calc.py").write_text(
        "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    if x > hi:\n        raise ValueError('too big')\n    return x\n"
    )
    (tmp_path / "pkg" / "api.py").write_text("from .calc import clamp\n\ndef safe(x):\n    return clamp(x, 0, 10)\n")
    (tmp_path / "pkg" / "other.py").write_text("X = 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text(
        "from pkg.calc import clamp\n\ndef test_low():\n    assert clamp(-1, 0, 10) == 0\n\n"
        "def test_high():\n    assert clamp(11, 0, 10) == 10\n"
    )
    (tmp_path / "tests" / "test_api.py").write_text("from pkg import api\n\ndef test_safe():\n    assert api.safe(5) == 5\n")
    (tmp_path / "tests" / "test_other.py").write_text("import pkg.other\n\ndef test_x():\n    assert pkg.other.X == 1\n")
    return tmp_path


def test_affected_through_imports(project):
    calc = str(project / "pkg" / "calc.py")
    assert affected_tests(str(project), calc) == [str(project / "tests" / "test_api.py"), str(project / "tests" / "test_calc.py")]
    assert affected_tests(str(project), str(project / "pkg" / "other.py")) == [str(project / "tests" / "test_other.py")]
    assert select_tests(str(project), "tests/test_calc.py::test_low") == ["tests/test_calc.py::test_low"]
    assert select_tests(str(project), str(project / "tests" / "test_api.py")) == ["tests/test_api.py"]


def test_failure_becomes_diagnostics_and_clears(project, needs_bwrap):
    rep = run_tests(str(project), current_file=str(project / "pkg" / "calc.py"), policy=P)
    assert rep.pytest is not None and len(rep.pytest.tests) == 3
    assert [f.nodeid for f in rep.failures] == ["tests/test_calc.py::test_high"]
    f = rep.failures[0]
    test_file, calc = str(project / "tests" / "test_calc.py"), str(project / "pkg" / "calc.py")
    assert (f.test.path, f.test.line) == (test_file, 7)
    assert (f.code.path, f.code.line) == (calc, 5)
    diags = rep.diagnostics()
    assert [(d.line, d.severity) for d in diags[test_file]] == [(6, "error")]
    assert "too big" in diags[test_file][0].message
    assert diags[test_file][0].related[0][:2] == (calc, 4)
    assert [(d.line, d.severity) for d in diags[calc]] == [(4, "information")]
    assert diags[str(project / "tests" / "test_api.py")] == []
    assert rep.pytest.coverage is not None
    assert any(line.startswith(f"{test_file}:7:1: error:") for line in rep.lines())
    # Fix the code: the same files now map to empty lists (clear the old diagnostics).
    (project / "pkg" / "calc.py").write_text("def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n")
    rep = run_tests(str(project), current_file=str(project / "pkg" / "calc.py"), policy=P)
    assert rep.ok and rep.failures == []
    assert all(v == [] for v in rep.diagnostics().values()) and test_file in rep.diagnostics()


def test_no_tests_for_file(project):
    (project / "pkg" / "lonely.py").write_text("Y = 2\n")
    rep = run_tests(str(project), current_file=str(project / "pkg" / "lonely.py"), policy=P)
    assert rep.pytest is None and "no tests import" in rep.note
