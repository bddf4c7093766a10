"""The agent tools over the real services: names and schemas, bounded results, targets,
exclusions, proposals (issue 14, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeloop.tools import ToolContext, ToolError, tools
from codeloop.tools.propose_edit import Proposal
from support.agent_project import SECRET

NAMES = ["search_code", "read_symbol", "read_file", "list_intents", "run_tests", "generate_tests", "implement",
         "propose_edit"]
REQUIRED = {"search_code": ["query"], "read_symbol": ["name"], "read_file": ["path"], "list_intents": [],
            "run_tests": [], "generate_tests": ["target"], "implement": ["target"], "propose_edit": ["path"]}


def call(root: Path, tool: str, **args):
    return tools()[tool].call(args, ToolContext(root))


def test_the_fixed_names_and_required_arguments() -> None:
    found = tools()
    assert list(found) == NAMES
    for name, tool in found.items():
        assert list(tool.parameters.get("required", [])) == REQUIRED[name]
        assert tool.description and "\n" not in tool.description and len(tool.description) < 120
    assert [n for n, t in found.items() if t.read_only] == ["search_code", "read_symbol", "read_file",
                                                             "list_intents", "run_tests"]


def test_search_code_lists_matches_and_says_so_when_there_are_none(calc: Path) -> None:
    result = call(calc, "search_code", query="mean")
    assert result.text.splitlines()[0].startswith("calc/ops.py:13: function calc.ops.mean(values: list[float])")
    assert result.data[0]["name"] == "calc.ops.mean"
    assert call(calc, "search_code", query="zebra").text == "no definitions match 'zebra'"
    assert call(calc, "search_code", query="add", kind="class").text == "no class definitions match 'add'"


def test_search_code_bounds_long_results(tmp_path: Path, write_tree) -> None:
    root = write_tree(tmp_path / "many", {f"m{i}.py": f"def helper_{i}():\n    return {i}\n" for i in range(30)})
    text = call(root, "search_code", query="helper", limit=5).text
    assert len(text.splitlines()) == 6
    assert text.splitlines()[-1].startswith("... 25 more results")


@pytest.mark.parametrize("name", ["calc.ops.Register.push", "calc/ops.py::Register.push", "push"])
def test_read_symbol_takes_every_target_form(calc: Path, name: str) -> None:
    result = call(calc, "read_symbol", name=name)
    assert result.text.splitlines()[:2] == ["method calc.ops.Register.push(self, value: int) -> int",
                                            "calc/ops.py:25-28"]
    assert "self.total = getattr(self, 'total', 0) + value" in result.text
    assert result.data["doc"] == "Add ``value`` to the total and return it."


def test_read_symbol_unknown_and_ambiguous_names(calc: Path, write_tree) -> None:
    with pytest.raises(ToolError, match="no module, function, class or method named 'nothing'"):
        call(calc, "read_symbol", name="nothing")
    write_tree(calc, {"calc/more.py": "def add(x, y):\n    return x + y\n"})
    with pytest.raises(ToolError, match="'add' is ambiguous: calc.more.add .*calc.ops.add"):
        call(calc, "read_symbol", name="add")


def test_read_file_windows(calc: Path) -> None:
    text = call(calc, "read_file", path="calc/ops.py", start_line=4, end_line=5).text
    assert text.splitlines() == ["calc/ops.py lines 4-5 of 28", "    4  def add(a: int, b: int) -> int:",
                                 '    5      """Add two numbers.',
                                 "... lines 6-28 not shown (read_file start_line=6)"]
    with pytest.raises(ToolError, match="has 28 lines; start_line 99 is past the end"):
        call(calc, "read_file", path="calc/ops.py", start_line=99)
    with pytest.raises(ToolError, match="outside the workspace"):
        call(calc, "read_file", path="../../etc/passwd")
    with pytest.raises(ToolError, match="no such file in the workspace: nope.py"):
        call(calc, "read_file", path="nope.py")
    with pytest.raises(ToolError, match="^read_file: argument 'start_line' must be an integer$"):
        call(calc, "read_file", path="calc/ops.py", start_line="x")


@pytest.mark.parametrize("path", [".env", "deploy/server.pem", "keys/id_ed25519", "private/notes.py",
                                  "./private/../.env"])
