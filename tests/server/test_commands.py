"""workspace/executeCommand: every advertised command has its handler, and arguments are
checked before anything runs."""

from __future__ import annotations

from lsprotocol import types

from support.lsp_client import change_document, open_document, request_raw

INVALID_PARAMS = -32602
CONTENT_MODIFIED = -32801


def execute(command: str, *arguments):
    return types.ExecuteCommandParams(command=command, arguments=list(arguments))


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
