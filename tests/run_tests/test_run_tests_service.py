"""The RUN TESTS service without CLI or LSP: selection, a real sandboxed run, the summary."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from codeloop.job import Job
from codeloop.services.run_tests import RunTestsRequest, run_tests, selection
from codeloop_sandbox import Policy, WarmPool

P = Policy(timeout=60)

FILES = {
    "pyproject.toml": '[project]\nname = "demo"\n',
    "pkg/__init__.py": "",
    "pkg/calc.py": "def half(x):\n    if x < 0:\n        raise ValueError('negative')\n    return x / 2\n",
    "pkg/lonely.py": "X = 1\n",
    "tests/test_calc.py": (
        "from pkg.calc import half\n\n\ndef test_half():\n    assert half(4) == 2\n\n\n"
        "def test_negative():\n    assert half(-2) == -1\n"
    ),
}


@pytest.fixture
def project(make_project, bwrap_sandbox) -> Path:
    return make_project("demo", FILES)


def test_selection_without_running(make_project):
    root = make_project("demo", FILES)
    assert selection(RunTestsRequest(str(root), current_files=[str(root / "pkg" / "calc.py")])) == ["tests/test_calc.py"]
    assert selection(RunTestsRequest(str(root), targets=["tests/test_calc.py::test_half", "tests/test_calc.py"],
                                     current_files=[str(root / "pkg" / "calc.py")])) == [
        "tests/test_calc.py::test_half", "tests/test_calc.py"]
    assert selection(RunTestsRequest(str(root))) == []  # nothing: the whole suite


def test_runs_the_affected_tests_and_finds_the_failure(project):
    reports: list[str] = []
    outcome = run_tests(RunTestsRequest(str(project), current_files=[str(project / "pkg" / "calc.py")], policy=P),
                        Job(lambda m, f: reports.append(m)))
    s = outcome.summary
    assert not outcome.ok and (s.passed, s.failed) == (1, 1)
    assert s.selected == ["tests/test_calc.py"]
    assert s.text().startswith("1 passed, 1 failed")
    raised = s.findings[str(project / "pkg" / "calc.py")]
    assert raised[0].line == 3 and "test_negative failed here: ValueError: negative" in raised[0].message
    assert reports and reports[-1] == "2 tests run, 1 failed"  # counted from pytest's streamed output


def test_one_test_id_through_a_warm_pool(project):
    pool = WarmPool(str(project), P)
    try:
        outcome = run_tests(RunTestsRequest(str(project), targets=["tests/test_calc.py::test_half"], policy=P,
                                            pool=pool))
    finally:
        pool.close()
    assert outcome.ok and outcome.summary.passed == 1 and outcome.summary.ran == {"tests/test_calc.py::test_half"}


def test_no_tests_import_the_file(project):
    outcome = run_tests(RunTestsRequest(str(project), current_files=[str(project / "pkg" / "lonely.py")], policy=P))
    assert not outcome.summary.executed and outcome.summary.note == "no tests import pkg/lonely.py"


def test_policy_from_the_workspace_settings_and_cancel(project):
    cancel = threading.Event()
    cancel.set()
    outcome = run_tests(RunTestsRequest(str(project)), Job(cancel=cancel))  # policy: settings of the workspace
    assert outcome.summary.cancelled and outcome.summary.text() == "cancelled"


def test_pytest_environment_variables_reach_the_users_tests(project, monkeypatch):
    """As `python -m pytest` in the user's shell: PYTEST_ADDOPTS (and the plugin autoload
    switch) of the caller's environment apply to the sandboxed run of the user's tests."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-k negative")
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    outcome = run_tests(RunTestsRequest(str(project), targets=["tests/test_calc.py"]))  # policy: the workspace's
    assert outcome.summary.ran == {"tests/test_calc.py::test_negative"}, outcome.summary.to_json()