def test_excluded_paths_are_never_read(calc: Path, path: str) -> None:
    for name, args in (("read_file", {"path": path}), ("propose_edit", {"path": path, "new_text": "x"}),
                       ("run_tests", {"path": path})):
        with pytest.raises(ToolError, match="is excluded") as info:
            tools()[name].call(args, ToolContext(calc))
        assert SECRET not in str(info.value)


def test_a_link_to_a_secret_is_excluded_too(calc: Path) -> None:
    (calc / "settings.txt").symlink_to(calc / ".env")
    with pytest.raises(ToolError, match="is excluded"):
        call(calc, "read_file", path="settings.txt")


def test_excluded_files_stay_out_of_search_and_intents(calc: Path) -> None:
    assert "private" not in call(calc, "search_code", query="TOKEN").text
    assert "private" not in call(calc, "list_intents").text


def test_list_intents_finds_the_stub(calc: Path) -> None:
    assert "calc/ops.py:13: implement: mean:" in call(calc, "list_intents", path="calc").text


def test_propose_edit_makes_a_diff_and_writes_nothing(calc: Path) -> None:
    before = (calc / "calc/ops.py").read_text()
    result = call(calc, "propose_edit", path="calc/ops.py",
                  edits=[{"old_text": "    ...\n", "new_text": "    return sum(values) / len(values)\n"}])
    proposal = result.data
    assert isinstance(proposal, Proposal) and proposal.rel == "calc/ops.py" and proposal.version is None
    assert "+    return sum(values) / len(values)" in proposal.diff and "-    ...\n" in proposal.diff
    assert result.text.startswith("proposed a change to calc/ops.py (+1 -1 lines)")
    assert (calc / "calc/ops.py").read_text() == before
    with pytest.raises(ToolError, match="old_text does not occur"):
        call(calc, "propose_edit", path="calc/ops.py", edits=[{"old_text": "nope", "new_text": "x"}])
    with pytest.raises(ToolError, match="occurs 3 times"):
        call(calc, "propose_edit", path="calc/ops.py", edits=[{"old_text": "return", "new_text": "x"}])
    with pytest.raises(ToolError, match="give either new_text"):
        call(calc, "propose_edit", path="calc/ops.py")
    created = call(calc, "propose_edit", path="calc/new.py", new_text="X = 1\n")
    assert created.text.startswith("proposed a new file calc/new.py") and not (calc / "calc/new.py").exists()


def test_implement_without_a_model_says_so(calc: Path) -> None:
    from codeloop.config import load_settings

    settings, _ = load_settings(environ={})
    with pytest.raises(ToolError, match="no model is configured"):
        tools()["implement"].call({"target": "calc.ops.Register.push"}, ToolContext(calc, settings))


def test_run_tests_reports_outcomes_and_failure_locations(calc: Path, needs_bwrap) -> None:
    result = call(calc, "run_tests")
    assert result.text.startswith("tests: 1 passed, 1 failed")
    assert "tests/test_ops.py:9: tests/test_ops.py::test_add_wrong failed" in result.text
    assert result.data["failed"] == 1 and result.data["passed"] == 1
    one = call(calc, "run_tests", test_id="tests/test_ops.py::test_add")
    assert one.text.startswith("tests: 1 passed") and one.data["failures"] == []
    by_source = call(calc, "run_tests", path="calc/ops.py")
    assert by_source.data["passed"] == 1 and by_source.data["failed"] == 1


def test_generate_tests_offline_writes_nothing(calc: Path, needs_bwrap) -> None:
    from codeloop.config import load_settings

    settings, _ = load_settings({"generate": {"engine": "offline", "budget": 8}}, environ={})
    result = tools()["generate_tests"].call({"target": "calc.ops.Register.push"}, ToolContext(calc, settings))
    assert "verified tests for calc/ops.py::Register.push, meant for tests/test_ops.py (nothing written)" in result.text
    assert "branch coverage of calc.ops:" in result.text
    assert result.data["merged_text"].count("def test_") > 2  # the two of the project, then ours
    assert (calc / "tests/test_ops.py").read_text().count("def test_") == 2
    # add is covered by the project's own tests: nothing new to offer, and the tool says why
    covered = tools()["generate_tests"].call({"target": "calc.ops.add"}, ToolContext(calc, settings))
    assert "no new tests for calc/ops.py::add: already covered by" in covered.text
