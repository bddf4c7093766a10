"""The codeloop language server: state, error reporting, and feature registration.

Handlers live in feature modules listed in :data:`FEATURE_MODULES`; each exposes
``register(server: CodeloopServer) -> None`` and keeps its handlers thin (fetch the
document, call one core function, convert the result with :mod:`codeloop.lsp.convert`).
State lives on the :class:`CodeloopServer` instance, never in module globals.

Commands go through ``commands`` (:mod:`codeloop.lsp.command_table`: id, argument schema,
handler); each feature's state is a typed field of ``services``
(:class:`codeloop.lsp.services.ServerServices`). Features share the server through
registries (:mod:`codeloop.lsp.registry`), never by wrapping each other's handlers: ``diagnostics`` (per URI and source; the composition is
published), ``code_action_providers`` (asked by :mod:`codeloop.lsp.code_actions`),
``jobs`` (long work: cancel and the ``busy`` status) and ``hooks`` (document events,
shutdown).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from codeloop import __version__, secrets
from codeloop.config import Settings
from codeloop.lsp.command_table import CommandTable
from codeloop.lsp.errors import invalid_params, request_failed
from codeloop.lsp.gc_policy import GcPolicy
from codeloop.lsp.publish import DiagnosticsPublisher
from codeloop.lsp.registry import DiagnosticsBoard, Hooks, JobRegistry
from codeloop.lsp.services import ServerServices
from codeloop.workspace.document import (
    Document,
    DocumentLoadError,
    DocumentStore,
    uri_to_path,
)
from codeloop.workspace.model import Intent

if TYPE_CHECKING:
    from codeloop.workspace.intents import IntentLines

log = logging.getLogger(__name__)

# Modules that add capabilities, in registration order. Each has
# ``register(server: CodeloopServer) -> None``.
FEATURE_MODULES = [
    "codeloop.lsp.configuration",
    "codeloop.lsp.documents",
    "codeloop.lsp.code_actions",
    "codeloop.lsp.chat",
    "codeloop.lsp.agent_chat",
    "codeloop.lsp.implement",
    "codeloop.lsp.run_tests",
    "codeloop.lsp.generate_tests",
    "codeloop.lsp.inline_completion",
    "codeloop.lsp.index",
    "codeloop.lsp.commands",
]

STATUS_NOTIFICATION = "codeloop/status"
APPLY_TIMEOUT = 30.0  # seconds the editor has to answer workspace/applyEdit
# The diagnostics pass analyses a long file this many lines at a time (each slice's result
# is cached by its exact bytes, so after a small edit only the touched slices are redone).
INTENT_CHUNK_LINES = 200
# The caches of the intents analysis in Document.cache, copied for a worker's snapshot.
INTENT_CACHES = ("intents.ranges", "intents.functions")


class CodeloopProtocol(LanguageServerProtocol):
    """pygls's protocol with two changes.

    * The API key the editor sends in ``initializationOptions`` is registered with the
      log redaction filter before pygls logs the initialize params.
    * ``didChange`` is not applied to pygls's own copy first: codeloop's
      :class:`DocumentStore` applies the changes atomically (rejecting bad ranges), and
      the handler in :mod:`codeloop.lsp.documents` mirrors the result into pygls's copy,
      so the two never disagree.
    """

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):
        options = params.initialization_options
        if isinstance(options, dict):
            model = options.get("model")
            for value in (options.get("apiKey"), model.get("apiKey") if isinstance(model, dict) else None):
                if isinstance(value, str):
                    secrets.add_secret(value)
        return (yield from super().lsp_initialize(params))

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException:
            # pygls drops a request whose params do not match the spec (e.g. a negative
            # line) without answering; answer it so the client does not wait forever.
            if isinstance(data, dict) and "id" in data and "method" in data:
                method = data.get("method")
                error = invalid_params(f"codeloop: invalid parameters for {method}")
                self._send_response(data["id"], error=error.to_response_error())
            raise

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        handler = self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)
        if handler is not None:
            yield handler, (params,), None
        else:  # no codeloop handler: pygls's default behaviour
            for change in params.content_changes:
                self.workspace.update_text_document(params.text_document, change)


class CodeloopServer(LanguageServer):
    """Holds the open documents, settings, test indexes and per-version intent caches."""

    def __init__(self) -> None:
        super().__init__(
            "codeloop",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=CodeloopProtocol,
            max_workers=4,
        )
        self.documents = DocumentStore()
        self.settings = Settings()
        self.settings_warnings: list[str] = []
        self.init_options: Any = None  # as sent; load_settings validates it
        self.client_settings: Any = None
        self.configuration_pulls = 0  # a late answer applies only if no pull came after it
        self.root: Path | None = None
        self.cli_log_level: str | None = None  # --log-level wins over the setting
        self.sandbox_level = "unknown"
        self.diagnostics = DiagnosticsBoard(self._publish_composed)
        self.jobs = JobRegistry(on_change=self.send_status)
        self.hooks = Hooks()
        self.gc_policy = GcPolicy()  # `codeloop serve` enables it (lsp/gc_policy.py)
        self._publisher = DiagnosticsPublisher(self)  # long lists encoded off the loop (lsp/publish.py)
        self.services = ServerServices()  # the features' state: model clients, chat, implement, tests...
        self.commands = CommandTable(self)  # every workspace/executeCommand command, validated one way
        # Each provider: (server, CodeActionParams, Document) -> list[CodeAction].
        self.code_action_providers: list[Callable[..., list[types.CodeAction]]] = []
        self._test_indexes: dict[str, Any] = {}
        self._tested: dict[str, frozenset[str] | None] = {}  # root -> names, until a save
        self._intents: dict[str, tuple[tuple[Any, ...], list[Intent]]] = {}
        self._intent_lines: dict[str, IntentLines] = {}  # the cached intents above, by line
        self._shown: set[str] = set()
        self._error_counts: dict[str, int] = {}

        @self.feature(types.SHUTDOWN)
        def shutdown(ls: CodeloopServer, params: Any = None) -> None:
            ls.jobs.cancel()
            ls.hooks.emit("shutdown")
            ls._cancel_requests_in_flight()

    # -- documents and intents ---------------------------------------------------------

    def document(self, uri: str) -> Document:
        """The open document, or the file read from disk; a one-line LSP error otherwise."""
        if not isinstance(uri, str) or not uri:
            raise invalid_params("expected a document URI")
        try:
            return self.documents.get_or_load(uri)
        except DocumentLoadError as exc:
            raise request_failed(f"codeloop: {exc}") from None

    def test_index(self, doc: Document) -> Any | None:
        """The TestIndex of the workspace that holds ``doc`` (None if unavailable)."""
        from codeloop.workspace.testindex import TestIndex, workspace_root_of

        root: Any = None
        if doc.path is not None:
            root = workspace_root_of(doc.path)
        root = root or self.root
        if root is None:
            return None
        key = str(root)
        index = self._test_indexes.get(key)
        if index is None:
            index = self._test_indexes[key] = TestIndex(root)
        return index

    def tested_names(self, doc: Document) -> frozenset[str] | None:
        """Names the workspace's tests refer to; re-read only after a save or an open."""
        index = self.test_index(doc)
        if index is None:
            return None
        key = str(index.root) if hasattr(index, "root") else str(id(index))
        if key in self._tested:
            return self._tested[key]
        try:
            names = index.tested_names()
        except Exception as exc:  # noqa: BLE001 - intents still work without test info
            self.report_failure("reading the workspace's tests", exc)
            names = None
        self._tested[key] = names
        return names

    def _cached_intents(self, doc: Document, tested: frozenset[str] | None) -> list[Intent] | None:
        cached = self._intents.get(doc.uri)
        if cached is None:
            return None
        version, doc_id, names = cached[0]
        if version == doc.version and doc_id == id(doc) and names is tested:
            return cached[1]
        return None

    def intents(self, doc: Document) -> list[Intent]:
        """Intents of ``doc``, cached per URI and version (and the tested names used)."""
        from codeloop.workspace.intents import find_intents

        tested = self.tested_names(doc)
        intents = self._cached_intents(doc, tested)
        if intents is None:
            intents = find_intents(doc, tested)
            self._intents[doc.uri] = ((doc.version, id(doc), tested), intents)
        return intents

    async def intents_in_worker(self, doc: Document) -> list[Intent] | None:
        """All intents of ``doc``, found in a worker thread on a snapshot, so that the event
        loop serves requests meanwhile (a long file takes a few hundred ms).

        The snapshot gets private copies of the analysis caches (the event loop's code
        actions use the document's own meanwhile); they replace the document's afterwards
        (their keys are the analysed bytes, valid for any version). Returns None when the
        document changed meanwhile (the caller gives up; the change scheduled a new run).
        The result fills the per-version cache.
        """
        from codeloop.workspace.intents import find_intents

        tested = self.tested_names(doc)
        cached = self._cached_intents(doc, tested)
        if cached is not None:
            return cached
        # The text too, not only the version: a client may send a change with the same version
        # (the protocol fuzzer shrank a document under this pass).
        version, uri, source = doc.version, doc.uri, doc.source
        view = doc.snapshot()
        view.cache = {**doc.cache, **{k: dict(doc.cache[k]) for k in INTENT_CACHES if k in doc.cache}}  # type: ignore[arg-type]

        def analyse() -> list[Intent] | None:
            found: dict[tuple[Any, ...], Intent] = {}
            for first in range(0, max(view.line_count, 1), INTENT_CHUNK_LINES):
                if doc.version != version or doc.source is not source:
                    return None  # stale already: stop early
                last = min(first + INTENT_CHUNK_LINES, view.line_count) - 1
                for intent in find_intents(view, tested, lines=(first, max(last, first))):
                    found.setdefault((intent.kind, intent.name, intent.span), intent)
            return list(found.values())

        intents = await asyncio.to_thread(analyse)
        for key in INTENT_CACHES:
            if key in view.cache:
                doc.cache[key] = view.cache[key]
        if (intents is None or doc.version != version or doc.source is not source
                or self.documents.get(uri) is not doc):
            return None
        self._intents[uri] = ((version, id(doc), tested), intents)
        return intents

    def intents_on_lines(self, doc: Document, first: int, last: int) -> list[Intent]:
        """The intents at lines ``first..last``: from the cache when this version was
        analysed already, else by analysing only that region (cheap on long files)."""
        from codeloop.workspace.intents import IntentLines, find_intents

        tested = self.tested_names(doc)
        intents = self._cached_intents(doc, tested)
        if intents is not None:
            by_line = self._intent_lines.get(doc.uri)
            if by_line is None or by_line.intents is not intents:
                by_line = self._intent_lines[doc.uri] = IntentLines(intents)
            return by_line.at(first, last)
        return find_intents(doc, tested, lines=(first, last))

    def _cancel_requests_in_flight(self) -> None:
        """Cancel the requests still running (an implement waiting for the model) before
        pygls does: its shutdown iterates the request table while a cancelled request's
        callback removes itself from it (RuntimeError, and shutdown answered with an error)."""
        protocol = self.protocol
        current = protocol.msg_id
        futures = getattr(protocol, "_request_futures", {})
        for msg_id, future in list(futures.items()):
            if msg_id != current and not future.done():
                future.cancel()

    def workspace_root(self, uri: str | None) -> str | None:
        """The workspace root of the file at ``uri`` (a pyproject.toml/.git above it), else the server's."""
        from codeloop.workspace.testindex import workspace_root_of

        path = uri_to_path(uri) if uri else None
        if path is not None:
            return str(workspace_root_of(path))
        return str(self.root) if self.root is not None else None

    def _publish_composed(self, uri: str, diagnostics: list[types.Diagnostic]) -> None:
        doc = self.documents.get(uri)
        self._publisher.publish(uri, doc.version if doc is not None else None, diagnostics)

    def forget(self, uri: str) -> None:
        self._intents.pop(uri, None)
        self._intent_lines.pop(uri, None)

    def invalidate_tests(self, path: str | None) -> None:
        """A file was saved, opened or changed on disk: test indexes drop what they knew about
        it, and workspace roots are looked up again (a project file may have come or gone)."""
        from codeloop.workspace.testindex import forget_workspace_roots

        forget_workspace_roots()
        self._tested.clear()
        if path is None:
            return
        for index in self._test_indexes.values():
            try:
                index.invalidate(path)
            except Exception:
                log.exception("test index invalidate failed for %s", path)

    # -- talking to the user -----------------------------------------------------------

    def log_to_client(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=secrets.scrub(message)))

    def show(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        """window/showMessage (redacted) that never raises: the work it reports on is done."""
        try:
            self.window_show_message(types.ShowMessageParams(type=kind, message=secrets.scrub(message)))
        except Exception:  # noqa: BLE001 - a closed channel must not turn a result into an error
            log.exception("showMessage failed")

    async def apply_edit(self, edit: types.WorkspaceEdit, label: str) -> tuple[bool, str | None]:
        """workspace/applyEdit: (applied, why not). The client's version check is the last word."""
        try:
            result = await asyncio.wait_for(
                self.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=label)),
                timeout=APPLY_TIMEOUT,
            )
        except asyncio.TimeoutError:
            return False, "the editor did not answer the edit request"
        except Exception as exc:  # noqa: BLE001 - the client refused in its own way
            return False, f"the editor refused the edit: {exc}"
        if result is None or not result.applied:
            return False, getattr(result, "failure_reason", None) or "the editor did not apply the edit"
        return True, None

    def show_once(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        """window/showMessage, but never the same text twice in a session."""
        if message in self._shown:
            return
        self._shown.add(message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=secrets.scrub(message)))

    def report_failure(self, where: str, error: BaseException) -> None:
        """An unexpected exception in a handler: log it; tell the user once per kind.

        The first occurrence goes to window/showMessage and window/logMessage; repeats
        (e.g. on every keystroke) only go to the log file, so nothing spams the editor.
        """
        key = f"{where}: {type(error).__name__}"
        count = self._error_counts.get(key, 0) + 1
        self._error_counts[key] = count
        log.error("%s failed: %s", where, error, exc_info=error)
        if count == 1:
            text = f"codeloop: {where} failed: {type(error).__name__}: {error}"
            self.log_to_client(text + " (further errors of this kind go to the log file only)", types.MessageType.Error)
            self.show_once(text, types.MessageType.Error)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls calls this for errors outside request handlers (notifications, parsing).
        from pygls.exceptions import FeatureRequestError

        if source is FeatureRequestError:
            return  # the client got the error as the response
        where = {
            "FeatureNotificationError": "handling a notification",
            "JsonRpcException": "reading a message from the editor",
            "JsonRpcInternalError": "sending a message to the editor",
        }.get(getattr(source, "__name__", ""), "the server")
        if getattr(source, "__name__", "") == "JsonRpcException":
            # a message the editor sent that cannot be read: the client's bug, not a crash here;
            # one line each (pygls has logged what it was), the user told once
            log.warning("ignored a message from the editor that cannot be read: %s", type(error).__name__)
            self.show_once("codeloop: ignored a malformed message from the editor (details in the log)",
                           types.MessageType.Error)
            return
        self.report_failure(where, error)

    def guard(self, where: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator for notification handlers: an exception is reported, never fatal."""

        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            import functools

            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                try:
                    return func(*args, **kwargs)
                except Exception as exc:  # noqa: BLE001 - reported, server keeps running
                    self.report_failure(where, exc)
                    return None

            return wrapper

        return decorate

    # -- status ------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        model = self.settings.model
        return {
            "state": "ready",
            "sandboxLevel": self.sandbox_level,
            "model": model.completion_model or model.name if model.configured else None,
            "engine": self.settings.engine,
            "busy": self.jobs.busy(),  # a label of the work in progress, or None
        }

    def send_status(self) -> None:
        self.protocol.notify(STATUS_NOTIFICATION, self.status())


def root_from_params(params: types.InitializeParams) -> Path | None:
    """The first workspace folder, else rootUri, else rootPath."""
    candidates: list[str | None] = []
    if params.workspace_folders:
        candidates.append(params.workspace_folders[0].uri)
    candidates.append(params.root_uri)
    for uri in candidates:
        if uri:
            path = uri_to_path(uri)
            if path:
                return Path(path)
    if params.root_path:
        return Path(params.root_path)
    return None


def create_server() -> CodeloopServer:
    """A server with every feature module registered."""
    server = CodeloopServer()
    for name in FEATURE_MODULES:
        importlib.import_module(name).register(server)
    return server
