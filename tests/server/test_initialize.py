"""initialize: capabilities, server info, and the codeloop/status notification."""

from __future__ import annotations

from lsprotocol import types

from support.lsp_client import wait_for

COMMANDS = {"codeloop.implement", "codeloop.generateTests", "codeloop.runTests", "codeloop.cancel", "codeloop.offerAccepted"}


async def test_capabilities(client):
    caps = client.init_result.capabilities
    assert client.init_result.server_info.name == "codeloop"

    sync = caps.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert sync.open_close is True

    assert isinstance(caps.code_action_provider, types.CodeActionOptions)
    kinds = set(caps.code_action_provider.code_action_kinds or [])
    assert {"refactor.rewrite.codeloop", "source.codeloop.generateTests"} <= kinds

    assert caps.execute_command_provider is not None
    assert set(caps.execute_command_provider.commands) >= COMMANDS


async def test_status_notification_after_initialized(client):
    await wait_for(lambda: client.statuses, what="codeloop/status")
    status = client.statuses[-1]
    assert status.state == "ready"
    assert status.busy is None
    assert status.model is None  # no model configured in the test environment
    assert isinstance(status.sandboxLevel, str)
