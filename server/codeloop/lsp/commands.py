"""workspace/executeCommand: the semantic checks shared by the commands, and ``codeloop.cancel``.

Every command's arguments are first checked by its schema in the command table
(:mod:`codeloop.lsp.command_table`); :func:`target_of` does what a schema cannot: load
the document, refuse a line past its end or a stale version.

``codeloop.cancel`` takes nothing or ``{"uri"}`` / ``{"root"}`` and sets the cancel event of
every matching job in ``server.jobs`` (implement, runTests, generateTests: all of them, or
those of that workspace root); features with pending work that is not a job yet (a test
run waiting for its debounce) drop it through the ``"cancel"`` hook. Answer
``{"cancelled": <number of jobs>}``.

To add a command: a feature module calls ``server.commands.add(CommandSpec(id, handler,
params))`` in its ``register`` (the id goes to the command table's constants), and the
module is listed in ``FEATURE_MODULES``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codeloop.lsp.command_table import CMD_CANCEL, DIRECTORY, URI, CommandSpec
from codeloop.lsp.errors import content_modified, invalid_params
from codeloop.lsp.server import CodeloopServer
from codeloop.workspace.document import Document, uri_to_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """Where a command acts: a document (open or read from disk) and a line in it (None: the whole document)."""

    uri: str
    doc: Document
    line: int | None
    version: int | None


def target_of(ls: CodeloopServer, args: Mapping[str, Any], command: str, on_disk_for: str | None = None) -> Target:
    """Load the document of the parsed ``{"uri", "line"?, "version"?}`` and check the rest.

    ``on_disk_for``: the document must be a file on disk (``only files on disk can <it>``).
    Errors: RequestFailed for a document that cannot be read (missing, binary, not UTF-8),
    InvalidParams for a line past the end (or a document not on disk), ContentModified
    when the document changed since the action was offered.
    """
    uri, line, version = args["uri"], args.get("line"), args.get("version")
    doc = ls.document(uri)
    if on_disk_for is not None and doc.path is None:
        raise invalid_params(f"codeloop: {command}: only files on disk can {on_disk_for}")
    if line is not None and line >= doc.line_count:
        raise invalid_params(
            f"codeloop: {command}: line {line} is past the end of {uri} ({doc.line_count} lines)"
        )
    if version is not None and doc.version is not None and doc.version != version:
        raise content_modified(
            f"codeloop: {uri} changed since this action was offered "
            f"(version {version}, now {doc.version}); request the action again"
        )
    return Target(uri, doc, line, version)


def cancel_command(ls: CodeloopServer, args: Mapping[str, Any]) -> dict[str, int]:
    """Cancel the jobs of one workspace (``{"uri"}`` or ``{"root"}``) or all of them."""
    uri, root = args.get("uri"), args.get("root")
    if root and root.startswith("file:"):
        root = uri_to_path(root) or root
    root = root or (ls.workspace_root(uri) if uri else None)
    cancelled = ls.jobs.cancel(root)
    ls.hooks.emit("cancel", root)
    log.info("codeloop.cancel (%s): %d job(s)", root or "all workspaces", cancelled)
    return {"cancelled": cancelled}


def register(server: CodeloopServer) -> None:
    server.commands.add(CommandSpec(CMD_CANCEL, cancel_command, {"uri": URI, "root": DIRECTORY},
                                    argument_optional=True))
