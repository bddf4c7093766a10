"""End to end over the real `codeloop serve` (pytest-lsp): codeloop.generateTests on the demo.

The command applies one workspace/applyEdit labelled with the evidence; progress begins and
ends; the planted clamp bug shows as a probable-bug diagnostic with two quick fixes; an edit
of the source during generation, or codeloop.cancel, leaves the workspace untouched.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from support.lsp_client import (
    SERVER_ENV,
    change_document,
    code_actions,
    install_raw_spy,
    make_initialize_params,
    open_document,
    request_raw,
    wait_for,
)

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
CONFIG = ClientServerConfig(
    server_command=[sys.executable, "-m", "codeloop", "serve", "--no-log-file"],
    server_env={**SERVER_ENV, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
)


def _bwrap_level_a() -> str | None:
    from codeloop_sandbox import probe

    st = probe()
    return None if st.level == "A" else f"bubblewrap cannot run at level A here: {st.detail} (fix: {st.fix})"


pytestmark = pytest.mark.skipif(_bwrap_level_a() is not None, reason=str(_bwrap_level_a()))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".codeloop"))
    with (root / "pyproject.toml").open("a") as f:
        f.write("\n[tool.codeloop.generate]\nbudget = 5\n")
    return root


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient, project: Path):
    lsp_client.edits = []  # type: ignore[attr-defined]

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams):
        lsp_client.edits.append(params)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params):  # noqa: ANN001
        return None

    @lsp_client.feature("codeloop/status")
    def status(params):  # noqa: ANN001
        return None

    install_raw_spy(lsp_client)
    await lsp_client.initialize_session(make_initialize_params(project))
    yield
    await lsp_client.shutdown_session()


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
