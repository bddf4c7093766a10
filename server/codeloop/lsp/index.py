"""Workspace symbols, go to definition and find references for Python, from the workspace index.

The index of the server's root (:mod:`codeloop.index`, kept by
:class:`codeloop.services.live_index.LiveIndex`) is scanned after ``initialized`` (a first
full build shows a cancellable ``$/progress``, token ``codeloop-index-*``, and the busy
label ``Indexing Python files``) and kept up to date from the editor: the unsaved text of a
changed document (debounced), saves, closes (back to the file on disk) and watched-file
events. All of it runs on the index's worker thread; queries run on its reader threads, so
the event loop only converts. ``codeloop.resetIndex`` (no argument) forgets the index and
builds it again; its answer is ``{files, definitions, seconds}``.

Columns in the index are bytes; the answers are UTF-16 (:mod:`codeloop.index.positions`,
with the open documents' text). Before answering for a document with changes not yet
indexed, the handler waits (briefly) for them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from codeloop.lsp import convert
from codeloop.lsp.command_table import CMD_RESET_INDEX, CommandSpec
from codeloop.lsp.errors import request_failed
from codeloop.lsp.progress import job_progress
from codeloop.lsp.server import CodeloopServer
from codeloop.workspace.document import Document, path_to_uri, uri_to_path

if TYPE_CHECKING:
    from tree_sitter import Tree

log = logging.getLogger(__name__)

JOB_KIND = "index"
CHANGE_DELAY = 0.15  # seconds after the last keystroke before the unsaved text is indexed
FLUSH_PATIENCE = 2.0  # seconds a definition/references request waits for pending edits
SYMBOL_LIMIT = 200


class IndexFeature:
    """The server's live index (None until ``initialized``, or without a workspace folder)."""

    def __init__(self) -> None:
        self.live: Any = None  # codeloop.services.live_index.LiveIndex
        self.root: Path | None = None  # as the editor named it (URIs are built from it)
        self.timers: dict[str, asyncio.TimerHandle] = {}  # uri -> pending index of its text
        self.scanning: asyncio.Task | None = None

    def rel(self, path: str | None) -> str | None:
        """``path`` relative to the indexed root ("/"), or None outside it or before the index."""
        if path is None or self.live is None or self.live.index is None:
            return None
        rel = os.path.relpath(os.path.realpath(path), self.live.index.root)
        return None if rel.startswith("..") or not rel.endswith(".py") else Path(rel).as_posix()

    def uri(self, rel: str) -> str:
        assert self.root is not None
        return path_to_uri(self.root.joinpath(*rel.split("/")))


def editor_copy(doc: Document) -> tuple[bytes, Tree]:
    """The document's bytes and their parse (re-parsed here if edits are pending: incremental,
    cheap), so that the index thread does not parse the file again."""
    return doc.source, doc.tree


