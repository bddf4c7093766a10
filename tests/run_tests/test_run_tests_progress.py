"""codeloop.runTests does not wait for the editor to accept its progress token: a client
that holds its answer to ``window/workDoneProgress/create`` gets the run's answer (and the
diagnostics) first, then a complete progress (begin, end with the summary) once it answers.
Over the real `codeloop serve` (pytest-lsp) and the real sandbox."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from lsprotocol import types

from codeloop.workspace.document import path_to_uri
from support.lsp_client import command_params, initialize, needs_level_a, request_raw, start_server, stop_server

pytestmark = needs_level_a()

TESTS = "def test_ok():\n    assert True\n\n\ndef test_bad():\n    assert 1 == 2\n"


def run_tokens(client) -> list[str]:
    return [t for t in client.progress_reports if str(t).startswith("codeloop-tests-")]


async def test_run_starts_before_the_progress_token_is_accepted(tmp_path: Path):
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    (root / "tests" / "test_a.py").write_text(TESTS)
    test_uri = path_to_uri(root / "tests" / "test_a.py")
    client = await start_server({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")})
    try:
        await initialize(client, root)
        params = command_params("codeloop.runTests", {"file": "tests/test_a.py"})
        first = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, params, timeout=120)  # starts the pool
        assert first["result"]["failed"] == 1, first

        features = client.protocol.fm.features
        accept = features[types.WINDOW_WORK_DONE_PROGRESS_CREATE]
        release = asyncio.Event()
        held: list[str] = []

        async def held_create(params: types.WorkDoneProgressCreateParams) -> None:
            held.append(params.token)
            await release.wait()
            return accept(params)

        features[types.WINDOW_WORK_DONE_PROGRESS_CREATE] = held_create
        client.diagnostics.pop(test_uri, None)
        second = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, params, timeout=120)
        assert (second["result"]["passed"], second["result"]["failed"]) == (1, 1), second
        assert client.diagnostics.get(test_uri)  # published before the token was accepted
        (token,) = held
        assert token not in client.progress_reports  # the run did not wait for the create answer

        release.set()
        for _ in range(500):
            reports = client.progress_reports.get(token, [])
            if reports and isinstance(reports[-1], types.WorkDoneProgressEnd):
                break
            await asyncio.sleep(0.01)
        assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
        assert isinstance(reports[-1], types.WorkDoneProgressEnd)
        assert re.fullmatch(r"1 passed, 1 failed \(\d+\.\d s\)", reports[-1].message)
        assert len(run_tokens(client)) == 2
    finally:
        await stop_server(client)
