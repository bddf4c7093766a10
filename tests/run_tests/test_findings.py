"""Unit tests (no sandbox): which tests a file selects, frames -> findings, collection errors,
the run summary, progress counting and the per-URI diagnostics book."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from codeloop.lsp.run_tests import DiagnosticsBook
from codeloop.verify.run_summary import (
    CODE_COLLECTION,
    CODE_FAILED,
    CODE_RAISED_HERE,
    ProgressCounter,
    RunSummary,
    code_location,
    collection_error_finding,
    failing_test_location,
    failure_findings,
    summarize,
)
from codeloop.verify.runtests import TestRunReport
from codeloop.workspace.testindex import affected_tests, select_tests
from codeloop_sandbox import Frame, PytestResult, Result, TestOutcome


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    files = {
        "pkg/__init__.py": "",
        "pkg/core.py": "def add(a, b):\n    return a + b\n",
        "pkg/api.py": "from .core import add\n\ndef twice(x):\n    return add(x, x)\n",
        "pkg/alone.py": "Z = 0\n",
        "tests/test_core.py": "from pkg.core import add\n\ndef test_add():\n    assert add(1, 2) == 3\n",
        "tests/test_api.py": "import pkg.api as api\n\ndef test_twice():\n    assert api.twice(2) == 4\n",
        "tests/conftest.py": "import pkg.core\n",
        "tests/helpers.py": "X = 1\n",
    }
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_selection_through_imports(ws: Path):
    root = str(ws)
    # core is imported by test_core directly and by test_api through pkg.api (relative import)
    assert affected_tests(root, str(ws / "pkg/core.py")) == [str(ws / "tests/test_api.py"), str(ws / "tests/test_core.py")]
    assert affected_tests(root, str(ws / "pkg/api.py")) == [str(ws / "tests/test_api.py")]
    # a test file selects itself; a module nobody imports selects nothing
    assert affected_tests(root, str(ws / "tests/test_core.py")) == [str(ws / "tests/test_core.py")]
    assert affected_tests(root, str(ws / "pkg/alone.py")) == []
    assert select_tests(root, None, str(ws / "pkg/api.py")) == ["tests/test_api.py"]
    assert select_tests(root, "tests/test_core.py::test_add") == ["tests/test_core.py::test_add"]
    assert select_tests(root) == []  # nothing: the caller runs the whole suite


def _outcome(root: Path, frames, outcome="failed", message="AssertionError: boom", line=2) -> TestOutcome:
    test = str(root / "tests/test_core.py")
    return TestOutcome(nodeid="tests/test_core.py::test_add", outcome=outcome, message=message,
                       frames=[Frame(p, n, f) for p, n, f in frames], path=test, line=line)


def test_frames_to_findings(ws: Path):
    test, core, helper = str(ws / "tests/test_core.py"), str(ws / "pkg/core.py"), str(ws / "tests/helpers.py")
    conftest, outside = str(ws / "tests/conftest.py"), "/usr/lib/python3/json/__init__.py"
    t = _outcome(ws, [(test, 4, "test_add"), (core, 2, "add"), (helper, 1, "h"), (conftest, 1, "fx"), (outside, 9, "x")],
                 message="ValueError: too big\nmore detail")
    assert failing_test_location(t) == (test, 4)
    assert code_location(t, str(ws)) == (core, 2)  # deepest non-test workspace frame
    err, info = failure_findings(t, str(ws))
    assert (err.path, err.line, err.severity, err.code) == (test, 4, "error", CODE_FAILED)
    assert "too big" in err.message and err.origin == "tests/test_core.py::test_add"
    assert (err.related[0].path, err.related[0].line) == (core, 2)
    assert (info.path, info.line, info.code) == (core, 2, CODE_RAISED_HERE)
    assert info.message == "test_add failed here: ValueError: too big"
    assert (info.related[0].path, info.related[0].line) == (test, 4)


def test_failure_without_code_frame_or_frames(ws: Path):
    test = str(ws / "tests/test_core.py")
    # an assertion in the test itself: one finding, at the deepest frame in the test file
    (only,) = failure_findings(_outcome(ws, [(test, 3, "helper"), (test, 4, "test_add")]), str(ws))
    assert (only.line, only.related) == (4, ())
    # no frames (fixture setup error): the definition line, which TestOutcome already
    # carries 1-based (tests/run_tests/test_runtests.py checks that on a real run)
    (only,) = failure_findings(_outcome(ws, [], outcome="error", line=3), str(ws))
    assert only.line == 3 and "errored" in only.message
    (only,) = failure_findings(_outcome(ws, [], outcome="error", line=None), str(ws))
    assert only.line == 1


def test_collection_error_lines(ws: Path):
    imp = ("tests/test_core.py: ImportError while importing test module '/x/tests/test_core.py'.\nTraceback:\n"
           "/usr/lib/python3.11/importlib/__init__.py:126: in import_module\n    return x\n"
           "tests/test_core.py:1: in <module>\n    import nope\nE   ModuleNotFoundError: No module named 'nope'")
    f = collection_error_finding(imp, str(ws))
    assert (f.path, f.line, f.code) == (str(ws / "tests/test_core.py"), 1, CODE_COLLECTION)
    assert f.message == "collection error: ModuleNotFoundError: No module named 'nope'"
    syn = (f"tests/test_api.py: /venv/_pytest/python.py:528: in importtestmodule\n    mod = x\n"
           f'E     File "{ws}/tests/test_api.py", line 3\nE       def t(:\nE            ^\nE   SyntaxError: invalid syntax')
    f = collection_error_finding(syn, str(ws))
    assert (f.line, f.message) == (3, "collection error: SyntaxError: invalid syntax")
    assert collection_error_finding("coverage: no data", str(ws)) is None


def test_summary_counts_coverage_and_covers(ws: Path):
    test = str(ws / "tests/test_core.py")
    tests = [
        _outcome(ws, [(test, 4, "test_add")]),
        TestOutcome(nodeid="tests/test_core.py::test_ok", outcome="passed"),
        TestOutcome(nodeid="tests/test_core.py::test_skip", outcome="skipped"),
    ]
    cov = {"files": {str(ws / "pkg/core.py"): {"summary": {"percent_covered": 87.5}}}}
    pres = PytestResult(Result(exit_code=1, stdout="", stderr="", duration=0.84, level="A"), tests=tests, coverage=cov)
    s = summarize(TestRunReport(["tests/test_core.py"], pres), str(ws))
    assert (s.passed, s.failed, s.skipped, s.level) == (1, 1, 1, "A")
    assert s.text() == "1 passed, 1 failed, 1 skipped (0.8 s)"
    assert s.coverage == {str(ws / "pkg/core.py"): 87.5}
    assert list(s.findings) == [test] and not s.ok
    assert s.to_json()["summary"] == s.text()
    # a run of a file covers all its tests; a run of one id covers that id only
    assert s.covers("tests/test_core.py::test_gone") and s.covers("tests/test_core.py")
    assert not s.covers("tests/test_api.py::test_twice")
    one = summarize(TestRunReport(["tests/test_core.py::test_add"], pres), str(ws))
    assert one.covers("tests/test_core.py::test_add") and not one.covers("tests/test_core.py::test_other")
    suite = summarize(TestRunReport([], pres), str(ws))
    assert suite.covers("anything/test_x.py::t")
    # nothing ran (no tests import the file) or the run was cancelled: nothing is replaced
    assert not RunSummary(str(ws), [], note="no tests import pkg/alone.py").covers("tests/test_core.py::test_add")
    cancelled = PytestResult(Result(exit_code=None, stdout="", stderr="", cancelled=True, limit="cancelled"))
    c = summarize(TestRunReport(["tests/test_core.py"], cancelled), str(ws))
    assert c.text() == "cancelled" and not c.covers("tests/test_core.py::test_add")


def test_progress_counter():
    c = ProgressCounter()
    assert c.feed("F") and c.feed(".") and not c.feed("   ")
    assert c.feed("s [100%]\n") is True
    assert not c.feed("=== FAILURES ===\n____ test_x ____\nE   assert 1 == 2 .")
    assert (c.done, c.failed, c.message()) == (3, 1, "3 tests run, 1 failed")


def _diag(msg: str) -> types.Diagnostic:
    rng = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=1, character=0))
    return types.Diagnostic(range=rng, message=msg, source="codeloop-tests")


def test_diagnostics_book_replaces_by_origin():
    book = DiagnosticsBook()
    touched = book.replace("/r", lambda o: False, {"file:///t.py": {"t.py::a": [_diag("a")], "t.py::b": [_diag("b")]},
                                                   "file:///m.py": {"t.py::a": [_diag("a here")]}})
    assert touched == {"file:///t.py", "file:///m.py"}
    # re-running test a (now passing) clears it in both files and keeps b
    touched = book.replace("/r", lambda o: o == "t.py::a", {})
    assert touched == {"file:///t.py", "file:///m.py"}
    assert [d.message for d in book.for_uri("file:///t.py")] == ["b"] and book.for_uri("file:///m.py") == []
    # another root's run never touches these
    assert book.replace("/other", lambda o: True, {}) == set()
