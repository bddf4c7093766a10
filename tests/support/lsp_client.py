"""The one client of the end-to-end LSP tests: starting `codeloop serve` (optionally against
the fake model, tests/support/fake_openai.py), an instrumented client, documents, raw
responses, commands, waiting. Import it as ``from support.lsp_client import ...`` (pytest puts
tests/ on ``sys.path``: ``pythonpath`` in pyproject.toml).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from codeloop.workspace.document import path_to_uri

_ids = itertools.count(1)

# The model environment of whoever runs the tests must not leak into the server under test.
SERVER_ENV = {k: v for k, v in os.environ.items() if k not in ("CODELOOP_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY")}


def needs_level_a() -> pytest.MarkDecorator:
    """Skip marker for e2e tests that run the sandbox through the server: its default
    setting accepts sandbox level A only."""
    from codeloop_sandbox import probe

    st = probe()
    return pytest.mark.skipif(st.level != "A", reason=f"the server's default sandbox setting needs level A; "
                              f"bubblewrap here: {st.detail} (fix: {st.fix})")


def serve_command(log_file: Path | None = None) -> list[str]:
    """`codeloop serve` over stdio; with ``log_file``, debug logs there (for tests that read them)."""
    base = [sys.executable, "-m", "codeloop", "serve"]
    return [*base, "--no-log-file"] if log_file is None else [*base, "--log-file", str(log_file), "--log-level", "debug"]


def server_config(extra_env: Mapping[str, str] | None = None, command: list[str] | None = None) -> ClientServerConfig:
    """How to start the server: :data:`SERVER_ENV` plus ``extra_env``."""
    return ClientServerConfig(server_command=command or serve_command(), server_env={**SERVER_ENV, **(extra_env or {})})


def fake_model_env(fake: Any, tmp_path: Path, *, api_key: str = "sk-test", model: str | None = "fake-model") -> dict[str, str]:
    """Environment that points the server at the fake OpenAI server (``fake_openai`` fixture),
    with its cache and data under ``tmp_path``; ``model=None``: no model configured."""
    env = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": api_key,
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data")}
    if model:
        env["CODELOOP_MODEL"] = model
    return env


def instrument(client: LanguageClient) -> None:
    """Answer and record what the server asks of an editor: ``client.statuses`` (codeloop/status),
    ``client.edits`` (workspace/applyEdit, accepted), registerCapability; raw responses kept."""
    client.statuses = []  # type: ignore[attr-defined]
    client.edits = []  # type: ignore[attr-defined]

    @client.feature("codeloop/status")
    def status(params: Any) -> None:  # a pygls Object
        client.statuses.append(params)  # type: ignore[attr-defined]

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        return None

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        client.edits.append(params)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)

    install_raw_spy(client)


async def start_server(extra_env: Mapping[str, str] | None = None, command: list[str] | None = None) -> LanguageClient:
    """A running server with an :func:`instrument`-ed client, not yet initialized
    (outside a ``pytest_lsp.fixture``; end it with :func:`stop_server`)."""
    client = await server_config(extra_env, command).start()
    instrument(client)
    return client


async def initialize(client: LanguageClient, root: Path, init_options: Any = None) -> types.InitializeResult:
    """Initialize on the workspace folder ``root`` as VS Code would."""
    return await client.initialize_session(make_initialize_params(root, init_options))


def client_fixture(config: ClientServerConfig, root: str = "project") -> Any:
    """A pytest-lsp fixture: the server from ``config``, an :func:`instrument`-ed client
    initialized on the directory the fixture named ``root`` gives (``init_result`` kept).
    Use it as ``client = client_fixture(CONFIG)`` at a test module's top level."""

    async def session(lsp_client: LanguageClient, request: pytest.FixtureRequest):
        instrument(lsp_client)
        lsp_client.init_result = await initialize(lsp_client, request.getfixturevalue(root))  # type: ignore[attr-defined]
        yield
        await lsp_client.shutdown_session()

    return pytest_lsp.fixture(session, config=config)


async def stop_server(client: LanguageClient) -> None:
    await client.shutdown_session()
    await client.stop()


def make_initialize_params(
    root: Path | None,
    init_options: Any = None,
    *,
    configuration: bool = True,
) -> types.InitializeParams:
    capabilities = pytest_lsp.client_capabilities("visual-studio-code")
    if not configuration:
        capabilities.workspace.configuration = False
        capabilities.workspace.did_change_configuration = None
    folders = None
    if root is not None:
        folders = [types.WorkspaceFolder(uri=path_to_uri(root), name=root.name)]
    return types.InitializeParams(
        capabilities=capabilities,
        root_uri=path_to_uri(root) if root is not None else None,
        workspace_folders=folders,
        initialization_options=init_options,
    )


