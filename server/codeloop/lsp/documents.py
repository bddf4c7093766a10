"""Text synchronisation (didOpen/didChange/didClose/didSave) and pushed diagnostics.

codeloop's :class:`~codeloop.workspace.document.DocumentStore` is driven by the LSP
``contentChanges`` themselves, so tree-sitter re-parses incrementally. A change that
cannot be applied (unknown document, a line past the end, an inverted range) leaves
the document as it was and is reported once; the server keeps running. Diagnostics
(syntax errors, intents) are published on open and, debounced per URI, on change, as the
``intents`` source of the server's :class:`~codeloop.lsp.registry.DiagnosticsBoard`
(other features' diagnostics for the URI go out with them). Other features learn about
changes, closes, saves and files changed on disk through ``server.hooks`` ("change",
"close", "save", "watched"). ``codeloop.documentState`` tells a client what the server
holds for a document (version, text hash), for checking that the two copies agree.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

from lsprotocol import types

from codeloop.lsp import convert
from codeloop.lsp.command_table import CMD_DOCUMENT_STATE, URI, CommandSpec
from codeloop.lsp.server import CodeloopServer
from codeloop.workspace.document import Document, DocumentEditError, uri_to_path, utf16_len
from codeloop.workspace.model import Span

log = logging.getLogger(__name__)

DIAGNOSTICS_DELAY = 0.2  # seconds after the last change before diagnostics are recomputed
DIAGNOSTICS_SOURCE = "intents"  # this feature's key in server.diagnostics


def register(server: CodeloopServer) -> None:
    timers: dict[str, asyncio.TimerHandle] = {}
    tasks: dict[str, asyncio.Task] = {}

    def schedule(ls: CodeloopServer, uri: str, delay: float) -> None:
        old = timers.pop(uri, None)
        if old is not None:
            old.cancel()
        timers[uri] = asyncio.get_running_loop().call_later(delay, start, ls, uri)

    def start(ls: CodeloopServer, uri: str) -> None:
        timers.pop(uri, None)
        running = tasks.pop(uri, None)
        if running is not None:
            running.cancel()
        tasks[uri] = task = asyncio.ensure_future(publish(ls, uri))
        task.add_done_callback(lambda t: tasks.pop(uri, None) if tasks.get(uri) is t else None)

    async def publish(ls: CodeloopServer, uri: str) -> None:
        try:
            await publish_diagnostics(ls, uri)
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # noqa: BLE001 - reported once, the server keeps running
            ls.report_failure("computing diagnostics", exc)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @server.guard("textDocument/didOpen")
    def did_open(ls: CodeloopServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.documents.open(item.uri, item.text, item.version)
        ls.forget(item.uri)
        ls.hooks.emit("change", item.uri, [(None, item.text)])  # whatever was known is stale
        ls.invalidate_tests(None)  # test files may have changed on disk since the last look
        schedule(ls, item.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @server.guard("textDocument/didChange")
    def did_change(ls: CodeloopServer, params: types.DidChangeTextDocumentParams) -> None:
        uri, version = params.text_document.uri, params.text_document.version
        changes = [change_of(c) for c in params.content_changes]
        try:
            doc = ls.documents.change(uri, changes, version)
        except DocumentEditError as exc:
            reject_change(ls, uri, version, exc)
            return
        mirror(ls, uri, doc.text, version)
        ls.hooks.emit("change", uri, changes)
        schedule(ls, uri, DIAGNOSTICS_DELAY)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @server.guard("textDocument/didClose")
    def did_close(ls: CodeloopServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.documents.close(uri)
        ls.forget(uri)
        for pending in (timers.pop(uri, None), tasks.pop(uri, None)):
            if pending is not None:
                pending.cancel()
        ls.hooks.emit("close", uri)
        ls.diagnostics.set(uri, DIAGNOSTICS_SOURCE, [])  # what other features found stays

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @server.guard("workspace/didChangeWatchedFiles")
    def did_change_watched_files(ls: CodeloopServer, params: types.DidChangeWatchedFilesParams) -> None:
        from codeloop.lsp.configuration import project_file_changed

        changed: list[tuple[str, int]] = []
        for change in params.changes:
            path = uri_to_path(change.uri)
            ls.documents.forget(change.uri)
            ls.invalidate_tests(path)
            if path is not None:
                changed.append((path, int(change.type)))
                if path.endswith("pyproject.toml"):
                    project_file_changed(ls, path)
        ls.hooks.emit("watched", changed)
        for doc in ls.documents:  # tested names may have changed for every open file
            ls.forget(doc.uri)
            schedule(ls, doc.uri, DIAGNOSTICS_DELAY)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    @server.guard("textDocument/didSave")
    def did_save(ls: CodeloopServer, params: types.DidSaveTextDocumentParams) -> None:
        doc = ls.documents.get(params.text_document.uri)
        ls.invalidate_tests(doc.path if doc is not None else None)
        for other in ls.documents:  # tested names may have changed for every open file
            schedule(ls, other.uri, DIAGNOSTICS_DELAY)
        ls.hooks.emit("save", params.text_document.uri)

    server.commands.add(CommandSpec(CMD_DOCUMENT_STATE, document_state, {"uri": URI.needed()}))


def document_state(ls: CodeloopServer, args: dict[str, Any]) -> dict[str, Any]:
    """``codeloop.documentState {uri}``: what the server holds for an open document (its
    version, the SHA-256 of its UTF-8 text, its length in UTF-16 units) so a client can check
    that both copies agree; ``{"open": false}`` for a document that is not open."""
    doc = ls.documents.get(args["uri"])
    if doc is None:
        return {"open": False}
    text = doc.text
    return {"open": True, "version": doc.version, "length": utf16_len(text),
            "sha256": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()}


def change_of(change: types.TextDocumentContentChangeEvent) -> tuple[Span | None, str]:
    """An LSP content change as the document model's ``(range or None, text)``."""
    rng = getattr(change, "range", None)
    if rng is None:
        return None, change.text
    return Span(rng.start.line, rng.start.character, rng.end.line, rng.end.character), change.text


