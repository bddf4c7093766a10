"""A pytest-lsp client for `codeloop serve` with the fake model: records statuses and edits.

Used by the end-to-end tests of jobs (cancel, busy status, diagnostics sources) and of the
implement offer. The server is the real one over stdio; the model is tests/fake_openai.py.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lsp"))
from lsp_helpers import SERVER_ENV, install_raw_spy, make_initialize_params, plain, serve_command  # noqa: E402

KEY = "sk-lsp-jobs-0123456789abcdefDONOTLEAK"
_ids = itertools.count(1)


async def start_client(root: Path, fake_openai: Any, cache: Path) -> LanguageClient:
    """A server initialized on ``root`` (with progress support), the model at ``fake_openai``."""
    env = {**SERVER_ENV, "OPENAI_BASE_URL": fake_openai.base_url, "OPENAI_API_KEY": KEY,
           "CODELOOP_MODEL": "fake-model", "XDG_CACHE_HOME": str(cache / "cache"),
           "XDG_DATA_HOME": str(cache / "data"), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    client = await ClientServerConfig(server_command=serve_command(), server_env=env).start()
    client.edits = []  # type: ignore[attr-defined]
    client.statuses = []  # type: ignore[attr-defined]

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params):  # noqa: ANN001
        return None

    @client.feature("codeloop/status")
    def status(params):  # noqa: ANN001
        client.statuses.append(plain(params))  # type: ignore[attr-defined]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def on_apply_edit(params: types.ApplyWorkspaceEditParams):
        client.edits.append(params)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)

    install_raw_spy(client)
    await client.initialize_session(make_initialize_params(root))
    return client


async def raw(client: LanguageClient, method: str, params: Any, timeout: float = 120) -> dict[str, Any]:
    """The raw response message of a request (``result`` or ``error``); runs take a while."""
    msg_id = f"jobs-{next(_ids)}"
    try:
        await asyncio.wait_for(client.protocol.send_request_async(method, params, msg_id=msg_id), timeout)
    except asyncio.TimeoutError:
        raise
    except Exception:  # noqa: BLE001 - an error response: read it from the raw message
        pass
    return client.raw_responses.pop(msg_id)  # type: ignore[attr-defined]


async def execute(client: LanguageClient, command: str, *arguments: Any, timeout: float = 120) -> dict[str, Any]:
    """The raw response of workspace/executeCommand."""
    params = types.ExecuteCommandParams(command=command, arguments=list(arguments))
    return await raw(client, types.WORKSPACE_EXECUTE_COMMAND, params, timeout)


async def actions_at(client: LanguageClient, uri: str, line: int) -> list[dict[str, Any]]:
    """Raw code actions for one line."""
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=line, character=0), end=types.Position(line=line, character=0)),
        context=types.CodeActionContext(diagnostics=[]))
    response = await raw(client, types.TEXT_DOCUMENT_CODE_ACTION, params, timeout=30)
    assert "error" not in response, response
    return response["result"] or []


def busy(client: LanguageClient) -> Any:
    """``busy`` of the last codeloop/status (None before the first one)."""
    return client.statuses[-1]["busy"] if client.statuses else None  # type: ignore[attr-defined]


def apply_text_edit(text: str, edit: dict[str, Any]) -> str:
    """Apply one wire-format TextEdit (whole lines here) to ``text``."""
    lines = text.splitlines(keepends=True)
    start, end = edit["range"]["start"], edit["range"]["end"]
    assert start["character"] == 0 and end["character"] == 0, edit
    return "".join(lines[: start["line"]]) + edit["newText"] + "".join(lines[end["line"]:])
