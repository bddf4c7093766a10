"""The interface every model provider implements, and the answers it returns.

Callers (implement, test generation, chat, inline completion) type their client as
:class:`ModelClient`; :mod:`codeloop.model.providers` makes one from the settings.
All calls are blocking and take an optional ``cancel`` event; from async code run them
with :func:`codeloop.model.workers.in_worker`. Failures raise
:class:`~codeloop.model.errors.ModelError`, a cancel :class:`~codeloop.model.errors.Cancelled`.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass
class Candidate:
    """One answer: its text, why it ended (``stop``, ``length``, ...), and how it was made."""

    text: str
    finish_reason: str | None = "stop"
    via: str = "chat"  # "chat" or "fim"


class TextStream(Protocol):
    """The deltas of one streamed answer; iterate once with ``for`` or ``async for``.

    After the iteration ``text`` is the whole answer and ``finish_reason`` is ``"stop"``,
    ``"length"``, ... or ``"cancelled"``; failures raise ``ModelError`` from the iteration.
    """

    text: str
    finish_reason: str | None

    def cancel(self) -> None: ...

    def __iter__(self) -> Iterator[str]: ...

    def __aiter__(self) -> AsyncIterator[str]: ...


@runtime_checkable
class ModelClient(Protocol):
    """A client for one configured model endpoint. Thread-safe for concurrent calls."""

    @property
    def configured(self) -> bool: ...

    @property
    def chat_model(self) -> str | None: ...

    @property
    def completion_model(self) -> str | None: ...

    endpoint: str  # for messages: never carries credentials

    def chat(self, messages: Sequence[Mapping[str, str]], *, n: int | None = None,
             temperature: float | None = None, max_tokens: int | None = None, model: str | None = None,
             cancel: threading.Event | None = None) -> list[Candidate]:
        """``n`` answers to ``messages`` (non-streaming)."""
        ...

    async def achat(self, messages: Sequence[Mapping[str, str]], **kwargs: Any) -> list[Candidate]:
        """:meth:`chat` in a worker thread; cancelling the awaiting task cancels the call."""
        ...

    def stream_chat(self, messages: Sequence[Mapping[str, str]], *, temperature: float | None = None,
                    max_tokens: int | None = None, model: str | None = None,
                    cancel: threading.Event | None = None) -> TextStream:
        """The answer to ``messages`` as a stream of text deltas (starts when iterated)."""
        ...

    def complete(self, prefix: str, suffix: str = "", *, max_tokens: int = 256, temperature: float | None = None,
                 stop: Sequence[str] | None = None, model: str | None = None,
                 cancel: threading.Event | None = None) -> Candidate:
        """Fill in the middle between ``prefix`` and ``suffix``."""
        ...

    def embed(self, texts: Sequence[str], *, model: str | None = None,
              cancel: threading.Event | None = None) -> list[list[float]]:
        """One embedding vector per text."""
        ...

    def list_models(self, cancel: threading.Event | None = None) -> list[str]:
        """Model ids the endpoint serves."""
        ...

    def close(self) -> None:
        """Release connections; the client may be used again after."""
        ...
