"""workspace/executeCommand: argument checking shared by every command, and ``codeloop.cancel``.

``codeloop.cancel`` takes nothing or ``{"uri"}`` / ``{"root"}`` and sets the cancel event of
every matching job in ``server.jobs`` (implement, runTests, generateTests: all of them, or
those of that workspace root); features with pending work that is not a job yet (a test
run waiting for its debounce) drop it through the ``"cancel"`` hook. Answer
``{"cancelled": <number of jobs>}``.

To add a command, write a feature module that registers it with ``@server.command(CMD_X)``
(use :func:`target_of` to check its arguments) and add the module to ``FEATURE_MODULES``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from codeloop.lsp import convert
from codeloop.lsp.errors import content_modified, invalid_params
from codeloop.lsp.server import CodeloopServer
from codeloop.workspace.document import Document, uri_to_path

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Target:
    """Where a command acts: a document (open or read from disk) and a line in it."""

    uri: str
    doc: Document
    line: int
    version: int | None


def target_of(ls: CodeloopServer, args: tuple[Any, ...], command: str) -> Target:
    """Check ``[{"uri": str, "line": int, "version": int | null}]`` and load the document.

    Errors: InvalidParams for malformed arguments or a line past the end,
    RequestFailed for a document that cannot be read (missing, binary, not UTF-8),
    ContentModified when the document changed since the action was offered.
    """
    if len(args) != 1 or not isinstance(args[0], dict):
        raise invalid_params(f'codeloop: {command} expects one argument {{"uri", "line", "version"}}')
    arg = args[0]
    uri, line, version = arg.get("uri"), arg.get("line"), arg.get("version")
    if not isinstance(uri, str) or not uri:
        raise invalid_params(f"codeloop: {command}: missing or invalid 'uri'")
    if not isinstance(line, int) or isinstance(line, bool) or line < 0:
        raise invalid_params(f"codeloop: {command}: 'line' must be an integer >= 0")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise invalid_params(f"codeloop: {command}: 'version' must be an integer or null")
    doc = ls.document(uri)
    if line >= doc.line_count:
        raise invalid_params(
            f"codeloop: {command}: line {line} is past the end of {uri} ({doc.line_count} lines)"
        )
    if version is not None and doc.version is not None and doc.version != version:
        raise content_modified(
            f"codeloop: {uri} changed since this action was offered "
            f"(version {version}, now {doc.version}); request the action again"
        )
    return Target(uri, doc, line, version)


def cancel_command(ls: CodeloopServer, *args: Any) -> dict[str, int]:
    """Cancel the jobs of one workspace (``{"uri"}`` or ``{"root"}``) or all of them."""
    root = None
    if args and args[0] is not None:
        arg = args[0]
        if len(args) != 1 or not isinstance(arg, dict):
            raise invalid_params(f'codeloop: {convert.CMD_CANCEL} expects no argument or one {{"uri"}} or {{"root"}}')
        uri, given_root = arg.get("uri"), arg.get("root")
        if uri is not None and (not isinstance(uri, str) or not uri):
            raise invalid_params(f"codeloop: {convert.CMD_CANCEL}: 'uri' must be a document URI")
        if given_root is not None and (not isinstance(given_root, str) or not given_root):
            raise invalid_params(f"codeloop: {convert.CMD_CANCEL}: 'root' must be a directory path")
        if given_root and given_root.startswith("file:"):
            given_root = uri_to_path(given_root) or given_root
        root = given_root or (ls.workspace_root(uri) if uri else None)
    cancelled = ls.jobs.cancel(root)
    ls.hooks.emit("cancel", root)
    log.info("codeloop.cancel (%s): %d job(s)", root or "all workspaces", cancelled)
    return {"cancelled": cancelled}


def register(server: CodeloopServer) -> None:
    server.command(convert.CMD_CANCEL)(cancel_command)