def mirror(ls: CodeloopServer, uri: str, text: str, version: int) -> None:
    """Keep pygls's copy of the document equal to ours (other code may read it)."""
    ls.workspace.put_text_document(
        types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)
    )


def reject_change(ls: CodeloopServer, uri: str, version: int, error: DocumentEditError) -> None:
    """A change we cannot apply: keep the last good text, say so once per document."""
    doc = ls.documents.get(uri)
    if doc is None:
        message = f"codeloop: ignored a change to {uri}, which is not open"
    else:
        message = (
            f"codeloop: ignored an invalid change to {uri} (version {version}): {error}; "
            f"kept version {doc.version}. Close and reopen the file to resynchronise."
        )
    log.warning("%s", message)
    ls.log_to_client(message, types.MessageType.Warning)
    ls.show_once(
        f"codeloop: {uri} is out of sync with the editor; close and reopen it"
        if doc is not None
        else f"codeloop: received changes for {uri}, which is not open",
        types.MessageType.Warning,
    )


async def publish_diagnostics(ls: CodeloopServer, uri: str) -> None:
    """Syntax errors and intents of an open document; skipped if it changes meanwhile.

    The intents, the syntax check, the fingerprint and the conversion of a long file's
    diagnostics (hundreds of ms on 10,000 lines) run in worker threads on snapshots
    (:meth:`CodeloopServer.intents_in_worker`), so the event loop serves requests meanwhile. When what they are made of did not change (typing
    inside a line usually moves no intent), nothing is converted or sent again.
    """
    from codeloop.workspace.syntax import syntax_issues

    doc = ls.documents.get(uri)
    if doc is None:
        return
    intents = await ls.intents_in_worker(doc)
    if intents is None or ls.documents.get(uri) is not doc:
        return  # changed or closed meanwhile: the change scheduled a fresh run
    view = doc.snapshot()

    def compute() -> tuple[Any, list[types.Diagnostic] | None]:
        issues = syntax_issues(view)
        made_from = fingerprint(view, issues, intents)
        if ls.diagnostics.unchanged(uri, DIAGNOSTICS_SOURCE, made_from):
            return made_from, None
        return made_from, convert.diagnostics(view, issues, intents)

    made_from, diagnostics = await asyncio.to_thread(compute)
    if ls.documents.get(uri) is not doc or doc.source is not view.source:
        return  # changed meanwhile: the change scheduled a fresh run
    if diagnostics is not None:
        ls.diagnostics.set(uri, DIAGNOSTICS_SOURCE, diagnostics, fingerprint=made_from)
    ls.gc_policy.settle()  # the pass's caches live on: later full collections need not walk them


def fingerprint(doc: Document, issues: list[Any], intents: list[Any]) -> tuple[Any, ...]:
    """Everything :func:`convert.diagnostics` reads: equal fingerprints, equal diagnostics."""
    return (
        tuple((i.kind, i.name, i.span, i.untested, i.summary, utf16_len(doc.line_text(i.span.start_line)))
              for i in intents),
        tuple((s.message, s.span) for s in issues),
    )
