"""Background sandbox verification of inline completions (the LSP side of
:mod:`codeloop.verify.completion_check`).

:func:`register` makes the :class:`InlineVerifier` that ``InlineService.verifier`` holds. The
completion handler calls it *after* it has its answer and never awaits it: the check runs
in a worker thread while completions keep being served.

* One verification per document: a newer completion for the document, an edit, a close
  or shutdown cancels the running one (the sandbox run is killed through its cancel event).
* It starts :data:`VERIFY_AFTER` s after the completion was offered: while the user keeps
  typing every completion is overtaken by the next edit, and checking those would only take
  CPU from the requests that answer the editor.
* Only completions after a ``def`` line, a function's docstring or a describing comment are
  checked, and only when the completed function has examples (docstring doctests, comment
  examples) or existing tests; otherwise nothing is claimed.
* Passed: the cached :class:`~codeloop.generate.completion.Offer` gets ``verified`` (the
  evidence, ``verified 3/3 examples``), so the next identical request carries the marker.
  Failed: recorded on the offer and the offer is dropped from the cache, so a completion
  known to fail its own examples is not offered again (the next request asks the model).
* ``inline_completion.verify = false`` starts no check: the completion is recorded as
  skipped (``inline_completion.verify is off``, in ``codeloop.inlineCompletionStats``).
* Each outcome that ran is one ``window/logMessage`` of type Log (``codeloop: inline
  completion of area: verified 2/2 examples``), which editors keep in the output channel
  only; skipped checks and those cancelled before the sandbox ran (nothing to run) go to
  the log file.
* Each verified or failed outcome is also a ``codeloop/inlineVerified`` notification
  (``{uri, version, line, name, status, evidence, reason}``), so a client can show the
  verdict while the suggestion is still on screen (VS Code asks again: a cache hit now
  carries the marker) instead of waiting for the next keystroke.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from codeloop import secrets
from codeloop.generate import completion as core
from codeloop.verify import completion_check as check

if TYPE_CHECKING:  # pragma: no cover
    from codeloop.lsp.server import CodeloopServer

log = logging.getLogger(__name__)

CHECKED_TRIGGERS = ("def", "body", "comment")
VERIFIED_NOTIFICATION = "codeloop/inlineVerified"
VERIFY_OFF = "inline_completion.verify is off"
VERIFY_AFTER = 0.1  # seconds from the offer to the start of its check


@dataclass
class _Job:
    uri: str
    doc: Any
    version: int | None
    offer: core.Offer
    key: tuple[str, str, str]
    line: int = 0  # the cursor line the completion was offered at
    cancel: threading.Event = field(default_factory=threading.Event)
    why: str = ""  # why it was cancelled
    ran: bool = False  # the sandbox run started
    task: asyncio.Task | None = None


class InlineVerifier:
    """Starts, cancels and records background checks of inline completions."""

    def __init__(self, server: CodeloopServer, cache: core.OfferCache) -> None:
        self.cache = cache  # the inline completion offers: a failed check drops its offer
        self.active: dict[str, _Job] = {}
        self.outcomes: collections.deque[tuple[str, check.CheckOutcome]] = collections.deque(maxlen=64)
        server.hooks.on("change", lambda uri, *_: self.cancel(uri, "the document changed"))
        server.hooks.on("close", lambda uri, *_: self.cancel(uri, "the document was closed"))
        server.hooks.on("shutdown", self.cancel_all)

    def cancel(self, uri: str, why: str) -> None:
        job = self.active.get(uri)
        if job is not None and not job.cancel.is_set():
            job.why = why
            job.cancel.set()

    def cancel_all(self, *_: Any) -> None:
        for uri in list(self.active):
            self.cancel(uri, "the server is shutting down")

    def __call__(self, ls: CodeloopServer, doc: Any, line: int, ctx: core.Context, offer: core.Offer,
                 key: tuple[str, str, str]) -> None:
        """Start checking ``offer`` (just computed for ``doc`` at ``line``); returns at once."""
        trigger = ctx.trigger
        if trigger is None or trigger.kind not in CHECKED_TRIGGERS or doc.path is None:
            return
        if offer.verified or offer.failed or offer.verifying or not offer.text:
            return
        if not ls.settings.inline_completion.verify:
            self.outcomes.append((doc.uri, check.CheckOutcome(check.SKIPPED, reason=VERIFY_OFF)))
            return
        self.cancel(doc.uri, "a newer completion arrived")  # latest wins
        job = _Job(doc.uri, doc, doc.version, offer, key, line)
        self.active[doc.uri] = job
        offer.verifying = True
        job.task = asyncio.ensure_future(self._run(ls, job, doc.text, line, len(ctx.line_prefix), trigger))

    async def _run(self, ls: CodeloopServer, job: _Job, text: str, line: int, col: int, trigger: core.Trigger) -> None:
        outcome = check.CheckOutcome(check.CANCELLED, reason="cancelled")
        try:
            await asyncio.sleep(VERIFY_AFTER)
            if self._current(ls, job):
                outcome = await self._check(ls, job, text, line, col, trigger)
        except Exception as exc:  # noqa: BLE001 - verification is best effort, never fatal
            ls.report_failure("verifying an inline completion", exc)
            outcome = check.CheckOutcome(check.SKIPPED, reason=f"{type(exc).__name__}: {exc}")
        finally:
            job.offer.verifying = False
            if self.active.get(job.uri) is job:
                del self.active[job.uri]
        self._record(ls, job, outcome)

    async def _check(self, ls: CodeloopServer, job: _Job, text: str, line: int, col: int,
                     trigger: core.Trigger) -> check.CheckOutcome:
        """The check of ``job``'s completion (cancelled when the document moves on meanwhile)."""
        fn = await asyncio.to_thread(check.assemble, text, line, col, job.offer.text, trigger.kind, trigger.line)
        if fn is None:
            return check.CheckOutcome(check.SKIPPED, reason="the completion does not complete a function")
        if not self._current(ls, job):
            return check.CheckOutcome(check.CANCELLED, reason="cancelled")
        from codeloop.verify.sandbox_policy import sandbox_policy

        root = ls.workspace_root(job.uri)
        policy = sandbox_policy(ls.settings.sandbox)
        job.ran = True
        # an edit, a close or a newer completion sets job.cancel: the run is killed
        return await asyncio.get_running_loop().run_in_executor(
            None, check.check, fn, job.doc.path, root, policy, job.cancel)

    def _current(self, ls: CodeloopServer, job: _Job) -> bool:
        """False once the job was cancelled or its document edited or closed."""
        if job.cancel.is_set():
            return False
        if ls.documents.get(job.uri) is not job.doc or job.doc.version != job.version:
            job.why = job.why or "the document changed"
            job.cancel.set()
            return False
        return True

    def _record(self, ls: CodeloopServer, job: _Job, outcome: check.CheckOutcome) -> None:
        offer = job.offer
        if outcome.status == check.CANCELLED or not self._current(ls, job):
            outcome = check.CheckOutcome(check.CANCELLED, outcome.name, reason=job.why or "cancelled")
        elif outcome.status == check.VERIFIED:
            offer.verified = outcome.evidence
        elif outcome.status == check.FAILED:
            offer.failed = outcome.reason or "failed"
            self.cache.discard(job.key, offer)  # not offered again: the next request asks the model
        self.outcomes.append((job.uri, outcome))
        name = outcome.name or "a function"
        detail = outcome.evidence if outcome.status == check.VERIFIED else f"{outcome.status}: {outcome.reason}"
        message = f"codeloop: inline completion of {name}: {detail}"
        if outcome.status == check.SKIPPED or not job.ran:  # nothing ran: not worth a line in the editor
            log.debug("%s", message)
            return
        log.info("%s", message)
        ls.log_to_client(message, types.MessageType.Log)
        if outcome.status in (check.VERIFIED, check.FAILED):
            ls.protocol.notify(VERIFIED_NOTIFICATION, {
                "uri": job.uri, "version": job.version, "line": job.line, "name": outcome.name,
                "status": outcome.status, "evidence": outcome.evidence or "", "reason": secrets.scrub(outcome.reason or "")})


def register(server: CodeloopServer, cache: core.OfferCache) -> InlineVerifier:
    return InlineVerifier(server, cache)
