"""A cancellable ``$/progress`` for one piece of long work (implement, runTests, generateTests).

Used only when the client advertises ``window.workDoneProgress``; otherwise every call is a
no-op, so features never branch on it. The token is ``codeloop-<feature>-<random>`` so a
client (and a test) can tell the features apart. Cancelling the progress in the client's UI
(``window/workDoneProgress/cancel``) sets the work's cancel event. ``report`` may be called
from a worker thread: it hops to the event loop.

:func:`job_progress` is what features use: it registers the work as a job in
``server.jobs`` (so ``codeloop.cancel`` and the busy status see it), starts the progress,
and on the way out ends both, also when the request is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from lsprotocol import types

log = logging.getLogger(__name__)

CREATE_TIMEOUT = 5.0  # seconds to wait for the client to accept the token


class Progress:
    """One ``$/progress`` token (or none when the client cannot show progress)."""

    def __init__(self, ls: Any, token: str | None, loop: asyncio.AbstractEventLoop) -> None:
        self.ls, self.token, self.loop = ls, token, loop
        self._pending: asyncio.Task | None = None  # the token's creation (start_soon)
        self._ended = False
        self._end_message: str | None = None

    @classmethod
    async def start(
        cls, ls: Any, feature: str, title: str, cancel: threading.Event, message: str | None = None,
        percentage: int | None = None,
    ) -> Progress:
        """Create the token and send ``begin``; a client that refuses gets no progress."""
        progress = cls(ls, None, asyncio.get_running_loop())
        await progress._create(feature, title, cancel, message, percentage)
        return progress

    @classmethod
    def start_soon(
        cls, ls: Any, feature: str, title: str, cancel: threading.Event, message: str | None = None,
        percentage: int | None = None,
    ) -> Progress:
        """Like :meth:`start`, but the work need not wait for the client's answer to the
        token's create request (a round trip through the editor): the token is created in
        the background; reports before it exists are dropped, and an ``end`` before it
        exists is sent right after ``begin``."""
        loop = asyncio.get_running_loop()
        progress = cls(ls, None, loop)
        progress._pending = loop.create_task(progress._create(feature, title, cancel, message, percentage))
        return progress

    async def _create(self, feature: str, title: str, cancel: threading.Event, message: str | None,
                      percentage: int | None) -> None:
        ls = self.ls
        caps = getattr(getattr(ls, "client_capabilities", None), "window", None)
        if not getattr(caps, "work_done_progress", False):
            return
        token = f"codeloop-{feature}-{uuid.uuid4().hex[:12]}"
        try:
            await asyncio.wait_for(ls.work_done_progress.create_async(token), timeout=CREATE_TIMEOUT)
            ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
                title=title, message=message, cancellable=True, percentage=percentage))
            future = ls.work_done_progress.tokens.get(token)
            if future is not None:  # pygls cancels this future on workDoneProgress/cancel
                future.add_done_callback(lambda _f: cancel.set())
        except Exception:  # noqa: BLE001 - progress is a nicety; the work goes on without it
            log.debug("progress %s unavailable", token, exc_info=True)
            return
        self.token = token
        if self._ended:  # the work finished while the token was being created
            self._ended = False
            self.end(self._end_message)

    def report(self, message: str, fraction: float | None = None) -> None:
        """A report (thread-safe); ``fraction`` in 0..1 becomes the percentage."""
        if self.token is None:
            return
        percentage = None if fraction is None else max(0, min(100, int(fraction * 100)))
        value = types.WorkDoneProgressReport(message=message, percentage=percentage)
        self.loop.call_soon_threadsafe(self.ls.work_done_progress.report, self.token, value)

    def end(self, message: str | None = None) -> None:
        """``end`` (on the event loop thread); the token is forgotten."""
        if self.token is None:
            if self._pending is not None and not self._pending.done() and not self._ended:
                self._ended, self._end_message = True, message  # sent once the token exists
            return
        self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        self.ls.work_done_progress.tokens.pop(self.token, None)
        self.token = None


def request_future(ls: Any) -> Any:
    """The future pygls cancels on ``$/cancelRequest`` for the current executeCommand.

    pygls answers the cancel but does not cancel the command's coroutine (the stored future
    is the builtin executeCommand's outer one); watching that future lets the run stop too.
    Call it before the first ``await`` of the command (it reads the current message id).
    """
    protocol = ls.protocol
    try:
        return getattr(protocol, "_request_futures", {}).get(protocol.msg_id)
    except Exception:  # noqa: BLE001 - only a faster cancel path
        return None


def cancel_with_request(request: Any, cancel: threading.Event) -> None:
    """Set ``cancel`` when the client cancels the request (``$/cancelRequest``)."""
    if request is not None and hasattr(request, "add_done_callback"):
        request.add_done_callback(lambda f: cancel.set() if f.cancelled() else None)


@asynccontextmanager
async def job_progress(
    ls: Any, kind: str, label: str, root: str | None, cancel: threading.Event, *, uri: str | None = None,
    feature: str, title: str, message: str | None = None, percentage: int | None = None, request: Any = None,
    eager: bool = False,
) -> AsyncIterator[Progress]:
    """A job in ``ls.jobs`` plus its progress, for the ``async with`` body.

    The body may end the progress itself with its own message; otherwise it ends bare.
    A cancelled request (``asyncio.CancelledError``, or ``request``, the future from
    :func:`request_future`, cancelled by ``$/cancelRequest``) sets ``cancel`` so worker
    threads stop. ``eager``: the body starts without waiting for the client to accept the
    progress token (:meth:`Progress.start_soon`), for work that may take only milliseconds.
    """
    cancel_with_request(request, cancel)
    job = ls.jobs.start(kind, label, root, uri=uri, cancel=cancel)
    progress = Progress(ls, None, asyncio.get_running_loop())
    try:
        if eager:
            progress = Progress.start_soon(ls, feature, title, cancel, message=message, percentage=percentage)
        else:
            progress = await Progress.start(ls, feature, title, cancel, message=message, percentage=percentage)
        yield progress
    except asyncio.CancelledError:
        cancel.set()
        raise
    finally:
        progress.end()
        ls.jobs.finish(job)


__all__ = ["Progress", "cancel_with_request", "job_progress", "request_future"]
