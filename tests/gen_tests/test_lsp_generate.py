"""End to end over the real `codeloop serve` (pytest-lsp): codeloop.generateTests on the demo.

The command applies one workspace/applyEdit labelled with the evidence; progress begins and
ends; the planted clamp bug shows as a probable-bug diagnostic with two quick fixes; an edit
of the source during generation, or codeloop.cancel, leaves the workspace untouched.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from support.lsp_client import (
    change_document,
    client_fixture,
    code_actions,
    needs_level_a,
    open_document,
    request_raw,
    server_config,
    wait_for,
)

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
CONFIG = server_config({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})

pytestmark = needs_level_a()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".codeloop"))
    with (root / "pyproject.toml").open("a") as f:
        f.write("\n[tool.codeloop.generate]\nbudget = 5\n")
    return root


# The server initialized on ``project`` as VS Code would; applied edits in ``client.edits``.
client = client_fixture(CONFIG)


def generate(arg: dict) -> types.ExecuteCommandParams:
    return types.ExecuteCommandParams(command="codeloop.generateTests", arguments=[arg])


def _texts(edit: types.ApplyWorkspaceEditParams) -> str:
    out = []
    for change in edit.edit.document_changes or []:
        for e in getattr(change, "edits", []) or []:
            out.append(e.new_text)
    return "".join(out)


async def test_generate_module_applies_evidence_edit_and_reports_bug(client: LanguageClient, project: Path):
    path = project / "shapes" / "geometry.py"
    uri = open_document(client, path, path.read_text())
    response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, generate({"uri": uri, "version": 1}))
    answer = response["result"]
    assert answer["applied"] is True, answer
    assert answer["testsAdded"] > 0
    assert re.match(r"Add \d+ tests?: branch coverage \d+% -> \d+%", answer["title"]), answer["title"]
    (edit,) = client.edits  # type: ignore[attr-defined]
    assert edit.label == answer["title"]
    text = _texts(edit)
    assert "def test_rectangle_area():" in text  # the user's tests are kept
    assert text.count("def test_") > (project / "tests" / "test_geometry.py").read_text().count("def test_")

    # progress begin/end
    tokens = [t for t in client.progress_reports if str(t).startswith("codeloop-generateTests-")]
    assert tokens
    reports = client.progress_reports[tokens[-1]]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and isinstance(reports[-1], types.WorkDoneProgressEnd)

    # the planted clamp bug
    bug_line = next(i for i, l in enumerate(path.read_text().splitlines()) if l.startswith("def clamp"))
    assert any(b["function"] == "clamp" for b in answer["probableBugs"]), answer["probableBugs"]

    def bugs():
        return [d for d in client.diagnostics.get(uri, []) if d.code == "probable-bug"]

    await wait_for(lambda: bugs(), what="probable-bug diagnostic")
    (diag,) = [d for d in bugs() if d.range.start.line == bug_line]
    assert diag.severity == types.DiagnosticSeverity.Warning and diag.source == "codeloop"
    assert diag.message.startswith("probable bug: clamp(")
    actions = await code_actions(client, uri, bug_line)
    by_title = {a["title"]: a for a in actions}
    for title in ("Add failing test for clamp as xfail", "Add failing test for clamp as is"):
        assert title in by_title, list(by_title)
        assert "edit" in by_title[title] and "command" not in by_title[title]
    xfail_text = "".join(e["newText"] for c in by_title["Add failing test for clamp as xfail"]["edit"]["documentChanges"]
                         for e in c.get("edits", []))
    assert "xfail" in xfail_text and "def test_rectangle_area():" in xfail_text
    # the bug's test comes once, from the quick fix: the main edit did not add it already
    assert "xfail" not in text
    assert xfail_text.count("@pytest.mark.xfail") == 1


async def test_cancel_and_stale_document_make_no_edit(client: LanguageClient, project: Path):
    path = project / "shapes" / "geometry.py"
    text = path.read_text()
    uri = open_document(client, path, text)
    line = next(i for i, l in enumerate(text.splitlines()) if l.startswith("def clamp"))

    task = asyncio.ensure_future(request_raw(client, types.WORKSPACE_EXECUTE_COMMAND,
                                             generate({"uri": uri, "line": line, "version": 1})))
    await asyncio.sleep(0.5)
    change_document(client, uri, 2, [((0, 0, 0, 0), "# edited\n")])
    answer = (await task)["result"]
    assert answer["applied"] is False and "changed" in answer["reason"], answer

    task = asyncio.ensure_future(request_raw(client, types.WORKSPACE_EXECUTE_COMMAND,
                                             generate({"uri": uri, "version": 2})))
    await asyncio.sleep(0.5)
    cancelled = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND,
                                  types.ExecuteCommandParams(command="codeloop.cancel", arguments=[{"uri": uri}]))
    assert cancelled["result"]["cancelled"] >= 1, cancelled
    answer = (await task)["result"]
    assert answer["applied"] is False and answer["reason"] == "cancelled", answer
    assert client.edits == []  # type: ignore[attr-defined]
