"""A pytest-lsp client for `codeloop serve` with the fake model: records statuses and edits.

Used by the end-to-end tests of jobs (cancel, busy status, diagnostics sources) and of the
implement offer. The server is the real one over stdio; the model is tests/fake_openai.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lsp"))
from lsp_helpers import SERVER_ENV, install_raw_spy, make_initialize_params, plain, request_raw, serve_command  # noqa: E402

KEY = "sk-lsp-jobs-0123456789abcdefDONOTLEAK"


def make_workspace(tmp_path: Path, files: dict[str, str], candidates: int) -> Path:
    """``tmp_path/ws`` with ``files`` (relative path -> text), no repair rounds, ``candidates`` per request."""
    root = tmp_path / "ws"
    for rel, text in {"pyproject.toml": "[tool.codeloop.generate]\nrepair_rounds = 0\n"
                      f"[tool.codeloop.model]\ncandidates = {candidates}\n", **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


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


async def execute(client: LanguageClient, command: str, *arguments: Any, timeout: float = 120) -> dict[str, Any]:
    """The raw response of workspace/executeCommand (runs take a while on a loaded machine)."""
    params = types.ExecuteCommandParams(command=command, arguments=list(arguments))
    return await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, params, timeout=timeout)


def busy(client: LanguageClient) -> Any:
    """``busy`` of the last codeloop/status (None before the first one)."""
    return client.statuses[-1]["busy"] if client.statuses else None  # type: ignore[attr-defined]


def apply_text_edit(text: str, edit: dict[str, Any]) -> str:
    """Apply one wire-format TextEdit (whole lines here) to ``text``."""
    lines = text.splitlines(keepends=True)
    start, end = edit["range"]["start"], edit["range"]["end"]
    assert start["character"] == 0 and end["character"] == 0, edit
    return "".join(lines[: start["line"]]) + edit["newText"] + "".join(lines[end["line"]:])
