"""Bringing the index up to date with the workspace, doing as little as possible.

A file whose (mtime, size) match the index is not opened; one whose content hash matches
only gets its new mtime; only a changed file is parsed. Files gone from the workspace
(deleted, renamed, newly ignored) are removed. Parsing runs in worker processes when
there is enough of it; the facts are written in batches, each its own transaction, so
readers see progress and a cancel keeps what was done.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from codeloop.index.discover import MAX_FILE_BYTES, Candidate, discover, module_of, packages_of
from codeloop.index.read import FileTask, Outcome, read_many
from codeloop.index.schema import INDEXES
from codeloop.index.store import delete_files, forget_names, insert_file, next_def_id
from codeloop.workspace.testfiles import is_test_file
from codeloop.workspace.testindex import read_pytest_config

BATCH = 64  # files per worker task
COMMIT_EVERY = 256  # files per write transaction
RACY_NS = 2_000_000_000
PARALLEL_FROM = 48  # fewer changed files than this are parsed in this process
Report = Callable[[str, float], None]


@dataclass
class SyncStats:
    files: int = 0  # indexed after the update
    changed: int = 0  # parsed and written
    removed: int = 0
    definitions: int = 0  # classes, functions and methods
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    cancelled: bool = False


def _transaction(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")


def _ensure_indexes(conn: sqlite3.Connection) -> None:
    for statement in INDEXES.split(";"):
        if statement.strip():
            conn.execute(statement)


def test_patterns(root: Path) -> tuple[str, ...]:
    return read_pytest_config(root).python_files


def _outcomes(tasks: list[FileTask], workers: int, max_bytes: int) -> Iterator[Outcome]:
    if workers <= 1 or len(tasks) < PARALLEL_FROM:
        for i in range(0, len(tasks), BATCH):
            yield from read_many(tasks[i:i + BATCH], max_bytes)
        return
    # fork is cheap and safe in a single-threaded process (the CLI); a threaded one (the
    # server) starts clean interpreters instead.
    method = "fork" if threading.active_count() == 1 else "spawn"
    batches = iter([tasks[i:i + BATCH] for i in range(0, len(tasks), BATCH)])
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        pending: deque[Future[list[Outcome]]] = deque(
            pool.submit(read_many, batch, max_bytes) for batch in islice(batches, 2 * workers))
        try:
            while pending:
                result = pending.popleft().result()
                batch = next(batches, None)
                if batch is not None:
                    pending.append(pool.submit(read_many, batch, max_bytes))
                yield from result
        finally:
            for future in pending:  # a cancel: batches not started are dropped
                future.cancel()


class Writer:
    """Applies outcomes to the database, committing every :data:`COMMIT_EVERY` files."""

    def __init__(self, conn: sqlite3.Connection, known: Known, stats: SyncStats) -> None:
        self.conn, self.known, self.stats = conn, known, stats
        # A file modified within the clock's granularity of this scan may change again with
        # the same mtime and size ("racily clean", as git calls it): its mtime is not kept,
        # so the next scan compares its hash.
        self.racy_from = time.time_ns() - RACY_NS
        self.pending = 0
        self.next_id = 0
        self.dropped: set[str] = set()  # names of deleted definitions, dropped at commit if unused

    def _begin(self) -> None:
        if not self.conn.in_transaction:
            _transaction(self.conn)
            self.next_id = next_def_id(self.conn)

    def apply(self, out: Outcome, is_test: bool) -> None:
        self._begin()
        mtime_ns = out.mtime_ns if out.mtime_ns < self.racy_from else -1
        old = self.known.get(out.rel)
        if out.status == "skip":
            self.stats.skipped[out.reason] += 1
            if old is not None:
                delete_files(self.conn, [old[0]], self.dropped)
                self.stats.removed += 1
        elif out.status == "same":
            self.conn.execute("UPDATE files SET mtime_ns=?, size=? WHERE path=?", (mtime_ns, out.size, out.rel))
        else:
            if old is not None:
                delete_files(self.conn, [old[0]], self.dropped)
            assert out.facts is not None
            self.next_id = insert_file(self.conn, out.rel, mtime_ns, out.size, out.digest, is_test,
                                       out.facts, self.next_id)
            self.stats.changed += 1
        self.pending += 1
        if self.pending >= COMMIT_EVERY:
            self.commit()

    def remove(self, rels: Iterable[str]) -> None:
        ids = [self.known[r][0] for r in rels if r in self.known]
        if ids:
            self._begin()
            delete_files(self.conn, ids, self.dropped)
            self.stats.removed += len(ids)

    def commit(self) -> None:
        if self.conn.in_transaction:
            if self.dropped:
                forget_names(self.conn, self.dropped)
                self.dropped.clear()
            self.conn.execute("COMMIT")
        self.pending = 0

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


_KNOWN = "SELECT path, id, mtime_ns, size, hash, is_test, module FROM files"
Known = dict[str, tuple[int, int, int, str, int, str]]  # path -> (id, mtime, size, hash, is_test, module)


def _known(conn: sqlite3.Connection, where: str = "", args: list[str] | None = None) -> Known:
    return {row[0]: row[1:] for row in conn.execute(_KNOWN + where, args or [])}


def sync(conn: sqlite3.Connection, root: Path, *, workers: int | None = None, report: Report | None = None,
         cancel: threading.Event | None = None, max_bytes: int = MAX_FILE_BYTES) -> SyncStats:
    """Scan ``root`` and update the index to match it."""
    start = time.perf_counter()
    stats = SyncStats()
    report = report or (lambda message, fraction: None)
    found = discover(root, max_bytes)
    stats.skipped.update(found.skipped)
    known = _known(conn)
    first_build = not known
    if not first_build:
        _ensure_indexes(conn)  # an interrupted first build left them out
    patterns = test_patterns(root)
    tasks: list[FileTask] = []
    for c in found.files:
        is_test = is_test_file(c.rel, patterns)
        module = module_of(c.rel, found.packages)
        old = known.get(c.rel)
        same_kind = old is not None and bool(old[4]) == is_test and old[5] == module
        if same_kind and old[1] == c.mtime_ns and old[2] == c.size:
            continue
        tasks.append(FileTask(c.rel, c.path, module, is_test, old[3] if same_kind else None))
    present = {c.rel for c in found.files}
    writer = Writer(conn, known, stats)
    try:
        writer.remove(sorted(set(known) - present))
        writer.commit()
        tests = {t.rel: t.is_test for t in tasks}
        total = len(tasks)
        if total:
            report(f"indexing {total} files", 0.0)
        for done, out in enumerate(_outcomes(tasks, _workers(workers), max_bytes), start=1):
            writer.apply(out, tests[out.rel])
            if done % COMMIT_EVERY == 0:
                report(f"indexed {done}/{total} files", done / total)
            if cancel is not None and cancel.is_set():
                stats.cancelled = True
                break
        writer.commit()
    except BaseException:
        writer.rollback()
        raise
    if first_build:
        _ensure_indexes(conn)
    _finish(conn, stats, start)
    return stats


def update_files(conn: sqlite3.Connection, root: Path, changes: dict[str, bytes | None],
                 max_bytes: int = MAX_FILE_BYTES) -> SyncStats:
    """Re-index a few files now: ``changes`` maps absolute paths to the editor's text, or to
    None to read the file from disk (a file that is gone is removed)."""
    start = time.perf_counter()
    stats = SyncStats()
    patterns = test_patterns(root)
    rels = {p: Path(os.path.relpath(p, root)).as_posix() for p in changes}
    marks = ",".join("?" * len(rels))
    known = _known(conn, f" WHERE path IN ({marks})", list(rels.values()))
    writer = Writer(conn, known, stats)
    tasks: list[FileTask] = []
    gone: list[str] = []
    for path, text in changes.items():
        rel = rels[path]
        if rel.startswith("../") or not rel.endswith(".py"):
            continue
        if text is None and not os.path.isfile(path):
            gone.append(rel)
            continue
        is_test = is_test_file(rel, patterns)
        module = module_of(rel, packages_of(root, [rel]))
        old = known.get(rel)
        same_kind = old is not None and bool(old[4]) == is_test and old[5] == module
        tasks.append(FileTask(rel, path, module, is_test, old[3] if same_kind else None, text))
    try:
        writer.remove(gone)
        for out in read_many(tasks, max_bytes):
            writer.apply(out, is_test_file(out.rel, patterns))
        writer.commit()
    except BaseException:
        writer.rollback()
        raise
    _finish(conn, stats, start, count=False)
    return stats


def _workers(workers: int | None) -> int:
    if workers is not None:
        return workers
    return min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _finish(conn: sqlite3.Connection, stats: SyncStats, start: float, count: bool = True) -> None:
    if count:
        stats.files = conn.execute("SELECT count(*) FROM files").fetchone()[0]
        stats.definitions = conn.execute("SELECT count(*) FROM defs WHERE kind != 'module'").fetchone()[0]
    stats.seconds = time.perf_counter() - start


__all__ = ["Candidate", "SyncStats", "sync", "test_patterns", "update_files"]