def register(server: CodeloopServer) -> None:
    feature = server.services.index = IndexFeature()

    def on_initialized() -> None:
        if server.root is None:
            return
        from codeloop.services.embeddings import embedder_for
        from codeloop.services.live_index import LiveIndex

        feature.root = server.root
        feature.live = LiveIndex(server.root, embedder=embedder_for(server.settings))
        feature.scanning = asyncio.ensure_future(scan(server, feature))

    def on_change(uri: str, _changes: Any) -> None:
        if feature.live is None or not uri.endswith(".py"):
            return
        old = feature.timers.pop(uri, None)
        if old is not None:
            old.cancel()
        feature.timers[uri] = asyncio.get_running_loop().call_later(CHANGE_DELAY, send_text, uri)

    def send_text(uri: str) -> None:
        feature.timers.pop(uri, None)
        doc = server.documents.get(uri)
        if doc is not None and doc.path is not None and feature.live is not None:
            feature.live.change(doc.path, doc.source, editor_copy(doc))

    def on_disk(uri: str) -> None:  # saved or closed: the file on disk is what counts again
        if feature.live is None:
            return
        pending = feature.timers.pop(uri, None)
        if pending is not None:
            pending.cancel()
        path = uri_to_path(uri)
        if path is not None and path.endswith(".py"):
            doc = server.documents.get(uri)  # saved: what was written is most likely the editor's copy
            feature.live.change(path, None, editor_copy(doc) if doc is not None else None)

    def on_watched(changes: list[tuple[str, int]]) -> None:
        if feature.live is None:
            return
        rescan = False
        for path, _kind in changes:
            if path.endswith(".py"):
                if server.documents.get(path_to_uri(Path(path))) is None:  # open: the editor's text wins
                    feature.live.change(path, None)
            elif not os.path.isfile(path):  # a folder moved or deleted: a scan finds what changed
                rescan = True
        if rescan:
            feature.live.scan()

    def on_shutdown() -> None:
        for timer in feature.timers.values():
            timer.cancel()
        if feature.live is not None:
            feature.live.close(wait=False)  # the scan's job was cancelled; it ends by itself

    server.hooks.on("initialized", on_initialized)
    server.hooks.on("change", on_change)
    server.hooks.on("save", on_disk)
    server.hooks.on("close", on_disk)
    server.hooks.on("watched", on_watched)
    server.hooks.on("shutdown", on_shutdown)

    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(ls: CodeloopServer, params: types.WorkspaceSymbolParams) -> list[Any]:
        return await workspace_symbols(ls, feature, params.query)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: CodeloopServer, params: types.DefinitionParams) -> list[types.Location]:
        return await definitions(ls, feature, params.text_document.uri, params.position)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(ls: CodeloopServer, params: types.ReferenceParams) -> list[types.Location]:
        return await find_references(ls, feature, params.text_document.uri, params.position,
                                     params.context.include_declaration)

    async def reset_index(ls: CodeloopServer, args: dict[str, Any]) -> dict[str, Any]:
        if feature.live is None:
            raise request_failed(f"codeloop: {CMD_RESET_INDEX}: no workspace folder to index")
        ls.jobs.cancel(kind=JOB_KIND)  # a scan in progress gives way
        stats = await scan(ls, feature, reset=True)
        if stats is None:
            raise request_failed(f"codeloop: {CMD_RESET_INDEX}: the index could not be built (see the log)")
        return {"files": stats.files, "definitions": stats.definitions, "seconds": round(stats.seconds, 3),
                "cancelled": stats.cancelled}

    server.commands.add(CommandSpec(CMD_RESET_INDEX, reset_index, {}, argument_optional=True))


async def scan(ls: CodeloopServer, feature: IndexFeature, reset: bool = False) -> Any:
    """A scan of the whole workspace on the index's worker; a full build (a first index, a
    reset) shows progress and is a cancellable job. The SyncStats, or None on failure."""
    from codeloop.job import Job

    live = feature.live
    try:
        full = reset or await asyncio.wrap_future(live.is_empty())
        if not full:
            return await asyncio.wrap_future(live.scan())
        cancel = threading.Event()
        root = str(feature.root)
        async with job_progress(ls, JOB_KIND, "Indexing Python files", root, cancel, feature="index",
                                title="Indexing Python files", percentage=0) as progress:
            stats = await asyncio.wrap_future(live.scan(Job(progress.report, cancel), reset=reset))
            progress.end(f"{stats.files} files, {stats.definitions} definitions ({stats.seconds:.1f} s)"
                         if not stats.cancelled else "cancelled")
            return stats
    except Exception as exc:  # noqa: BLE001 - the editor keeps working without the index
        ls.report_failure("indexing the workspace", exc)
        return None


def _open_sources(ls: CodeloopServer) -> dict[str, bytes]:
    """The open documents' text by real path (what the editor shows wins over the disk)."""
    return {os.path.realpath(d.path): d.source for d in ls.documents if d.path is not None}


