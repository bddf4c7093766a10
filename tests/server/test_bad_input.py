"""Bad input is answered (or reported once) while the server keeps running.

After each bad input the test proves the server still answers a normal request.
"""

from __future__ import annotations

from lsprotocol import types

from support.lsp_client import (
    assert_alive,
    change_document,
    code_action_params,
    open_document,
    request_raw,
    titles,
    wait_for,
)

REQUEST_FAILED = -32803
INVALID_PARAMS = -32602
STUB = "def f(x):\n    ...\n"


def warnings_about(client, text: str) -> list[str]:
    return [m.message for m in client.log_messages if text in m.message]


async def test_code_action_on_unknown_uri(client, workspace):
    for uri in ((workspace / "missing.py").as_uri(), "untitled:Untitled-1"):
        response = await request_raw(client, types.TEXT_DOCUMENT_CODE_ACTION, code_action_params(uri, 0))
        assert response["error"]["code"] == REQUEST_FAILED
        assert response["error"]["message"].startswith("codeloop: ")
        assert "\n" not in response["error"]["message"]
    await assert_alive(client, workspace / "alive.py")


async def test_change_to_a_closed_document(client, workspace):
    uri = (workspace / "never_opened.py").as_uri()
    for version in (2, 3, 4):  # typing into it: reported once, not per keystroke
        change_document(client, uri, version, [((0, 0, 0, 0), "x")])
    await assert_alive(client, workspace / "alive.py")
    assert len(warnings_about(client, "not open")) == 3  # the log channel gets each one
    shown = [m for m in client.messages if uri in m.message]
    assert len(shown) == 1  # the user is told once


async def test_positions_past_the_end(client, workspace):
    uri = open_document(client, workspace / "m.py", STUB)
    change_document(client, uri, 2, [((40, 0, 41, 0), "def g():\n    pass\n")])
    await wait_for(lambda: warnings_about(client, "past the end"), what="warning")
    # The document kept its last good text.
    assert await titles(client, uri, 0) == ["Implement f", "Generate tests for f"]
    # A column past the line end is clamped (the LSP rule), so this edit applies.
    change_document(client, uri, 3, [((0, 4, 0, 500), "g():")])
    assert await titles(client, uri, 0) == ["Implement g", "Generate tests for g"]
    # A code action range past the end is an error.
    response = await request_raw(client, types.TEXT_DOCUMENT_CODE_ACTION, code_action_params(uri, 99))
    assert response["error"]["code"] == INVALID_PARAMS
    await assert_alive(client, workspace / "alive.py")


async def test_inverted_ranges(client, workspace):
    uri = open_document(client, workspace / "m.py", STUB)
    change_document(client, uri, 2, [((1, 4, 0, 0), "oops")])
    await wait_for(lambda: warnings_about(client, "is after its end"), what="warning")
    assert await titles(client, uri, 0) == ["Implement f", "Generate tests for f"]
    params = code_action_params(uri, 1)
    params.range = types.Range(start=types.Position(line=1, character=3), end=types.Position(line=0, character=0))
    response = await request_raw(client, types.TEXT_DOCUMENT_CODE_ACTION, params)
    assert response["error"]["code"] == INVALID_PARAMS
    await assert_alive(client, workspace / "alive.py")


async def test_a_bad_change_in_a_batch_rejects_the_whole_batch(client, workspace):
    uri = open_document(client, workspace / "m.py", STUB)
    change_document(client, uri, 2, [((0, 4, 0, 5), "renamed"), ((90, 0, 90, 0), "boom")])
    await wait_for(lambda: warnings_about(client, "past the end"), what="warning")
    assert await titles(client, uri, 0) == ["Implement f", "Generate tests for f"]
    # The next valid change (relative to the last good text) applies.
    change_document(client, uri, 3, [((0, 4, 0, 5), "h")])
    assert await titles(client, uri, 0) == ["Implement h", "Generate tests for h"]


async def test_overlapping_edits_apply_in_order(client, workspace):
    uri = open_document(client, workspace / "m.py", "def abcdef():\n    ...\n")
    # Two edits over the same characters: LSP applies each to the result of the previous.
    change_document(client, uri, 2, [((0, 4, 0, 10), "xyz"), ((0, 5, 0, 7), "Q")])
    assert await titles(client, uri, 0) == ["Implement xQ", "Generate tests for xQ"]
    await assert_alive(client, workspace / "alive.py")


async def test_invalid_utf8_and_binary_files_on_disk(client, workspace):
    bad = workspace / "latin1.py"
    bad.write_bytes(b"def caf\xe9():\n    ...\n")
    binary = workspace / "blob.py"
    binary.write_bytes(b"\x00\x01\x02def f(): ...\n")
    for path, words in ((bad, "cannot decode"), (binary, "binary")):
        response = await request_raw(client, types.TEXT_DOCUMENT_CODE_ACTION, code_action_params(path.as_uri(), 0))
        assert response["error"]["code"] == REQUEST_FAILED
        assert words in response["error"]["message"]
        command = types.ExecuteCommandParams(
            command="codeloop.implement", arguments=[{"uri": path.as_uri(), "line": 0, "version": None}]
        )
        response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, command)
        assert response["error"]["code"] == REQUEST_FAILED
        assert words in response["error"]["message"]
    await assert_alive(client, workspace / "alive.py")


async def test_malformed_notifications_are_reported_once(client, workspace):
    uri = open_document(client, workspace / "m.py", STUB)
    bad = {
        "textDocument": {"uri": uri, "version": 2},
        "contentChanges": [{"range": {"start": {"line": -1, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "x"}],
    }
    for _ in range(3):
        client.protocol._send_data({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": bad})
    await assert_alive(client, workspace / "alive.py")
    errors = [m for m in client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1
    assert await titles(client, uri, 0) == ["Implement f", "Generate tests for f"]


async def test_request_with_malformed_params_gets_an_error(client, workspace):
    uri = open_document(client, workspace / "m.py", STUB)
    params = {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": -3, "character": 0}, "end": {"line": 0, "character": 0}},
        "context": {"diagnostics": []},
    }
    client.protocol._send_data(
        {"jsonrpc": "2.0", "id": "malformed-1", "method": "textDocument/codeAction", "params": params}
    )
    await wait_for(lambda: "malformed-1" in client.raw_responses, what="an error response")
    assert client.raw_responses["malformed-1"]["error"]["code"] == INVALID_PARAMS
    await assert_alive(client, workspace / "alive.py")
