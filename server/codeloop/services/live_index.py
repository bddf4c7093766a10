"""The KNOWLEDGE BASE kept live for a long-running front end (the language server).

:class:`LiveIndex` owns one workspace's :class:`~codeloop.index.workspace_index.WorkspaceIndex`
and keeps every write on one worker thread (parsing of a big scan goes to worker
processes): the scan at start, the editor's unsaved text, saved and watched files, a
reset. Edits that arrive while the worker is busy are coalesced (the newest text of each
file wins) and applied in one update. Queries run on reader threads, each with its own
SQLite connection (WAL: readers never wait for the writer), so the caller's thread (the
event loop) only waits on futures. Nothing here knows about LSP.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from codeloop.index.build import BuildFailed, build_in_child
from codeloop.index.queries import Symbol, affected_tests, search
from codeloop.index.sync import SyncStats
from codeloop.index.workspace_index import WorkspaceIndex
from codeloop.job import Job

if TYPE_CHECKING:
    from tree_sitter import Tree

    from codeloop.services.embeddings import Embedder

log = logging.getLogger("codeloop.index")
T = TypeVar("T")


class LiveIndex:
    """One workspace's index, updated in the background and queried from any thread."""

    def __init__(self, root: str | Path, db_path: Path | None = None, *, readers: int = 2,
                 build_process: bool = True, embedder: Embedder | None = None) -> None:
        self.root_arg, self.db_path_arg = root, db_path
        # A full build (the first, or after a reset) runs in a process of its own, so that no
        # parsing or row building competes with the caller's threads for the interpreter lock.
        self.build_process = build_process
        self.index: WorkspaceIndex | None = None
        self.ready = threading.Event()  # set when a full scan has completed
        self.failed: str | None = None  # why the index cannot be used at all
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="codeloop-index-write")
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="codeloop-index-read")
        self._local = threading.local()
        self._generation = 0  # bumped when the database file is replaced (reset, rebuild)
        self._pending: dict[str, bytes | None] = {}
        self._editor: dict[str, tuple[bytes, Tree]] = {}  # the editor's copy of a pending file, parsed
        self._pending_lock = threading.Lock()
        self._flush: Future[SyncStats | None] | None = None
        self._closed = False
        # Semantic search (index.embeddings = "auto"): after each completed scan or update, a
        # pass on a thread of its own embeds what changed (network waits never hold the writer).
        self.embedder = embedder
        self._embedding = ThreadPoolExecutor(1, thread_name_prefix="codeloop-index-embed") if embedder else None
        self._embed_queued = False
        self._embed_cancel = threading.Event()

    # -- writing (the worker thread) -----------------------------------------------------

    def _open(self) -> WorkspaceIndex:
        if self.index is None:
            # the log is copied back after each update (_checkpoint), not in the update's commit
            self.index = WorkspaceIndex(self.root_arg, self.db_path_arg, checkpoint_on_commit=False)
            self._generation += 1
        return self.index

    def _write(self, work: Callable[[WorkspaceIndex], T]) -> T:
        index = self._open()
        conn = index.conn
        try:
            return work(index)
        finally:
            if index.conn is not conn:  # rebuilt: readers must reopen the new file
                self._generation += 1

    def is_empty(self) -> Future[bool]:
        """Whether nothing is indexed yet (the first scan will be a full build)."""
        return self._writer.submit(self._guarded, _is_empty)

    def scan(self, job: Job | None = None, *, reset: bool = False, workers: int | None = None) -> Future[SyncStats]:
        """Bring the whole index up to date (after forgetting everything with ``reset``)."""
        job = job or Job()

        def run(index: WorkspaceIndex) -> SyncStats:
            if reset:
                self.ready.clear()
                index.reset()
                self._generation += 1
            if self.build_process and _is_empty(index):
                stats = self._build(index, job, workers)
            else:
                stats = index.sync(workers=workers, report=job.report, cancel=job.cancel)
            if not stats.cancelled:
                self.ready.set()
                self._embed_soon()
            self._checkpoint_soon()
            for warning in index.warnings:
                log.warning("%s", warning)
            index.warnings.clear()
            return stats

        return self._writer.submit(self._guarded, run)

    def _build(self, index: WorkspaceIndex, job: Job, workers: int | None) -> SyncStats:
        """The full build in a build process; in this one if that cannot run."""
        try:
            stats, warnings = build_in_child(index.root, index.db_path, workers=workers, max_bytes=index.max_bytes,
                                             report=job.report, cancel=job.cancel)
        except BuildFailed as exc:
            log.warning("%s; indexing in this process", exc)
            return index.sync(workers=workers, report=job.report, cancel=job.cancel)
        index.warnings.extend(warnings)
        index.reopen()  # the build may have replaced a damaged file: readers reopen too
        self._generation += 1
        return stats

    def _guarded(self, work: Callable[[WorkspaceIndex], T]) -> T:
        try:
            result = self._write(work)
        except Exception as exc:
            self.failed = f"{type(exc).__name__}: {exc}"
            raise
        self.failed = None
        return result

    def change(self, path: str, text: bytes | None, editor: tuple[bytes, Tree] | None = None
               ) -> Future[SyncStats | None]:
        """Re-index one file: the editor's ``text``, or None to read it from disk (gone: removed).
        ``editor`` is the editor's copy of the file and its parse: when the bytes to index are
        that copy, the worker uses the parse instead of parsing again (a parse holds the
        interpreter lock for ~40 ms on a 10,000-line file). Changes queued while the worker is
        busy are applied together."""
        with self._pending_lock:
            self._pending[path] = text
            if editor is not None:
                self._editor[path] = editor
            else:
                self._editor.pop(path, None)
            if self._flush is None or self._flush.done():
                self._flush = self._writer.submit(self._apply_pending)
            return self._flush

    def flush(self) -> Future[SyncStats | None]:
        """A future that is done when every change queued so far is in the index."""
        with self._pending_lock:
            if self._flush is not None and not self._flush.done():
                return self._flush
        done: Future[SyncStats | None] = Future()
        done.set_result(None)
        return done

    def _apply_pending(self) -> SyncStats | None:
        with self._pending_lock:
            changes, self._pending = self._pending, {}
            editor, self._editor = self._editor, {}
        if not changes or self._closed:
            return None
        if self.failed is not None:  # the last write failed (e.g. a full disk): catch up on everything
            stats = self._guarded(self._full_sync)
        else:
            stats = self._guarded(lambda index: index.update(changes, editor))
        self._checkpoint_soon()  # once this update's answer is out
        if self.ready.is_set():
            self._embed_soon()
        return stats

    def _checkpoint_soon(self) -> None:
        """Queue a checkpoint behind the work in hand (on the writer thread)."""
        if not self._closed:
            with contextlib.suppress(RuntimeError):  # the writer is shutting down meanwhile
                self._writer.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        index = self.index
        if index is None or self._closed:
            return
        try:
            index.checkpoint()
        except sqlite3.Error as exc:  # the next update's commit is what matters; it goes on
            log.info("index checkpoint: %s", exc)

    def _embed_soon(self) -> None:
        """Queue one embedding pass (none when one is queued already and has not started)."""
        with self._pending_lock:
            if self._embedding is None or self._embed_queued or self._closed:
                return
            self._embed_queued = True
        self._embedding.submit(self._embed_pass)

    def _embed_pass(self) -> int:
        with self._pending_lock:
            self._embed_queued = False
        index, embedder = self.index, self.embedder
        if index is None or embedder is None or self._embed_cancel.is_set():
            return 0
        conn = index.reader()
        try:
            return embedder.update(conn, self._embed_cancel)
        except sqlite3.Error as exc:  # the index being replaced: the next pass goes on
            log.info("embedding pass stopped: %s", exc)
            return 0
        finally:
            conn.close()

    def embedded(self) -> Future[int]:
        """A future done when the embedding passes queued so far are over (tests, benches)."""
        if self._embedding is None:
            done: Future[int] = Future()
            done.set_result(0)
            return done
        return self._embedding.submit(lambda: 0)

    def _full_sync(self, index: WorkspaceIndex) -> SyncStats:
        stats = index.sync()
        if not stats.cancelled:
            self.ready.set()
        return stats

    # -- reading (reader threads) ---------------------------------------------------------

    def _reader(self) -> sqlite3.Connection | None:
        index = self.index
        if index is None:
            return None
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            if getattr(local, "conn", None) is not None:
                local.conn.close()
            local.conn, local.generation = index.reader(), self._generation
        return local.conn

    def read(self, query: Callable[[sqlite3.Connection], T], default: T) -> Future[T]:
        """``query(connection)`` on a reader thread (``default`` before the index exists)."""

        def run() -> T:
            conn = self._reader()
            if conn is None:
                return default
            try:
                return query(conn)
            except sqlite3.DatabaseError:
                # A reader that opened while the writer was (re)building the schema can hold a
                # stale view of it ("vtable constructor failed"): reopen once, then give up quietly.
                self._local.generation = None
                conn = self._reader()
                try:
                    return default if conn is None else query(conn)
                except sqlite3.DatabaseError:
                    return default

        return self._readers.submit(run)

    def search(self, query: str, kind: str | None = None, limit: int = 20) -> Future[list[Symbol]]:
        """Full-text search, fused with vector search when embeddings are on and stored."""
        embedder = self.embedder
        if embedder is None:
            return self.read(lambda conn: search(conn, query, kind, limit), [])
        return self.read(lambda conn: embedder.search(conn, query, kind, limit), [])

    def affected_tests(self, path: str) -> Future[list[str] | None]:
        """pytest arguments for the tests a change to ``path`` (relative, "/") may affect;
        None while the first scan has not completed (callers fall back to their own way)."""
        if not self.ready.is_set():
            done: Future[list[str] | None] = Future()
            done.set_result(None)
            return done
        return self.read(lambda conn: affected_tests(conn, path), None)

    def close(self, wait: bool = True) -> None:
        """Stop taking work; with ``wait``, let the running write end and close the database
        (without, a scan still running ends on its own, its cancel event set by the caller)."""
        self._closed = True
        self._embed_cancel.set()
        if self._embedding is not None:
            self._embedding.shutdown(wait=wait, cancel_futures=True)
        self._readers.shutdown(wait=False, cancel_futures=True)
        self._writer.shutdown(wait=wait, cancel_futures=True)
        if wait and self.index is not None:
            self.index.close()


def _is_empty(index: WorkspaceIndex) -> bool:
    return index.conn.execute("SELECT 1 FROM files LIMIT 1").fetchone() is None


__all__ = ["LiveIndex"]
