"""A batch of files read, parsed and written to the index by a worker process.

For a big update (the first build, a branch switch) each worker parses its batches and
writes them itself; the workers take turns through a lock file next to the database. A
worker never waits for its turn while it has files to parse: it writes what it has parsed
whenever the turn is free, and only the final flush waits (the kernel wakes the next one at
once, where SQLite's busy wait would sleep). Nothing but a few counts goes back to the parent: no facts are pickled and
the parent's process does no row building (for the language server, no work under its GIL).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codeloop.index.read import FileTask, Outcome, read_one
from codeloop.index.schema import connect, ensure_indexes
from codeloop.index.store import SearchWords, search_words
from codeloop.index.writer import Writer

if TYPE_CHECKING:
    from multiprocessing.synchronize import Barrier


@dataclass
class BatchResult:
    files: int = 0
    changed: int = 0
    removed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


STEP = 16  # files parsed between two looks at the write turn
BARRIER_TIMEOUT = 120.0  # seconds; past it the flush fails (BrokenBarrierError) rather than hang
MAX_WRITE = 256  # files pending that are worth a write turn (fewer near the end: see _index_batch)


CACHE_KIB = 16384  # a worker connection's page cache (SQLite's default: 2 MiB)


def lock_path(db_path: str | Path) -> str:
    return f"{db_path}-lock"


Pending = list[tuple[FileTask, Outcome, "SearchWords | None"]]
# This worker process's files parsed but not written yet: a batch that ends while the other
# worker writes leaves them for a later turn (the next batch's, or the final flush) rather
# than wait. Kept across the tasks of one pool (a pool serves one update).
_pending: Pending = []
_barrier: Barrier | None = None
_unsynced = False  # a first build: this pool's writes go without fsync (schema.begin_unsynced)


def init_worker(barrier: Barrier | None, unsynced: bool = False) -> None:
    """A pool worker's start: the barrier that makes each worker take one :func:`flush`, and
    whether it writes without fsync. The query is compiled here, before the first batch (a
    first build starts its workers while its files are still being sorted out)."""
    global _barrier, _unsynced
    _barrier = barrier
    _unsynced = unsynced
    _pending.clear()
    from codeloop.index.extract import load_query

    load_query()


def index_batch(tasks: list[FileTask], max_bytes: int, db_path: str, busy_timeout: float,
                racy_from: int) -> BatchResult:
    """Read and parse ``tasks``; write them (and what earlier batches left) to the index at
    ``db_path`` whenever the write turn is free, between steps of :data:`STEP` files."""
    # A batch allocates about a million small objects and no reference cycles: the cyclic
    # collector would walk them again and again for nothing (about 10 % of a worker's time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _index_batch(tasks, max_bytes, db_path, busy_timeout, racy_from)
    finally:
        if collecting:
            gc.enable()


def _index_batch(tasks: list[FileTask], max_bytes: int, db_path: str, busy_timeout: float,
                 racy_from: int) -> BatchResult:
    from codeloop.workspace.document import new_parser  # tree-sitter only when something is read

    result = BatchResult(files=len(tasks))
    parser = new_parser()
    fd = os.open(lock_path(db_path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        for i in range(0, len(tasks), STEP):
            for task in tasks[i:i + STEP]:
                out = read_one(task, parser, max_bytes)
                # the pure-Python part of the rows, before the turn
                _pending.append((task, out, search_words(out.rel, out.facts) if out.facts is not None else None))
            # Write what is parsed when the other worker is not writing; when it is, parse
            # on instead of waiting: a core idle in a wait is time the whole build loses.
            # Big transactions cost less CPU a file (the whole tree written 256 files a
            # transaction: -20 % against 16); batches shrink towards the end, and so
            # does what is left for the final flush.
            if len(_pending) < min(MAX_WRITE, 2 * len(tasks)):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            try:
                _write_pending(db_path, busy_timeout, racy_from, result)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return result


def flush(db_path: str, busy_timeout: float, racy_from: int) -> BatchResult:
    """Write what this worker has left, waiting for the turn. The parent submits one per
    worker once every batch is done; the barrier keeps a worker from taking two (while
    one waits at it, the other flush can only go to another worker)."""
    if _barrier is not None:
        _barrier.wait(BARRIER_TIMEOUT)  # the workers are idle: they meet at once
    result = BatchResult()
    with write_turn(db_path):
        _write_pending(db_path, busy_timeout, racy_from, result)
    return result


def _connect(db_path: str, busy_timeout: float) -> sqlite3.Connection:
    """A connection for one write turn. Its page cache holds what a turn of 256 files
    touches: with the default 2 MiB, pages went out of it mid-transaction and back in
    (written to the log and read again): a first build wrote 246 MB to the log and read
    730 MB back, with 16 MiB 89 MB and 340 MB (the system time of the build -0.08 s)."""
    conn = connect(Path(db_path), busy_timeout)
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    if _unsynced:
        conn.execute("PRAGMA synchronous=OFF")
    return conn


_kept: dict[str, list[int]] = {}  # database -> descriptors of it and its log, for _write_back
_writing_back: threading.Thread | None = None


def _write_back(db_path: str) -> None:
    """Without fsync at the checkpoints, what the workers wrote would all go to disk in the
    fsync at the end of the build (~50 ms of the wall): a thread puts it there while this
    worker parses on. The descriptors are never closed: closing one would drop the locks
    SQLite holds on the file in this process (they go with the worker process)."""
    global _writing_back
    if _writing_back is not None and _writing_back.is_alive():
        return
    fds = _kept.get(db_path)
    if fds is None:
        fds = _kept[db_path] = [os.open(path, os.O_RDONLY) for path in (db_path, f"{db_path}-wal")
                                if os.path.exists(path)]

    def sync() -> None:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.fdatasync(fd)

    _writing_back = threading.Thread(target=sync, name="codeloop-index-write-back", daemon=True)
    _writing_back.start()


def _write_pending(db_path: str, busy_timeout: float, racy_from: int, result: BatchResult) -> None:
    """This worker's pending files written in one transaction (in this process's turn)."""
    if not _pending:
        return
    conn = _connect(db_path, busy_timeout)
    try:
        writer = Writer(conn, result, racy_from)  # it lists the new names too (not left to the end)
        try:
            for task, out, words in _pending:
                writer.apply(out, task, words)
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
    finally:
        conn.close()
    _pending.clear()
    if _unsynced:
        _write_back(db_path)


def create_indexes(db_path: str, busy_timeout: float, racy_from: int) -> BatchResult:
    """A first build's indexes, created by a worker in its turn (after writing what it has
    pending: the turn is taken anyway)."""
    result = BatchResult()
    with write_turn(db_path):
        _write_pending(db_path, busy_timeout, racy_from, result)
        conn = _connect(db_path, busy_timeout)
        try:
            ensure_indexes(conn)
            if _unsynced:
                _write_back(db_path)
        finally:
            conn.close()
    return result


@contextlib.contextmanager
def write_turn(db_path: str) -> Iterator[None]:
    """This process's turn to write to the index at ``db_path`` (the lock file)."""
    fd = os.open(lock_path(db_path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


__all__ = ["BatchResult", "create_indexes", "flush", "index_batch", "init_worker", "lock_path",
           "write_turn"]
