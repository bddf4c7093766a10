"""The streamed answer of the ``openai`` provider: a reader thread and sync/async iteration."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol

import openai

from codeloop.model.errors import Cancelled, ModelError
from codeloop.model.workers import POLL


class StreamOwner(Protocol):
    """What the reader thread needs of the client that opened the stream."""

    endpoint: str
    timeout: float

    def _with_retries(self, call: Callable[[Any], Any], cancel: threading.Event | None, model: str | None,
                      deadline: float) -> Any: ...

    def _timed_out(self, attempts: int) -> ModelError: ...

    def _classify(self, exc: BaseException, model: str | None,
                  attempts: int) -> tuple[ModelError, bool, float | None]: ...

    def _short(self, text: str) -> str: ...


_DELTA, _END, _ERROR = "delta", "end", "error"


class ChatStream:
    """The deltas of one streamed answer.

    Iterate it once, with ``for`` or ``async for``. After the iteration ``text`` holds the
    whole answer and ``finish_reason`` is ``"stop"``, ``"length"``, ... or ``"cancelled"``.
    Failures raise :class:`ModelError` from the iteration (``truncated_stream`` when the
    stream was cut, ended without a finish reason, or sent no token for ``timeout``
    seconds; ``text`` keeps what came before); a cancel just ends the iteration.

    The clock is the consumer's: the first token is due ``timeout`` seconds after the
    iteration starts (opening and its retries included; or at ``due``, a deadline the
    caller already runs under), each next one ``timeout`` seconds after the last; bytes
    without a token (keep-alives, empty deltas) do not count.

    ``on_chunk`` (tool turns) sees every chunk in the reader thread, before its text is
    taken; it returns True when the chunk carried something other than text (a tool call's
    delta), which counts as a token for the clock and for "not empty".
    """

    def __init__(self, llm: StreamOwner, open_stream: Callable[[], Any], model: str | None, kind: str,
                 cancel: threading.Event | None, *, on_chunk: Callable[[Any], bool] | None = None,
                 due: float | None = None) -> None:
        self._llm = llm
        self._open = open_stream
        self._model = model
        self._kind = kind
        self._external = cancel
        self._stop = threading.Event()  # set when the consumer is gone or cancelled
        self._sink: Callable[[tuple[str, Any]], None] | None = None
        self._on_chunk = on_chunk
        self._first_due = due
        self._started = False
        self._due = 0.0  # time.monotonic() by which the next token must arrive
        self.text = ""
        self.finish_reason: str | None = None
        self.error: ModelError | None = None

    @property
    def cancelled(self) -> bool:
        return self.finish_reason == "cancelled"

    def cancel(self) -> None:
        """Stop now: no delta is yielded after this returns. Safe from any thread."""
        self._stop.set()
        sink = self._sink
        if sink is not None:
            sink(("cancel", None))

    def _is_cancelled(self) -> bool:
        return self._stop.is_set() or (self._external is not None and self._external.is_set())

    # -- the reader thread -----------------------------------------------------------
    def _start(self, sink: Callable[[tuple[str, Any]], None]) -> None:
        if self._started:
            raise RuntimeError("a ChatStream can be iterated only once")
        self._started = True
        self._due = self._first_due if self._first_due is not None else time.monotonic() + self._llm.timeout
        self._sink = sink
        threading.Thread(target=self._read, args=(sink,), name="codeloop-llm-stream", daemon=True).start()

    def _read(self, sink: Callable[[tuple[str, Any]], None]) -> None:
        llm = self._llm
        stream = None
        finish: str | None = None
        got_text = saw_choice = False
        try:
            stream = llm._with_retries(self._open, self._stop, self._model, self._due)
            for chunk in stream:
                if self._is_cancelled():
                    return
                other = self._on_chunk(chunk) if self._on_chunk is not None else False
                choices = getattr(chunk, "choices", None) or []
                if not choices:
                    continue
                saw_choice = True
                choice = choices[0]
                if self._kind == "chat":
                    delta = getattr(getattr(choice, "delta", None), "content", None)
                else:
                    delta = getattr(choice, "text", None)
                if delta or other:  # a tool call's delta is a token too: "" resets the clock
                    got_text = True
                    sink((_DELTA, delta or ""))
                if getattr(choice, "finish_reason", None):
                    finish = choice.finish_reason
            if self._is_cancelled():
                return
            if not saw_choice and not got_text:
                sink((_ERROR, ModelError("empty", f"the model {self._model!r} returned no answer (empty choices)")))
            elif finish is None:
                sink((_ERROR, ModelError("truncated_stream", f"the answer from {self._model!r} ended without a "
                                         "finish reason (the stream was truncated)")))
            elif not got_text:
                sink((_ERROR, ModelError("empty", f"the model {self._model!r} returned an empty answer")))
            else:
                sink((_END, finish))
        except Cancelled:
            return
        except Exception as exc:  # noqa: BLE001 - becomes a ModelError for the consumer
            if self._is_cancelled():
                return
            if stream is not None and isinstance(exc, openai.APIConnectionError) and not isinstance(
                    exc, openai.APITimeoutError):
                error = ModelError("truncated_stream", f"the answer from {self._model!r} was cut off mid-way "
                                   "(the connection closed before it finished)")
            elif stream is not None and isinstance(exc, openai.APITimeoutError):
                error = self._stalled(got_text)
            else:
                try:
                    error = llm._classify(exc, self._model, 1)[0]
                except Exception as other:  # noqa: BLE001 - an unexpected bug: still one line
                    error = ModelError("server_error", f"model call failed: {llm._short(repr(other))}")
            sink((_ERROR, error))
        finally:
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()

    def _stalled(self, partial: bool) -> ModelError:
        """No token for ``timeout`` s: truncated when some text came, else a timeout."""
        llm = self._llm
        if not partial:
            return llm._timed_out(1)
        return ModelError("truncated_stream", f"truncated: no token for {llm.timeout:g} s from the model endpoint "
                          f"{llm.endpoint} (setting codeloop.model.timeout); the answer so far is kept")

    def _overdue(self) -> None:
        """End the iteration as stalled (raises its ModelError); the reader stops on its own."""
        self._take((_ERROR, self._stalled(bool(self.text))))

    # -- consumers -------------------------------------------------------------------
    # Both iterators (sync and async) share the checks below and differ only in how they
    # wait for the reader thread's next item.
    def _stopped(self) -> bool:
        """True (with ``finish_reason`` "cancelled") once the stream has been cancelled."""
        if self._is_cancelled():
            self.finish_reason = "cancelled"
            return True
        return False

    def _take(self, item: tuple[str, Any]) -> str | None:
        """Apply one item from the reader: the delta to yield, or None when the stream is
        over (ended or cancelled); a failure raises its ModelError."""
        if self._stopped():
            return None
        tag, value = item
        if tag == _DELTA:
            self.text += value
            self._due = time.monotonic() + self._llm.timeout
            return value
        if tag == _ERROR:
            self.finish_reason = "error"
            self.error = value
            raise value
        self.finish_reason = value if tag == _END else "cancelled"
        return None

    def __iter__(self) -> Iterator[str]:
        q: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._start(q.put)
        try:
            while not self._stopped():
                left = self._due - time.monotonic()
                try:
                    if left <= 0:
                        item = q.get_nowait()
                    else:  # with an external threading.Event, wake up now and then to look at it
                        item = q.get(timeout=min(left, POLL) if self._external is not None else left)
                except queue.Empty:
                    if left <= 0:
                        self._overdue()
                    continue
                delta = self._take(item)
                if delta is None:
                    return
                if delta:
                    yield delta
        finally:
            self._stop.set()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        q: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def sink(item: tuple[str, Any]) -> None:
            try:
                loop.call_soon_threadsafe(q.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening
                self._stop.set()

        self._start(sink)
        getter: asyncio.Future[tuple[str, Any]] | None = None
        try:
            while not self._stopped():
                if getter is None:
                    getter = asyncio.ensure_future(q.get())
                # With an external threading.Event, wake up now and then to look at it.
                left = max(0.0, self._due - time.monotonic())
                done, _ = await asyncio.wait({getter}, timeout=min(left, POLL * 5) if self._external is not None
                                             else left)
                if not done:
                    if time.monotonic() >= self._due:
                        self._overdue()
                    continue
                item = getter.result()
                getter = None
                delta = self._take(item)
                if delta is None:
                    return
                if delta:
                    yield delta
        except asyncio.CancelledError:
            self.finish_reason = "cancelled"
            raise
        finally:
            self._stop.set()
            if getter is not None:
                getter.cancel()

