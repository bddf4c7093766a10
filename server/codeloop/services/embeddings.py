"""Embeddings for the index's optional semantic search (``index.embeddings = "auto"``).

:func:`embedder_for` gives an :class:`Embedder` only when the setting asks for it and a
model is configured: otherwise None, and the index searches by bm25 alone (no request,
no warning). The first failure of the endpoint (no embeddings route, a 5xx after the
client's retries, a timeout) turns the embedder off for the rest of its life with one
warning; search goes on with bm25.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from codeloop.index.queries import Symbol
from codeloop.index.vectors import embed_pending, semantic_search
from codeloop.model.errors import Cancelled, ModelError

log = logging.getLogger("codeloop.index")


class Embedder:
    """One endpoint's embeddings for the index, turned off after its first failure."""

    def __init__(self, client: Any, model: str) -> None:
        self.client, self.model = client, model
        self.failed: str | None = None
        self.warnings: list[str] = []  # the one warning, for callers that show it
        self._lock = threading.Lock()

    def _fail(self, exc: ModelError) -> None:
        with self._lock:
            if self.failed is None:
                self.failed = exc.message
                message = f"embeddings unavailable ({exc.message}); searching by text only"
                log.warning("%s", message)
                self.warnings.append(message)

    def _embed(self, texts: list[str], cancel: threading.Event | None = None) -> list[list[float]]:
        return self.client.embed(texts, model=self.model, cancel=cancel)

    def update(self, conn: sqlite3.Connection, cancel: threading.Event | None = None, limit: int = 2000) -> int:
        """Embed the definitions not embedded yet, in passes of at most ``limit`` (each pass
        re-reads the index, so a long first embedding follows the edits made meanwhile),
        until none is left, ``cancel`` is set or the endpoint fails. Returns how many were
        embedded (what was stored before a failure or a cancel stays)."""
        total = 0
        while self.failed is None and not (cancel is not None and cancel.is_set()):
            try:
                done = embed_pending(conn, lambda texts: self._embed(texts, cancel), self.model, limit=limit,
                                     cancel=cancel)
            except Cancelled:
                break
            except ModelError as exc:
                self._fail(exc)
                break
            total += done
            if done < limit:
                break
        return total

    def search(self, conn: sqlite3.Connection, query: str, kind: str | None = None, limit: int = 20) -> list[Symbol]:
        """bm25 fused with vectors when there are any; bm25 alone once failed."""
        embed_query = None if self.failed is not None else (lambda text: self._embed([text])[0])
        try:
            return semantic_search(conn, query, embed_query, self.model, kind, limit)
        except ModelError as exc:
            self._fail(exc)
            return semantic_search(conn, query, None, self.model, kind, limit)


_shared: dict[tuple[Any, str], Embedder] = {}
_shared_lock = threading.Lock()


def embedder_for(settings: Any) -> Embedder | None:
    """The embedder the settings ask for, or None (off, or no model configured). One per
    endpoint and model in a process, so that a failing endpoint warns once."""
    index = getattr(settings, "index", None)
    if index is None or index.embeddings != "auto" or not settings.model.configured:
        return None
    from codeloop.model.providers import create_client  # the SDK loads only when embeddings are on

    model = index.embeddings_model or settings.model.name or settings.model.chat_model
    key = (settings.model, model)
    with _shared_lock:
        if key not in _shared:
            try:
                _shared[key] = Embedder(create_client(settings.model), model)
            except ModelError as exc:
                log.warning("embeddings unavailable (%s)", exc.message)
                return None
        return _shared[key]


__all__ = ["Embedder", "embedder_for"]
