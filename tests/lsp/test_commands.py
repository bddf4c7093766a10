"""workspace/executeCommand: the commands are advertised and answer honestly.

Until their features land, each command answers RequestFailed and shows
"... is not available yet"; it never pretends to succeed. Arguments are checked
first, exactly as the real commands will check them.
"""

from __future__ import annotations

import pytest
from lsprotocol import types

from lsp_helpers import change_document, open_document, request_raw, wait_for

REQUEST_FAILED = -32803
INVALID_PARAMS = -32602
CONTENT_MODIFIED = -32801


def execute(command: str, *arguments):
    return types.ExecuteCommandParams(command=command, arguments=list(arguments))


def placeholder_commands() -> set[str]:
    """Command ids that no feature module implements yet (answered by the placeholder)."""
    from codeloop.lsp.server import create_server

    registered = create_server().protocol.fm.commands
    return {c for c, h in registered.items() if getattr(h, "func", h).__name__.startswith("not_available_")}


PLACEHOLDERS = placeholder_commands()


@pytest.mark.parametrize(
    ("command", "label"),
    [
        ("codeloop.implement", "Implement"),
        ("codeloop.generateTests", "Generate tests"),
        ("codeloop.runTests", "Run tests"),
        ("codeloop.cancel", "Cancel"),
    ],
)
async def test_not_available_yet(client, workspace, command, label):
    if command not in PLACEHOLDERS:
        pytest.skip(f"{command} is implemented by a feature module; its own tests cover it")
    uri = open_document(client, workspace / "m.py", "def f():\n    ...\n")
    response = await request_raw(
        client, types.WORKSPACE_EXECUTE_COMMAND, execute(command, {"uri": uri, "line": 0, "version": 1})
    )
    assert "result" not in response
    assert response["error"]["code"] == REQUEST_FAILED
    assert response["error"]["message"] == f"codeloop: {label} is not available yet in this version"
    await wait_for(lambda: any("not available yet" in m.message for m in client.messages), what="showMessage")
    shown = [m for m in client.messages if "not available yet" in m.message]
    assert shown[-1].message == f"codeloop: {label} is not available yet in this version"


async def test_arguments_are_checked(client, workspace):
    uri = open_document(client, workspace / "m.py", "def f():\n    ...\n")
    cases = [
        execute("codeloop.implement"),
        execute("codeloop.implement", "not a dict"),
        execute("codeloop.implement", {"uri": uri}),
        execute("codeloop.implement", {"uri": uri, "line": -1, "version": 1}),
        execute("codeloop.generateTests", {"uri": uri, "line": 99, "version": 1}),
        execute("codeloop.implement", {"uri": uri, "line": 0, "version": "one"}),
    ]
    for params in cases:
        response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, params)
        assert response["error"]["code"] == INVALID_PARAMS, (params, response)


async def test_stale_version_is_refused(client, workspace):
    uri = open_document(client, workspace / "m.py", "def f():\n    ...\n")
    change_document(client, uri, 2, [((0, 4, 0, 5), "g")])
    response = await request_raw(
        client, types.WORKSPACE_EXECUTE_COMMAND, execute("codeloop.implement", {"uri": uri, "line": 0, "version": 1})
    )
    assert response["error"]["code"] == CONTENT_MODIFIED
    assert "version 1, now 2" in response["error"]["message"]


async def test_unknown_command(client):
    response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, execute("codeloop.nope"))
    assert "error" in response