async def workspace_symbols(ls: CodeloopServer, feature: IndexFeature, query: str) -> list[types.SymbolInformation]:
    from codeloop.index.positions import LineSource
    from codeloop.index.queries import workspace_symbols as find

    live = feature.live
    if live is None or not query.strip():
        return []
    sources = _open_sources(ls)

    def run(conn: Any) -> list[types.SymbolInformation]:
        lines = LineSource(live.index.root, sources.get)
        out = []
        for s in find(conn, query, limit=SYMBOL_LIMIT):
            line, start, end = lines.definition_span(s.path, s.line, s.col, s.name)
            container = s.qualified_name[: -len(s.name) - 1] if s.qualified_name.endswith("." + s.name) else ""
            out.append(convert.symbol_information(s.name, s.kind, container,
                                                  convert.location(feature.uri(s.path), line, start, end)))
        return out

    return await asyncio.wrap_future(live.read(run, []))


async def _target(ls: CodeloopServer, feature: IndexFeature, uri: str,
                  position: types.Position) -> tuple[str, int, int] | None:
    """(relative path, 1-based line, byte column) of a position, once its pending edits are indexed."""
    from codeloop.index.positions import byte_column

    doc = ls.document(uri)
    rel = feature.rel(doc.path)
    if rel is None:
        return None
    pending = feature.timers.pop(uri, None)
    if pending is not None:  # index the newest text now rather than after the debounce
        pending.cancel()
        feature.live.change(doc.path, doc.source, editor_copy(doc))
    if feature.live.ready.is_set():
        try:
            await asyncio.wait_for(asyncio.wrap_future(feature.live.flush()), FLUSH_PATIENCE)
        except asyncio.TimeoutError:
            log.info("index: answering for %s before its latest edit is indexed", rel)
    return rel, position.line + 1, byte_column(doc.line_text(position.line), position.character)


async def definitions(ls: CodeloopServer, feature: IndexFeature, uri: str,
                      position: types.Position) -> list[types.Location]:
    from codeloop.index.positions import LineSource
    from codeloop.index.queries import definition_at

    if feature.live is None or (where := await _target(ls, feature, uri, position)) is None:
        return []
    sources = _open_sources(ls)

    def run(conn: Any) -> list[types.Location]:
        lines = LineSource(feature.live.index.root, sources.get)
        return [convert.location(feature.uri(s.path), *(lines.definition_span if s.kind != "module" else lines.span)(
                    s.path, s.line, s.col, s.name)) for s in definition_at(conn, *where)]

    return await asyncio.wrap_future(feature.live.read(run, []))


async def find_references(ls: CodeloopServer, feature: IndexFeature, uri: str, position: types.Position,
                          include_declaration: bool) -> list[types.Location]:
    from codeloop.index.positions import LineSource
    from codeloop.index.queries import definition_at, references

    if feature.live is None or (where := await _target(ls, feature, uri, position)) is None:
        return []
    sources = _open_sources(ls)

    def run(conn: Any) -> list[types.Location]:
        lines = LineSource(feature.live.index.root, sources.get)
        seen: set[tuple[str, int, int]] = set()
        out: list[types.Location] = []
        for target in definition_at(conn, *where):
            places = [(target.path, target.line, target.col, target.name)] if include_declaration else []
            places += [(r.path, r.line, r.col, r.name) for r in references(conn, target)]
            for path, line, col, name in places:
                if (path, line, col) not in seen:
                    seen.add((path, line, col))
                    out.append(convert.location(feature.uri(path), *lines.span(path, line, col, name)))
        return out

    return await asyncio.wrap_future(feature.live.read(run, []))


async def affected_tests(ls: CodeloopServer, root: str, path: str) -> list[str] | None:
    """The tests a change to ``path`` may affect, from the index (relative to ``root``);
    None when the index cannot tell (not built yet, another root, nothing found)."""
    feature = ls.services.index
    if feature is None or feature.live is None or feature.live.index is None:
        return None
    if os.path.realpath(root) != str(feature.live.index.root) or (rel := feature.rel(path)) is None:
        return None
    found = await asyncio.wrap_future(feature.live.affected_tests(rel))
    return found or None


__all__ = ["CHANGE_DELAY", "JOB_KIND", "IndexFeature", "affected_tests", "register"]
