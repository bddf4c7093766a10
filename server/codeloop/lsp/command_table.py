"""Every ``workspace/executeCommand`` command in one table: id, argument schema, handler.

A feature module adds its commands with ``server.commands.add(CommandSpec(...))``. The
table registers each with pygls behind one validator, so every command checks its
arguments the same way and fails with the same error shape (``InvalidParams``,
``codeloop: <id>: '<name>' must be <what>``). The handler receives the validated
argument object as a plain dict (absent optional fields are absent, not None).

The ids are the public interface (DESIGN.md "Interfaces other tools can rely on"):
clients and scripts send them, so they live here, once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from codeloop.lsp.errors import invalid_params

CMD_IMPLEMENT = "codeloop.implement"
CMD_GENERATE_TESTS = "codeloop.generateTests"
CMD_RUN_TESTS = "codeloop.runTests"
CMD_CANCEL = "codeloop.cancel"
CMD_OFFER_ACCEPTED = "codeloop.offerAccepted"  # run by the client after it applied an offer's edit
CMD_APPLY_CODE = "codeloop.applyCode"  # the chat panel's "apply" button
CMD_INLINE_ACCEPTED = "codeloop.inlineCompletionAccepted"
CMD_INLINE_STATS = "codeloop.inlineCompletionStats"
CMD_RESET_INDEX = "codeloop.resetIndex"  # forget the workspace index and build it again
CMD_APPLY_PROPOSAL = "codeloop.applyProposal"  # the chat panel's Apply on an agent's proposal
CMD_DISCARD_PROPOSAL = "codeloop.discardProposal"
CMD_DOCUMENT_STATE = "codeloop.documentState"  # the server's copy of a document: version and text hash


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Param:
    """One field of a command's argument object: a check and what it must be, in words."""

    check: Callable[[Any], bool]
    must_be: str
    required: bool = False

    def optional(self) -> Param:
        return Param(self.check, self.must_be, False)

    def needed(self) -> Param:
        return Param(self.check, self.must_be, True)


# The field kinds the commands use.
URI = Param(lambda v: isinstance(v, str) and bool(v), "a document URI")
LINE = Param(lambda v: _is_int(v) and v >= 0, "an integer >= 0")
VERSION = Param(_is_int, "an integer or null")
LOG_ID = Param(lambda v: _is_int(v) and v >= 1, "an integer >= 1")
TEXT = Param(lambda v: isinstance(v, str), "a string")
NAME = Param(lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty string")
FLAG = Param(lambda v: isinstance(v, bool), "true or false")
OBJECT = Param(lambda v: isinstance(v, Mapping), "an object")
INTEGER = Param(_is_int, "an integer")
PATH = Param(lambda v: isinstance(v, str) and bool(v), "a path")
DIRECTORY = Param(lambda v: isinstance(v, str) and bool(v), "a directory path")
TEST_ID = Param(lambda v: isinstance(v, str) and bool(v), "a test id such as tests/test_x.py::test_y")


def _is_position(value: Any) -> bool:
    return (isinstance(value, Mapping) and _is_int(value.get("line")) and _is_int(value.get("character"))
            and value["line"] >= 0 and value["character"] >= 0)


RANGE = Param(lambda v: isinstance(v, Mapping) and _is_position(v.get("start")) and _is_position(v.get("end")),
              "{start: {line, character}, end: {line, character}}")

Handler = Callable[..., Any]  # (server, args: dict) -> result, or an awaitable of it


@dataclass(frozen=True)
class CommandSpec:
    """A command: its id, the fields of its one argument object, and its handler.

    ``argument_optional``: the command may be sent with no argument at all (then the
    handler gets ``{}``), as ``codeloop.runTests`` and ``codeloop.cancel`` allow.
    """

    id: str
    handler: Handler
    params: Mapping[str, Param] = field(default_factory=dict)
    argument_optional: bool = False

    def usage(self) -> str:
        names = ", ".join(f'"{n}"' + ("" if p.required else "?") for n, p in self.params.items())
        shape = "no argument or one" if self.argument_optional else "one argument"
        return f"codeloop: {self.id} expects {shape} {{{names}}}"

    def parse(self, args: tuple[Any, ...]) -> dict[str, Any]:
        """The validated argument object; InvalidParams with one line otherwise."""
        if self.argument_optional and (not args or (len(args) == 1 and args[0] is None)):
            return {}
        if len(args) != 1 or not isinstance(args[0], Mapping):
            raise invalid_params(self.usage())
        given = args[0]
        parsed: dict[str, Any] = {}
        for name, param in self.params.items():
            if given.get(name) is None and not param.required:  # null means absent for optional fields
                continue
            if name not in given:
                raise invalid_params(f"codeloop: {self.id}: missing '{name}' ({param.must_be})")
            if not param.check(given[name]):
                raise invalid_params(f"codeloop: {self.id}: '{name}' must be {param.must_be}")
            parsed[name] = given[name]
        return parsed


class CommandTable:
    """The server's commands; ``add`` registers one with pygls behind its validator."""

    def __init__(self, server: Any) -> None:
        self._server = server
        self.specs: dict[str, CommandSpec] = {}

    def add(self, spec: CommandSpec) -> None:
        if spec.id in self.specs:
            raise ValueError(f"command {spec.id} is registered twice")
        self.specs[spec.id] = spec
        handler = spec.handler
        if inspect.iscoroutinefunction(handler):
            async def run_async(ls: Any, *args: Any) -> Any:
                return await handler(ls, spec.parse(args))

            self._server.command(spec.id)(run_async)
        else:
            def run(ls: Any, *args: Any) -> Any:
                return handler(ls, spec.parse(args))

            self._server.command(spec.id)(run)


__all__ = [
    "CMD_APPLY_CODE", "CMD_CANCEL", "CMD_GENERATE_TESTS", "CMD_IMPLEMENT", "CMD_INLINE_ACCEPTED",
    "CMD_INLINE_STATS", "CMD_OFFER_ACCEPTED", "CMD_RESET_INDEX", "CMD_RUN_TESTS", "DIRECTORY", "FLAG", "INTEGER", "LINE", "LOG_ID",
    "NAME", "OBJECT", "PATH", "RANGE", "TEST_ID", "TEXT", "URI", "VERSION", "CommandSpec", "CommandTable", "Param",
]
