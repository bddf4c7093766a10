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


async def test_every_command_answers_a_malformed_argument_in_one_shape(client):
    """Each command of the table refuses a non-object argument with InvalidParams, one line
    naming the command and its argument object."""
    from codeloop.lsp.server import create_server

    specs = create_server().commands.specs
    assert len(specs) >= 8
    for command, spec in sorted(specs.items()):
        response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, execute(command, "not an object"))
        error = response["error"]
        assert error["code"] == INVALID_PARAMS, (command, response)
        assert error["message"].startswith(f"codeloop: {command} expects "), error
        assert "{" in error["message"] and "\n" not in error["message"]
        if spec.params:  # a field of the wrong type: named, with what it must be
            name = next(iter(spec.params))
            response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, execute(command, {name: []}))
            error = response["error"]
            assert error["code"] == INVALID_PARAMS, (command, response)
            assert error["message"].startswith(f"codeloop: {command}: '{name}' must be "), error


def test_the_commands_intent_kinds_offer_are_in_the_table():
    """The kinds table (a lower layer) names its commands by id: each must be a registered command."""
    from codeloop.lsp.server import create_server
    from codeloop.workspace import kinds

    registered = create_server().commands.specs
    offered = {k.offer.command for k in kinds.KINDS.values() if k.offer is not None}
    assert offered and offered <= set(registered)
