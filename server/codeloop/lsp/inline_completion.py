"""``textDocument/inlineCompletion`` (LSP 3.18): thin handler over
:mod:`codeloop.generate.completion`.

* Advertised explicitly with ``InlineCompletionOptions()`` (pygls does not otherwise).
* Automatic triggers wait ``inline_completion.debounce_ms``; Invoked ones do not.
* A newer request for the same document cancels the older one (it answers an empty
  list); so does ``$/cancelRequest`` (pygls cancels the handler's task).
* Answers are cached per (uri, prefix hash, suffix hash): a repeat is instant.
* No model / disabled: an empty list at once, one log line. Model errors: an empty list
  and one ``window/logMessage`` per distinct error (never ``showMessage``).
* The sandbox never blocks a completion: verification of completions with examples runs
  in the background (see :mod:`codeloop.lsp.inline_verify`), and a verified completion,
  when offered again, carries a ``command`` whose title is the evidence.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from codeloop.generate import completion as core
from codeloop.lsp import convert, inline_verify
from codeloop.lsp.command_table import CMD_INLINE_ACCEPTED, CMD_INLINE_STATS, TEXT, CommandSpec
from codeloop.model.errors import Cancelled, ModelError

if TYPE_CHECKING:  # pragma: no cover
    from codeloop.lsp.server import CodeloopServer

log = logging.getLogger(__name__)

EMPTY: list[types.InlineCompletionItem] = []


class InlineService:
    """Per-server inline completion state."""

    def __init__(self) -> None:
        self.cache = core.OfferCache()
        self.latest: dict[str, tuple[int, threading.Event]] = {}  # uri -> (seq, cancel)
        self.seq = 0
        self.logged: set[str] = set()  # messages already sent to the client
        self.verifier: Any = None  # codeloop.lsp.inline_verify.InlineVerifier (set by register)
        self.model_calls = 0
        self.cache_hits = 0
        # (cache "hit"/"miss", ms spent in the handler itself: model wait and debounce excluded)
        self.handler_ms: collections.deque[tuple[str, float]] = collections.deque(maxlen=5000)

    def begin(self, uri: str) -> tuple[int, threading.Event]:
        """A new request for ``uri``: the newest wins, so the older one is cancelled."""
        previous = self.latest.get(uri)
        if previous is not None:
            previous[1].set()
        self.seq += 1
        self.latest[uri] = (self.seq, threading.Event())
        return self.latest[uri]

    def finish(self, uri: str, seq: int) -> None:
        current = self.latest.get(uri)
        if current is not None and current[0] == seq:
            del self.latest[uri]

    def log_once(self, ls: CodeloopServer, message: str, kind=types.MessageType.Info) -> None:
        if message in self.logged:
            return
        self.logged.add(message)
        log.info("%s", message)
        ls.log_to_client(message, kind)


def item(ls: Any, offer: core.Offer, line: int, col_utf16: int) -> types.InlineCompletionItem:
    """The offer as an item; a verified one carries its evidence as the command's title."""
    run = None
    if offer.verified:
        run = convert.command(f"codeloop: {offer.verified}", CMD_INLINE_ACCEPTED, [{"verified": offer.verified}])
    return convert.inline_item(offer.text, line, col_utf16, run)


