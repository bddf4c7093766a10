"""Tests for a function from the coverage of the last sandboxed run: which test ran which
lines (coverage contexts from the sandbox's pytest), kept in the index while the file is
unchanged, merged with the static references."""

from __future__ import annotations

from pathlib import Path

from codeloop.index import queries as q
from codeloop.index.coverage import covering, per_test, record
from codeloop.index.workspace_index import WorkspaceIndex
from codeloop.services.run_tests import RunTestsRequest, run_tests

PROJECT = {
    "calc.py": "def add(a, b):\n    return a + b\n\n\ndef double(x):\n    return add(x, x)\n",
    # reached only through getattr: no test refers to double or add by name
    "helpers.py": "import calc\n\n\ndef via(name):\n    return getattr(calc, name)\n",
    "tests/test_dyn.py": "from helpers import via\n\n\ndef test_dynamic():\n    assert via('double')(2) == 4\n\n\n"
                         "def test_other():\n    assert via('add') is not None\n",
    "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n",
}


def names(tests: list[q.Symbol]) -> list[str]:
    return [t.qualified_name for t in tests]


def test_a_sandboxed_run_tells_which_tests_ran_a_function(tmp_path: Path, monkeypatch, needs_bwrap, write_tree):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = write_tree(tmp_path / "p", PROJECT)
    with WorkspaceIndex(root) as ix:
        ix.sync(workers=0)
        (double,) = q.lookup(ix.conn, "double")
        assert q.tests_for(ix.conn, double) == []  # statically nothing refers to it
        assert q.affected_tests(ix.conn, "calc.py") == []
    outcome = run_tests(RunTestsRequest(str(root)))
    assert outcome.ok, outcome.summary
    with WorkspaceIndex(root) as ix:
        assert names(q.tests_for(ix.conn, double)) == ["tests.test_dyn.test_dynamic"]
        (add,) = q.lookup(ix.conn, "add")  # its def line ran at import, outside any test
        assert names(q.tests_for(ix.conn, add)) == ["tests.test_dyn.test_dynamic"]
        assert q.affected_tests(ix.conn, "calc.py") == ["tests/test_dyn.py::test_dynamic"]
        # Once the file changes its lines no longer hold: the data is ignored until the next run.
        (root / "calc.py").write_text("\n" + PROJECT["calc.py"])
        ix.sync(workers=0)
        (double,) = q.lookup(ix.conn, "double")
        assert q.tests_for(ix.conn, double) == []


def test_coverage_contexts_to_lines_per_test(tmp_path: Path, make_index, write_tree):
    root = write_tree(tmp_path / "p", {"m.py": "def f():\n    x = 1\n    return x\n\n\ndef g():\n    return 2\n",
                                       "test_m.py": "from m import f\n\n\ndef test_f():\n    assert f() == 1\n"})
    report = {"files": {
        str(root / "m.py"): {"contexts": {"1": [""], "2": ["test_m.py::test_f"], "3": ["test_m.py::test_f"],
                                          "7": ["test_m.py::test_g[a|b]"]}},
        "test_m.py": {"contexts": {"5": ["test_m.py::test_f"]}},
        "/elsewhere/x.py": {"contexts": {"1": ["test_m.py::test_f"]}}}}
    assert per_test(report, root) == {"test_m.py::test_f": {"m.py": [2, 3], "test_m.py": [5]},
                                      "test_m.py::test_g[a|b]": {"m.py": [7]}}
    ix = make_index(root)
    ix.sync(workers=0)
    assert covering(ix.conn, "m.py", 1, 3) == []  # no run recorded yet
    assert record(ix.conn, report, root) == 2
    assert covering(ix.conn, "m.py", 1, 3) == ["test_m.py::test_f"]
    assert covering(ix.conn, "m.py", 6, 7) == ["test_m.py::test_g[a|b]"]
    assert covering(ix.conn, "m.py", 4, 5) == []
    # a later run of test_f alone replaces what was said of test_f only
    record(ix.conn, {"files": {"m.py": {"contexts": {"7": ["test_m.py::test_f"]}}}}, root)
    assert covering(ix.conn, "m.py", 1, 3) == []
    assert covering(ix.conn, "m.py", 7, 7) == ["test_m.py::test_f", "test_m.py::test_g[a|b]"]
