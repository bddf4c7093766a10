"""End to end over the real `codeloop serve` (pytest-lsp): codeloop.runTests in the sandbox.

A failing test shows as an Error at the failing test line plus a related diagnostic at the
raising line of the module; fixing the code clears both; progress is cancellable and ends
with a summary; cancelling a run that sleeps ends it quickly; run-on-save triggers a run.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from codeloop.workspace.document import path_to_uri
from support.lsp_client import (
    client_fixture,
    command_params,
    diagnostics_from,
    needs_level_a,
    open_document,
    request_raw,
    server_config,
    wait_for,
)

CONFIG = server_config({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})

CALC = (
    "# TODO: support floats\n"
    "def clamp(x, lo, hi):\n"
    "    if x > hi:\n"
    "        raise ValueError(f'{x} is above {hi}')\n"
    "    return max(lo, x)\n"
)
CALC_FIXED = "# TODO: support floats\ndef clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n"
TESTS = (
    "import time\n\nfrom calc import clamp\n\n\n"
    "def test_low():\n    assert clamp(-1, 0, 10) == 0\n\n\n"
    "def test_high():\n    assert clamp(11, 0, 10) == 10\n"  # line 11 (1-based)
)
SLOW = "import time\n\n\ndef test_fast():\n    assert True\n\n\ndef test_slow():\n    time.sleep(30)\n"


pytestmark = needs_level_a()


@pytest.fixture
def project(tmp_path: Path, request) -> Path:
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    on_save = getattr(request, "param", False)
    extra = "\n[tool.codeloop.tests]\nrun_on_save = true\ndebounce_ms = 200\n" if on_save else ""
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n' + extra)
    (root / "calc.py").write_text(CALC)
    (root / "tests" / "test_calc.py").write_text(TESTS)
    (root / "tests" / "test_slow.py").write_text(SLOW)
    return root


client = client_fixture(CONFIG)


def run_tests(*arguments):
    return command_params("codeloop.runTests", *arguments)


def diags_of(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    return diagnostics_from(client, uri, "codeloop-tests")


def run_tokens(client: LanguageClient) -> list[str]:
    return [t for t in client.progress_reports if str(t).startswith("codeloop-tests-")]


async def test_failure_then_fix_clears(client: LanguageClient, project: Path):
    calc_uri = open_document(client, project / "calc.py", CALC)
    test_uri = path_to_uri(project / "tests" / "test_calc.py")
    await wait_for(lambda: any(d.source == "codeloop" for d in client.diagnostics.get(calc_uri, [])), what="intent diags")

    response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, run_tests({"uri": calc_uri}))
    summary = response["result"]
    assert (summary["passed"], summary["failed"], summary["selected"]) == (1, 1, ["tests/test_calc.py"]), summary
    assert summary["level"] == "A" and summary["summary"].startswith("1 passed, 1 failed (")
    assert any(path.endswith("calc.py") for path in summary["coverage"])

    await wait_for(lambda: diags_of(client, test_uri) and diags_of(client, calc_uri), what="test diagnostics")
    (err,) = diags_of(client, test_uri)
    assert err.severity == types.DiagnosticSeverity.Error and err.code == "codeloop.testFailed"
    assert err.range.start.line == 10  # `assert clamp(11, 0, 10) == 10`
    assert "test_high" in err.message and "11 is above 10" in err.message
    assert err.related_information[0].location.uri == calc_uri
    assert err.related_information[0].location.range.start.line == 3  # the raise
    (here,) = diags_of(client, calc_uri)
    assert here.range.start.line == 3 and here.code == "codeloop.raisedHere" and "11 is above 10" in here.message
    assert here.related_information[0].location.uri == test_uri
    # merged with the document's own diagnostics (the TODO hint is still there)
    assert any(d.source == "codeloop" and d.code == "codeloop.todo" for d in client.diagnostics[calc_uri])

    # progress: cancellable begin, per-test reports, a summary at the end
    (token,) = run_tokens(client)
    reports = client.progress_reports[token]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable is True
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    assert re.fullmatch(r"1 passed, 1 failed \(\d+\.\d s\)", reports[-1].message)
    # busy while running, idle afterwards
    await wait_for(lambda: client.statuses and not client.statuses[-1].busy, what="idle status")
    assert any(s.busy for s in client.statuses)

    # Fix the code in the editor and on disk, save, run again: both files clear.
    (project / "calc.py").write_text(CALC_FIXED)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=calc_uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=CALC_FIXED)]))
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=calc_uri)))
    response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, run_tests({"uri": calc_uri}))
    assert (response["result"]["passed"], response["result"]["failed"]) == (2, 0)
    await wait_for(lambda: not diags_of(client, test_uri) and not diags_of(client, calc_uri), what="cleared")
    assert any(d.code == "codeloop.todo" for d in client.diagnostics[calc_uri])


async def _cancel_slow(client: LanguageClient, how: str) -> tuple[float, dict]:
    before = set(run_tokens(client))
    task = asyncio.ensure_future(
        request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, run_tests({"testId": "tests/test_slow.py::test_slow"})))
    await wait_for(lambda: set(run_tokens(client)) - before, what="progress begin")
    await asyncio.sleep(1.5)  # the warm worker is running time.sleep(30) by now
    assert not task.done()
    (token,) = set(run_tokens(client)) - before
    start = time.monotonic()
    if how == "command":
        client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND, command_params("codeloop.cancel"))
    else:
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    response = await asyncio.wait_for(task, 20)
    return time.monotonic() - start, response["result"]


async def test_cancel_ends_a_long_run_quickly(client: LanguageClient, project: Path):
    # warm the pool with a quick run so that the slow one is really sleeping when cancelled
    response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND,
                                 run_tests({"testId": "tests/test_slow.py::test_fast"}))
    assert response["result"]["passed"] == 1
    for how in ("command", "progress"):
        elapsed, result = await _cancel_slow(client, how)
        assert result["cancelled"] is True and result["summary"] == "cancelled", result
        # generous bound (the test sleeps 30 s); the measured numbers go to the report
        assert elapsed < 10, (how, elapsed)
        print(f"cancel via {how}: client saw the answer after {elapsed * 1000:.0f} ms; "
              f"server: run returned {result.get('cancelLatencyMs')} ms after the cancel")
    # $/cancelRequest: pygls answers "canceled" at once; the run itself must stop too
    # (the busy status goes back to false long before the 30 s sleep ends)
    before = set(run_tokens(client))
    pending = asyncio.ensure_future(client.protocol.send_request_async(
        types.WORKSPACE_EXECUTE_COMMAND, run_tests({"testId": "tests/test_slow.py::test_slow"}), msg_id="slow-run"))
    await wait_for(lambda: set(run_tokens(client)) - before, what="progress begin")
    await asyncio.sleep(1.5)
    assert client.statuses[-1].busy
    start = time.monotonic()
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="slow-run"))
    with pytest.raises(JsonRpcException):  # RequestCancelled, answered within 5 s
        await asyncio.wait_for(pending, 5)
    await wait_for(lambda: not client.statuses[-1].busy, what="run stopped after $/cancelRequest")
    print(f"cancel via $/cancelRequest: idle status after {(time.monotonic() - start) * 1000:.0f} ms")
    (token,) = set(run_tokens(client)) - before
    await wait_for(lambda: isinstance(client.progress_reports[token][-1], types.WorkDoneProgressEnd), what="end")
    assert client.progress_reports[token][-1].message == "cancelled"
    # the server is fine afterwards and the failing diagnostics of other tests are untouched
    response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND,
                                 run_tests({"file": "tests/test_calc.py"}))
    assert response["result"]["failed"] == 1


@pytest.mark.parametrize("project", [True], indirect=True)
async def test_run_on_save(client: LanguageClient, project: Path):
    test_uri = open_document(client, project / "tests" / "test_calc.py", TESTS)
    save = types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=test_uri))
    client.text_document_did_save(save)
    client.text_document_did_save(save)  # within the debounce: one run
    await wait_for(lambda: diags_of(client, test_uri), timeout=60, what="diagnostics from the run on save")
    assert "test_high" in diags_of(client, test_uri)[0].message
    await wait_for(lambda: client.statuses and not client.statuses[-1].busy, what="idle status")
    assert len(run_tokens(client)) == 1


NO_SANDBOX = server_config({"CODELOOP_SANDBOX_BWRAP": "/nonexistent/bwrap"})


client_without_sandbox = client_fixture(NO_SANDBOX)


async def test_refuses_below_the_allowed_level(client_without_sandbox: LanguageClient, project: Path):
    client = client_without_sandbox
    response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, run_tests({"file": "tests/test_calc.py"}))
    assert "cannot run tests" in response["error"]["message"] and "bubblewrap" in response["error"]["message"]
    await wait_for(lambda: any("cannot run tests" in m.message for m in client.messages), what="showMessage")
    assert len([m for m in client.messages if "cannot run tests" in m.message]) == 1
    assert not any(diags for diags in client.diagnostics.values() if any(d.source == "codeloop-tests" for d in diags))


@pytest.mark.parametrize("project", [True], indirect=True)
async def test_newer_save_cancels_the_older_run(client: LanguageClient, project: Path):
    slow_uri = open_document(client, project / "tests" / "test_slow.py", SLOW)
    save = types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=slow_uri))
    client.text_document_did_save(save)
    await wait_for(lambda: len(run_tokens(client)) == 1, timeout=30, what="first run on save")
    await asyncio.sleep(1.0)
    client.text_document_did_save(save)  # the first run (sleeping) is cancelled at once
    first = run_tokens(client)[0]
    await wait_for(lambda: isinstance(client.progress_reports[first][-1], types.WorkDoneProgressEnd), what="first end")
    assert client.progress_reports[first][-1].message == "cancelled"
    await wait_for(lambda: len(run_tokens(client)) == 2, timeout=30, what="second run on save")
    response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, command_params("codeloop.cancel"))
    assert response["result"]["cancelled"] in (0, 1)
    await wait_for(lambda: client.statuses and not client.statuses[-1].busy, what="idle status")