def plain(value: Any) -> Any:
    """pygls decodes custom JSON objects as namedtuples; turn them back into dicts."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def install_raw_spy(client: LanguageClient) -> None:
    """Keep the raw JSON of every response: lsprotocol misparses a CodeAction that
    carries a ``command`` as a Command on the client side, so tests read the wire data."""
    client.raw_responses = {}  # type: ignore[attr-defined]
    original = client.protocol.structure_message

    def spy(data: dict[str, Any]):
        if isinstance(data, dict) and "id" in data and "method" not in data:
            client.raw_responses[str(data["id"])] = plain(data)  # type: ignore[attr-defined]
        return original(data)

    client.protocol.structure_message = spy  # type: ignore[method-assign]


async def request_raw(client: LanguageClient, method: str, params: Any, timeout: float = 30) -> dict[str, Any]:
    """Send a request; return the raw response message (``result`` or ``error``)."""
    msg_id = f"raw-{next(_ids)}"
    try:
        await asyncio.wait_for(client.protocol.send_request_async(method, params, msg_id=msg_id), timeout)
    except asyncio.TimeoutError:
        raise
    except Exception:  # an error response: read it from the raw message below
        pass
    return client.raw_responses.pop(msg_id)  # type: ignore[attr-defined]


def open_document(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path_to_uri(path)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)
        )
    )
    return uri


def change_document(
    client: LanguageClient,
    uri: str,
    version: int,
    changes: list[tuple[tuple[int, int, int, int] | None, str]],
) -> None:
    events: list[Any] = []
    for rng, text in changes:
        if rng is None:
            events.append(types.TextDocumentContentChangeWholeDocument(text=text))
        else:
            sl, sc, el, ec = rng
            events.append(
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=sl, character=sc), end=types.Position(line=el, character=ec)
                    ),
                    text=text,
                )
            )
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=events,
        )
    )


def code_action_params(
    uri: str, first: int, last: int | None = None, only: list[str] | None = None, *, end_col: int = 0
) -> types.CodeActionParams:
    last = first if last is None else last
    return types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(
            start=types.Position(line=first, character=0), end=types.Position(line=last, character=end_col)
        ),
        context=types.CodeActionContext(diagnostics=[], only=only),
    )


async def code_actions(client: LanguageClient, uri: str, first: int, last: int | None = None, only=None) -> list[dict]:
    """Raw code actions (dicts, as on the wire) for the lines ``first..last``."""
    response = await request_raw(client, types.TEXT_DOCUMENT_CODE_ACTION, code_action_params(uri, first, last, only))
    assert "error" not in response, response
    return response["result"] or []


async def titles(client: LanguageClient, uri: str, first: int, last: int | None = None) -> list[str]:
    return [action["title"] for action in await code_actions(client, uri, first, last)]


async def wait_for(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``predicate`` (notifications arrive asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def command_params(command: str, *arguments: Any) -> types.ExecuteCommandParams:
    return types.ExecuteCommandParams(command=command, arguments=list(arguments))


def diagnostics_from(client: LanguageClient, uri: str, source: str) -> list[types.Diagnostic]:
    """The diagnostics last published for ``uri`` that come from ``source``."""
    return [d for d in client.diagnostics.get(uri, []) if d.source == source]


async def wait_for_diagnostics(client: LanguageClient, uri: str, check=lambda d: True) -> list[types.Diagnostic]:
    await wait_for(lambda: uri in client.diagnostics and check(client.diagnostics[uri]), what=f"diagnostics for {uri}")
    return list(client.diagnostics[uri])


async def assert_alive(client: LanguageClient, path: Path) -> None:
    """The server still answers a normal request: code actions on a fresh stub."""
    uri = open_document(client, path, "def probe(x):\n    ...\n", version=1)
    assert "Implement probe" in await titles(client, uri, 0)


# --- A server on the fake model with progress support, for the jobs, implement-offer and
# --- generate-tests end-to-end tests.

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
    """A server initialized on ``root``, the model at ``fake_openai`` (key :data:`KEY`), its
    cache and data under ``cache``; recorded as :func:`instrument` says."""
    env = {**fake_model_env(fake_openai, cache, api_key=KEY), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    client = await start_server(env)
    await initialize(client, root)
    return client


async def execute(client: LanguageClient, command: str, *arguments: Any, timeout: float = 120) -> dict[str, Any]:
    """The raw response of workspace/executeCommand (runs take a while on a loaded machine)."""
    return await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, command_params(command, *arguments),
                             timeout=timeout)


def busy(client: LanguageClient) -> Any:
    """``busy`` of the last codeloop/status (None before the first one)."""
    return plain(client.statuses[-1])["busy"] if client.statuses else None  # type: ignore[attr-defined]


def apply_text_edit(text: str, edit: dict[str, Any]) -> str:
    """Apply one wire-format TextEdit (whole lines here) to ``text``."""
    lines = text.splitlines(keepends=True)
    start, end = edit["range"]["start"], edit["range"]["end"]
    assert start["character"] == 0 and end["character"] == 0, edit
    return "".join(lines[: start["line"]]) + edit["newText"] + "".join(lines[end["line"]:])
