"""The inline completion tests' session: `codeloop serve` (debug log to a file) against the fake
OpenAI server, a workspace folder, and helpers to open, change and complete (the fixtures that
start it are in tests/inline/conftest.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from codeloop.workspace.document import path_to_uri
from support.lsp_client import fake_model_env, initialize, serve_command, start_server


class Session:
    def __init__(self, client: Any, log_file: Any) -> None:
        self.client = client
        self.log_file = log_file
        self.root_uri = ""
        self.root: Any = None
        self.verdicts: list[Any] = []  # codeloop/inlineVerified notifications

        @client.feature("codeloop/inlineVerified")
        def verdict(params: Any) -> None:  # a pygls Object
            self.verdicts.append(params)

    @property
    def logs(self) -> list[types.LogMessageParams]:
        return self.client.log_messages  # pytest-lsp records window/logMessage

    @property
    def shown(self) -> list[types.ShowMessageParams]:
        return self.client.messages  # and window/showMessage

    def open(self, name: str, text: str, version: int = 1) -> str:
        uri = f"{self.root_uri}/{name}"
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))

    def params(self, uri: str, line: int, col: int, invoked: bool = True) -> types.InlineCompletionParams:
        kind = types.InlineCompletionTriggerKind.Invoked if invoked else types.InlineCompletionTriggerKind.Automatic
        return types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=col),
            context=types.InlineCompletionContext(trigger_kind=kind))

    async def complete(self, uri: str, line: int, col: int, invoked: bool = True) -> Any:
        return await asyncio.wait_for(
            self.client.text_document_inline_completion_async(self.params(uri, line, col, invoked)), 30)


def items(result: Any) -> list[Any]:
    if result is None:
        return []
    if isinstance(result, list):
        return result
    return list(result.items)


async def model_called(fake: Any, count: int, within: float = 30.0) -> None:
    """Wait until the fake model has received ``count`` completion requests (ordering, not
    timing: ``within`` only stops a broken run from hanging)."""
    async def wait() -> None:
        while len(fake.requests_to("/v1/completions")) < count:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), within)


async def start(tmp_path, fake, *, model: str | None = "fake", init_options=None) -> Session:
    log_file = tmp_path / "server.log"
    client = await start_server(fake_model_env(fake, tmp_path, model=model), serve_command(log_file))
    session = Session(client, log_file)
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n', encoding="utf-8")
    session.root = root
    session.root_uri = path_to_uri(root)
    session.init_result = await initialize(client, root, init_options)
    return session