def register(server: CodeloopServer) -> None:
    service = InlineService()
    server.services.inline = service
    service.verifier = inline_verify.register(server, service.cache)

    def accepted(ls: Any, args: dict[str, Any]) -> None:
        log.info("inline completion accepted: %s", args)
        return None

    def stats(ls: Any, args: dict[str, Any]) -> dict[str, Any]:
        """Counters and the handler's own time per request (for the bench and diagnosis)."""
        verifier = service.verifier
        return {"modelCalls": service.model_calls, "cacheHits": service.cache_hits, "cached": len(service.cache),
                "handlerMs": [[kind, round(ms, 4)] for kind, ms in service.handler_ms],
                "verifications": [[uri, o.status, o.name, o.evidence, o.reason] for uri, o in verifier.outcomes]
                if verifier is not None else [],
                # documents whose check is in the sandbox now (it starts VERIFY_AFTER s after the offer)
                "running": sorted(uri for uri, job in verifier.active.items() if job.ran) if verifier is not None else []}

    server.commands.add(CommandSpec(CMD_INLINE_ACCEPTED, accepted, {"verified": TEXT}, argument_optional=True))
    server.commands.add(CommandSpec(CMD_INLINE_STATS, stats, argument_optional=True))

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: CodeloopServer, params: types.InlineCompletionParams):
        started = time.perf_counter()
        llm = _model(ls, service)
        if llm is None:
            return EMPTY
        uri = params.text_document.uri
        doc = ls.document(uri)
        line, col16 = params.position.line, params.position.character
        if line < 0 or line >= max(doc.line_count, 1):
            return EMPTY
        ctx = core.cursor_context(doc, line, col16)
        if ctx.trigger is None:
            return EMPTY
        key = core.cache_key(uri, ctx)
        offer = service.cache.get(key)
        if offer is not None:
            service.cache_hits += 1
            answer = [item(ls, offer, line, col16)] if offer.text else EMPTY
            service.handler_ms.append(("hit", (time.perf_counter() - started) * 1000))
            return answer

        invoked = (params.context is not None
                   and params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked)
        text, waited = await _ask(ls, service, llm, ctx, uri, invoked)
        if text is None:
            return EMPTY
        offer = core.Offer(text)
        service.cache.put(key, offer)
        if text and service.verifier is not None:
            # Two hops: the first runs before pygls's done-callback, the second after it, so
            # the check starts once this answer has been written (it never delays it).
            loop = asyncio.get_running_loop()
            loop.call_soon(loop.call_soon, _verify, ls, service, doc, line, ctx, offer, key)
        answer = [item(ls, offer, line, col16)] if text else EMPTY
        service.handler_ms.append(("miss", (time.perf_counter() - started - waited) * 1000))
        return answer


def _model(ls: Any, service: InlineService) -> Any | None:
    """The configured model client (one for every feature), or None (said once) when inline
    completion is off."""
    settings = ls.settings
    if not settings.inline_completion.enabled:
        service.log_once(ls, "codeloop: inline completion is disabled (inline_completion.enabled)")
        return None
    llm = ls.services.models.configured(settings.model)
    if llm is None:
        service.log_once(ls, "codeloop: no model configured: inline completion is off "
                             "(set model.name or CODELOOP_MODEL)")
    return llm


async def _ask(ls: Any, service: InlineService, llm: Any, ctx: core.Context, uri: str,
               invoked: bool) -> tuple[str | None, float]:
    """The model's completion at ``ctx`` (None: cancelled by a newer request or by the
    client, or a model error, said once), and the seconds spent waiting (the debounce of an
    automatic trigger and the model): not the handler's own cost."""
    seq, cancel = service.begin(uri)  # the newest request for this document wins
    waited = 0.0
    try:
        delay = 0.0 if invoked else ls.settings.inline_completion.debounce_ms / 1000.0
        if delay > 0:
            mark = time.perf_counter()
            await asyncio.sleep(delay)
            waited += time.perf_counter() - mark
        if cancel.is_set():
            return None, waited
        service.model_calls += 1
        mark = time.perf_counter()
        try:
            # on this loop for a local endpoint (no thread hand-off), else in a worker
            # thread; a cancel (a newer request, or $/cancelRequest cancelling this task)
            # returns at once and abandons the call
            text = await core.acomplete(llm, ctx, cancel)
        finally:
            waited += time.perf_counter() - mark
    except Cancelled:
        return None, waited
    except ModelError as exc:
        service.log_once(ls, f"codeloop: inline completion: {exc}", types.MessageType.Warning)
        return None, waited
    finally:
        service.finish(uri, seq)
    return (None if cancel.is_set() else text), waited


def _verify(ls: Any, service: InlineService, doc: Any, line: int, ctx: core.Context, offer: core.Offer,
            key: tuple[str, str, str]) -> None:
    try:
        service.verifier(ls, doc, line, ctx, offer, key)
    except Exception as exc:  # noqa: BLE001 - verification is best effort
        ls.report_failure("starting the verification of an inline completion", exc)
