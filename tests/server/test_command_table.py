"""The command table's one validator: every command's arguments fail the same way."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException

from codeloop.lsp.command_table import LINE, LOG_ID, URI, VERSION, CommandSpec, CommandTable

SPEC = CommandSpec("codeloop.example", lambda ls, args: args,
                   {"uri": URI.needed(), "line": LINE.needed(), "version": VERSION})
OPTIONAL = CommandSpec("codeloop.optional", lambda ls, args: args, {"uri": URI}, argument_optional=True)


def message(spec: CommandSpec, *args: object) -> str:
    with pytest.raises(JsonRpcException) as info:
        spec.parse(args)
    assert info.value.code == -32602  # InvalidParams, for every argument problem
    return info.value.message


def test_valid_arguments_come_back_without_absent_fields() -> None:
    assert SPEC.parse(({"uri": "file:///a.py", "line": 3, "version": None},)) == {"uri": "file:///a.py", "line": 3}
    assert SPEC.parse(({"uri": "file:///a.py", "line": 0, "version": 7, "extra": 1},)) == {
        "uri": "file:///a.py", "line": 0, "version": 7}


@pytest.mark.parametrize(("args", "expected"), [
    ((), 'codeloop: codeloop.example expects one argument {"uri", "line", "version"?}'),
    (("x",), 'codeloop: codeloop.example expects one argument {"uri", "line", "version"?}'),
    (({"uri": "u"}, {"uri": "u"}), 'codeloop: codeloop.example expects one argument {"uri", "line", "version"?}'),
    (({"line": 1},), "codeloop: codeloop.example: missing 'uri' (a document URI)"),
    (({"uri": "", "line": 1},), "codeloop: codeloop.example: 'uri' must be a document URI"),
    (({"uri": "u", "line": -1},), "codeloop: codeloop.example: 'line' must be an integer >= 0"),
    (({"uri": "u", "line": True},), "codeloop: codeloop.example: 'line' must be an integer >= 0"),
    (({"uri": "u", "line": 1, "version": "2"},), "codeloop: codeloop.example: 'version' must be an integer or null"),
])
def test_bad_arguments_get_one_line_in_one_shape(args: tuple, expected: str) -> None:
    assert message(SPEC, *args) == expected


def test_an_optional_argument_may_be_left_out() -> None:
    assert OPTIONAL.parse(()) == {}
    assert OPTIONAL.parse((None,)) == {}
    assert message(OPTIONAL, 3) == 'codeloop: codeloop.optional expects no argument or one {"uri"?}'


def test_log_ids_start_at_one() -> None:
    spec = CommandSpec("codeloop.offerAccepted", lambda ls, args: args, {"logId": LOG_ID.needed()})
    assert message(spec, {"logId": 0}) == "codeloop: codeloop.offerAccepted: 'logId' must be an integer >= 1"
    assert spec.parse(({"logId": 4},)) == {"logId": 4}


class RecordingServer:
    """Just enough of pygls's ``command`` decorator to see what the table registers."""

    def __init__(self) -> None:
        self.registered: dict[str, object] = {}

    def command(self, name: str):
        def decorate(func):
            self.registered[name] = func
            return func
        return decorate


async def test_the_table_registers_validated_sync_and_async_handlers() -> None:
    server = RecordingServer()
    table = CommandTable(server)

    async def handler(ls, args):
        return ("async", args)

    table.add(CommandSpec("codeloop.a", handler, {"uri": URI.needed()}))
    table.add(SPEC)
    assert await server.registered["codeloop.a"](None, {"uri": "u"}) == ("async", {"uri": "u"})
    assert server.registered["codeloop.example"](None, {"uri": "u", "line": 2}) == {"uri": "u", "line": 2}
    with pytest.raises(JsonRpcException):
        server.registered["codeloop.example"](None, {"uri": "u"})
    with pytest.raises(ValueError, match="registered twice"):
        table.add(SPEC)
