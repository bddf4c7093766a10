"""The agent tools registry and its first tool, over the real intents service."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeloop.tools import ToolContext, ToolError, tools
from codeloop.tools.base import bounded

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def test_every_tool_has_a_schema_and_a_one_line_description() -> None:
    found = tools()
    assert "list_intents" in found
    for tool in found.values():
        assert tool.parameters["type"] == "object"
        assert tool.description and "\n" not in tool.description


def test_list_intents_reports_the_demo_workspace() -> None:
    result = tools()["list_intents"].call({}, ToolContext(DEMO))
    assert "shapes/geometry.py:25: generate_tests: clamp:" in result.text
    assert {"path": "shapes/geometry.py", "line": 25, "kind": "generate_tests", "name": "clamp"}.items() <= \
        next(d for d in result.data if d["name"] == "clamp").items()


def test_list_intents_says_in_words_when_there_is_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("X = 1\n")
    assert tools()["list_intents"].call({"path": "empty.py"}, ToolContext(tmp_path)).text == "no intents in empty.py"


@pytest.mark.parametrize(("args", "message"), [
    ({"path": 3}, "argument 'path' must be a string"),
    ({"nope": "x"}, "unknown argument 'nope'"),
    ({"path": "../.."}, "is outside the workspace"),
    ({"path": "missing.py"}, "no such file"),
])
def test_bad_arguments_are_one_line_errors(args: dict, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        tools()["list_intents"].call(args, ToolContext(DEMO))


def test_long_results_are_bounded() -> None:
    assert bounded([], "nothing") == "nothing"
    text = bounded([str(i) for i in range(60)], "nothing", limit=50)
    assert text.splitlines()[-1] == "... 10 more results" and len(text.splitlines()) == 51
