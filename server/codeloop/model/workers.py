"""Blocking model calls from async code and cancellable waits.

:func:`in_worker` runs a blocking client call in one worker thread that makes the HTTP
request itself (one thread hand-off each way); the awaiting task returns as soon as the
call is cancelled and leaves the thread to finish on its own. :func:`run_cancellable`
makes one blocking call return at once on a cancel.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from codeloop.model.errors import Cancelled

# How often a blocked consumer re-checks a threading.Event it was given.
POLL = 0.01

# How long past its deadline a call may run before :func:`run_cancellable` gives up on it
# (the HTTP client's own timeout, set to the time left, normally ends it first).
OVERDUE_GRACE = 0.5

# Set in the threads of :data:`_WORKERS`: their awaiting task already returns at once on a
# cancel, so a call there runs in the thread itself rather than in a helper thread.
_ABANDONABLE = threading.local()


class _Workers:
    """Daemon threads for :func:`in_worker`: an idle one takes the next call, a new one
    starts when none is idle, and one idle for ``idle_exit`` s ends. Not a
    ThreadPoolExecutor: its threads are joined at exit, and an abandoned call can hang
    until its timeout. (Starting a thread per call measured slower under load.)"""

    def __init__(self, idle_exit: float = 60.0) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()
        self._idle_exit = idle_exit

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:  # a job is queued only for a worker counted idle, under the lock
            if self._idle:
                self._idle -= 1
                self._jobs.put(job)
                return
        threading.Thread(target=self._run, args=(job,), name="codeloop-llm-call", daemon=True).start()

    def _run(self, job: Callable[[], None]) -> None:
        _ABANDONABLE.on = True
        while True:
            job()
            with self._lock:
                self._idle += 1
            while True:
                try:
                    job = self._jobs.get(timeout=self._idle_exit)
                    break
                except queue.Empty:
                    with self._lock:
                        if self._jobs.empty():  # nobody counted on this worker
                            self._idle -= 1
                            return


_WORKERS = _Workers()


async def in_worker(fn: Callable[..., Any], *args: Any, cancel: threading.Event | None = None, **kwargs: Any) -> Any:
    """``fn(*args, cancel=cancel, **kwargs)`` (a blocking call of model client, or a
    function around one) in one worker thread that makes the HTTP requests itself.

    The await raises :class:`Cancelled` within ``POLL`` s of ``cancel`` being set, and
    :class:`asyncio.CancelledError` at once when the awaiting task is cancelled (which sets
    ``cancel``); either way the thread is abandoned: it finishes (or times out) on its own
    and its result is dropped. Retries, backoff and errors are the call's own, unchanged.
    """
    loop = asyncio.get_running_loop()
    cancel = threading.Event() if cancel is None else cancel
    future: asyncio.Future[Any] = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if not future.done():
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)

    def target() -> None:
        value, error = None, None
        try:
            value = fn(*args, cancel=cancel, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            error = exc
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting
            loop.call_soon_threadsafe(settle, value, error)

    def watch() -> None:  # a timer, not asyncio.wait: that would add a loop round to every answer
        if future.done():
            return
        if cancel.is_set():
            future.set_exception(Cancelled())
        else:
            loop.call_later(POLL, watch)

    _WORKERS.submit(target)
    loop.call_later(POLL, watch)
    try:
        return await future
    except asyncio.CancelledError:
        cancel.set()
        raise


async def bounded(awaitable: Awaitable[Any], cancel: threading.Event | None, deadline: float) -> Any:
    """Await ``awaitable`` (on this loop, no thread) until ``deadline`` (``time.monotonic()``):
    past it the work is cancelled and TimeoutError raised; ``cancel`` set cancels it and
    raises :class:`Cancelled` within ``POLL`` s; cancelling the awaiting task cancels it too."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(awaitable)
    why: list[str] = []

    def stop(reason: str) -> None:
        if not task.done():
            why.append(reason)
            task.cancel()

    def watch() -> None:
        nonlocal poll
        if cancel is not None and cancel.is_set():
            stop("cancel")
        elif not task.done():
            poll = loop.call_later(POLL, watch)

    timer = loop.call_at(loop.time() + (deadline - time.monotonic()), stop, "deadline")
    poll = loop.call_later(POLL, watch) if cancel is not None else None
    try:
        return await task
    except asyncio.CancelledError:
        if why and not _being_cancelled():
            raise (Cancelled() if why[0] == "cancel" else TimeoutError()) from None
        if cancel is not None:
            cancel.set()
        raise
    finally:
        timer.cancel()
        if poll is not None:
            poll.cancel()


def _being_cancelled() -> bool:
    """Whether the running task itself was asked to stop (not only what it awaited)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)  # Python 3.11+
    return task is not None and cancelling is not None and cancelling() > 0


class Overdue(Exception):
    """A call given to :func:`run_cancellable` was still running at its deadline."""


def run_cancellable(call: Callable[[], Any], cancel: threading.Event | None, deadline: float | None = None) -> Any:
    """Run ``call``; with a cancel event, in a helper thread so a cancel returns at once
    (in a thread of :func:`in_worker`, right there: its awaiting task does not wait for it).

    In the helper thread the wait also ends at ``deadline`` (``time.monotonic()``) with
    :class:`Overdue`: the HTTP client's own timeouts are per read, so an endpoint that
    trickles bytes could otherwise hold the call past the request's deadline."""
    if cancel is None or getattr(_ABANDONABLE, "on", False):
        return call()
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="codeloop-llm-call", daemon=True).start()
    while not done.wait(POLL):
        if cancel.is_set():
            raise Cancelled()
        if deadline is not None and time.monotonic() > deadline + OVERDUE_GRACE:
            raise Overdue()
    if "error" in box:
        raise box["error"]
    return box["value"]
