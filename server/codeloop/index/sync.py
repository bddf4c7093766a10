"""Bringing the index up to date with the workspace, doing as little as possible.

A file whose (mtime, size) match the index is not opened; one whose content hash matches
only gets its new mtime; only a changed file is parsed. Files gone from the workspace
(deleted, renamed, newly ignored) are removed. Parsing runs in worker processes when
there is enough of it; the facts are written in batches, each its own transaction, so
readers see progress and a cancel keeps what was done.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from codeloop.index.discover import MAX_FILE_BYTES, Candidate, discover, module_namer, module_of, packages_of
from codeloop.index.schema import begin_unsynced, end_unsynced, main_path, unsynced_boot
from codeloop.index.schema import ensure_indexes as _ensure_indexes
from codeloop.workspace.testfiles import is_test_file
from codeloop.workspace.testindex import read_pytest_config

if TYPE_CHECKING:  # the write path (tree-sitter, the writer, worker processes) is imported
    # only when a file changed: a search that finds the index current does not pay for it
    from concurrent.futures import Future, ProcessPoolExecutor

    from tree_sitter import Tree

    from codeloop.index.batch import BatchResult
    from codeloop.index.read import FileTask
    from codeloop.index.writer import Writer

BATCH = 64  # files per write transaction in this process
MIN_BATCH, MAX_BATCH = 16, 512  # files per worker task (see _batches)
INDEX_AT = 0.8  # a first build creates its indexes when this share of the files is in
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


def test_patterns(root: Path) -> tuple[str, ...]:
    return read_pytest_config(root).python_files


def _batches(tasks: list[FileTask], workers: int) -> list[list[FileTask]]:
    """``tasks`` cut into batches that shrink towards the end: big ones first (fewer write
    transactions), small ones last so that the workers finish together."""
    out: list[list[FileTask]] = []
    i = 0
    while i < len(tasks):
        size = max(MIN_BATCH, min(MAX_BATCH, (len(tasks) - i) // (3 * workers)))
        out.append(tasks[i:i + size])
        i += size
    return out


class _Pool:
    """The worker processes of a big update, started on first use; or early, on a first build:
    then they compile the parser's query while this process sorts out the files.
    ``unsynced``: the workers write without fsync (see schema.begin_unsynced)."""

    def __init__(self, workers: int, unsynced: bool = False) -> None:
        self.workers, self.unsynced = workers, unsynced
        self.executor: ProcessPoolExecutor | None = None

    def start(self) -> ProcessPoolExecutor:
        if self.executor is None:
            # fork is cheap and safe in a single-threaded process (the CLI, the server's build
            # process); a threaded one starts clean interpreters instead.
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from codeloop.index.batch import init_worker

            # What the workers run, loaded before the fork: a worker that loads it itself
            # spends ~50 ms of CPU compiling its dataclasses.
            from codeloop.index.extract import load_query  # noqa: F401

            method = "fork" if threading.active_count() == 1 else "spawn"
            context = multiprocessing.get_context(method)
            self.executor = ProcessPoolExecutor(self.workers, mp_context=context, initializer=init_worker,
                                                initargs=(context.Barrier(self.workers), self.unsynced))
            self.executor.submit(int)  # a forking pool starts all its processes at its first task
        return self.executor

    def close(self, wait: bool = True) -> None:
        """Done with the workers: ``wait=False`` when they have nothing left to do (they exit on
        their own while this process finishes); a cancel or a failure waits for them."""
        if self.executor is not None:
            self.executor.shutdown(wait=wait, cancel_futures=True)
            self.executor = None


def _parallel(tasks: list[FileTask], pool: _Pool, max_bytes: int, db_path: str, busy_timeout: float,
              racy_from: int, index_after: int | None = None) -> Iterator[BatchResult]:
    """Batches parsed and written by the pool's workers, as each is done. With ``index_after``,
    a worker creates the indexes once that many files are in."""
    from concurrent.futures import FIRST_COMPLETED, wait

    from codeloop.index.batch import create_indexes, flush, index_batch

    # Every worker must be there to take one flush at the end: a pool started early forked
    # them all; one started here (maybe spawning them one task at a time) gets a batch for
    # each, its first submitted before any can be done.
    cut = _batches(tasks, pool.workers)
    if pool.executor is None:
        pool.workers = min(pool.workers, len(cut))
    batches = iter(cut)
    executor = pool.start()

    def submit(batch: list[FileTask]) -> Future[BatchResult]:
        return executor.submit(index_batch, batch, max_bytes, db_path, busy_timeout, racy_from)

    finished = False
    pending: set[Future[BatchResult]] = set()
    try:
        pending.update(submit(b) for b in islice(batches, 2 * pool.workers))
        done = 0
        while pending:
            # Whichever batch is done first: waiting for them in order starved a worker that
            # finished small batches while the other held the write turn (~0.09 s at the end).
            finished_now, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished_now:
                result = future.result()
                done += result.files
                if index_after is not None and done >= index_after:
                    # The indexes are built by sorting what is in (cheaper than keeping them
                    # up row by row) while the other worker parses the last files: in this
                    # process it made a third process on two cores, holding the write turn
                    # while both workers waited for it.
                    index_after = None
                    pending.add(executor.submit(create_indexes, db_path, busy_timeout, racy_from))
                batch = next(batches, None)
                if batch is not None:
                    pending.add(submit(batch))
                yield result
        # What the workers parsed while the other one wrote: one flush per worker (they
        # are all idle now, and a barrier keeps one from taking two).
        flushes = [executor.submit(flush, db_path, busy_timeout, racy_from) for _ in range(pool.workers)]
        pending.update(flushes)
        for future in flushes:
            yield future.result()
        pending.clear()
        finished = True
    finally:
        for future in pending:  # a cancel: batches not started are dropped
            future.cancel()
        # Done: the workers exit on their own while this process finishes (nothing of theirs
        # is left to wait for). Cancelled or failed: wait for the running batches.
        pool.close(wait=not finished)


_KNOWN = "SELECT path, id, mtime_ns, size, hash, is_test, module FROM files"
Known = dict[str, tuple[int, int, int, str, int, str]]  # path -> (id, mtime, size, hash, is_test, module)


def _known(conn: sqlite3.Connection, where: str = "", args: list[str] | None = None) -> Known:
    return {row[0]: row[1:] for row in conn.execute(_KNOWN + where, args or [])}


def sync(conn: sqlite3.Connection, root: Path, *, workers: int | None = None, report: Report | None = None,
         cancel: threading.Event | None = None, max_bytes: int = MAX_FILE_BYTES) -> SyncStats:
    """Scan ``root`` and update the index to match it."""
    pool = _Pool(_workers(workers))
    try:
        return _sync(conn, root, pool, report or (lambda message, fraction: None), cancel, max_bytes)
    finally:
        pool.close(wait=False)  # started early but not used (few files to read), or an error


def _sync(conn: sqlite3.Connection, root: Path, pool: _Pool, report: Report, cancel: threading.Event | None,
          max_bytes: int) -> SyncStats:
    start = time.perf_counter()
    stats = SyncStats()
    found = discover(root, max_bytes)
    stats.skipped.update(found.skipped)
    known = _known(conn)
    first_build = not known
    if not first_build:
        _ensure_indexes(conn)  # an interrupted first build left them out
    elif pool.workers > 1 and len(found.files) >= PARALLEL_FROM and threading.active_count() == 1:
        # A first build of many files: its workers start now and compile the query while
        # this process sorts out the files. They write without fsync (a cache: see
        # schema.begin_unsynced) once the mark is on disk; the end puts it all on disk.
        pool.unsynced = begin_unsynced(conn)
        pool.start()
    patterns = test_patterns(root)
    skips = {path: (mtime, size, reason) for path, mtime, size, reason in conn.execute("SELECT * FROM skipped")}
    changed = []
    module_of_file = module_namer(found.packages)
    for c in found.files:
        was_skipped = skips.get(c.rel)
        if was_skipped is not None and was_skipped[:2] == (c.mtime_ns, c.size) and c.rel not in known:
            stats.skipped[was_skipped[2]] += 1  # binary or generated, and not touched since
            continue
        is_test = is_test_file(c.rel, patterns)
        module = module_of_file(c.rel)
        old = known.get(c.rel)
        same_kind = old is not None and bool(old[4]) == is_test and old[5] == module
        if not (same_kind and old[1] == c.mtime_ns and old[2] == c.size):
            changed.append((c, module, is_test, old, same_kind))
    present = {c.rel: (c.mtime_ns, c.size) for c in found.files}
    gone = sorted(set(known) - present.keys())
    unskip = sorted(path for path, skip in skips.items() if present.get(path) != skip[:2] or path in known)
    if not changed and not gone and not unskip:  # the usual warm start: nothing to write
        if first_build:
            _ensure_indexes(conn)
        _settle(conn)
        _finish(conn, stats, start)
        return stats
    from codeloop.index.read import FileTask
    from codeloop.index.writer import Writer

    tasks = [FileTask(c.rel, c.path, module, is_test, old[3] if same_kind else None,
                      old_id=old[0] if old is not None else None)
             for c, module, is_test, old, same_kind in changed]
    writer = Writer(conn, stats)
    try:
        writer.remove([known[rel][0] for rel in gone])
        writer.unskip(unskip)  # gone or changed: read again below, or no longer there
        writer.commit()
        total = len(tasks)
        if total:
            report(f"indexing {total} files", 0.0)
        for done in _apply(writer, tasks, pool, max_bytes, conn, first_build):
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
    _settle(conn)
    _finish(conn, stats, start)
    return stats


def _settle(conn: sqlite3.Connection) -> None:
    """A first build written without fsync (this one, or one cut short in this boot and
    completed now) put on disk, and its mark removed."""
    if unsynced_boot(conn) is not None:
        end_unsynced(conn)


def _apply(writer: Writer, tasks: list[FileTask], pool: _Pool, max_bytes: int,
           conn: sqlite3.Connection, first_build: bool = False) -> Iterator[int]:
    """Read, parse and write ``tasks``; yields how many are done, now and then (a caller
    that stops iterating cancels what has not started)."""
    from codeloop.index.read import read_many

    done = 0
    if pool.workers <= 1 or len(tasks) < PARALLEL_FROM:
        for i in range(0, len(tasks), BATCH):
            batch = tasks[i:i + BATCH]
            for task, out in zip(batch, read_many(batch, max_bytes, pieces=True), strict=True):
                writer.apply(out, task)
            done += len(batch)
            yield done
        return
    writer.commit()  # the workers write: this connection holds no transaction meanwhile
    busy = conn.execute("PRAGMA busy_timeout").fetchone()[0] / 1000
    db_path = main_path(conn)
    index_after = int(INDEX_AT * len(tasks)) if first_build else None
    if first_build and pool.executor is None:  # see _sync
        pool.unsynced = begin_unsynced(conn)
    for result in _parallel(tasks, pool, max_bytes, db_path, busy, writer.racy_from, index_after):
        writer.stats.changed += result.changed
        writer.stats.removed += result.removed
        writer.stats.skipped.update(result.skipped)
        done += result.files
        yield done


def update_files(conn: sqlite3.Connection, root: Path, changes: dict[str, bytes | None],
                 max_bytes: int = MAX_FILE_BYTES, editor: Mapping[str, tuple[bytes, Tree]] | None = None
                 ) -> SyncStats:
    """Re-index a few files now: ``changes`` maps absolute paths to the editor's text, or to
    None to read the file from disk (a file that is gone is removed). ``editor`` maps some of
    those paths to the editor's copy and its parse: a file whose bytes are that copy (unsaved
    text, or just saved) is not parsed again. Parsing here goes by pieces (this runs on the
    language server's index thread)."""
    from codeloop.index.read import FileTask, read_many
    from codeloop.index.writer import Writer

    start = time.perf_counter()
    stats = SyncStats()
    patterns = test_patterns(root)
    rels = {p: Path(os.path.relpath(p, root)).as_posix() for p in changes}
    marks = ",".join("?" * len(rels))
    known = _known(conn, f" WHERE path IN ({marks})", list(rels.values()))
    writer = Writer(conn, stats)
    tasks: list[FileTask] = []
    gone: list[int] = []
    for path, text in changes.items():
        rel = rels[path]
        if rel.startswith("../") or not rel.endswith(".py"):
            continue
        if text is None and not os.path.isfile(path):
            if rel in known:
                gone.append(known[rel][0])
            continue
        is_test = is_test_file(rel, patterns)
        module = module_of(rel, packages_of(root, [rel]))
        old = known.get(rel)
        same_kind = old is not None and bool(old[4]) == is_test and old[5] == module
        tasks.append(FileTask(rel, path, module, is_test, old[3] if same_kind else None, text,
                              old[0] if old is not None else None,
                              editor.get(path) if editor is not None else None))
    try:
        writer.remove(gone)
        writer.unskip([task.rel for task in tasks] + [rels[p] for p, text in changes.items() if text is None])
        for task, out in zip(tasks, read_many(tasks, max_bytes, pieces=True), strict=True):
            writer.apply(out, task)
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
        # Every file has one module row: counted this way, SQLite answers from the table's
        # count (~0.01 ms) instead of reading every row's kind (~7 ms on 30,000 definitions).
        stats.definitions = conn.execute("SELECT count(*) FROM defs").fetchone()[0] - stats.files
    stats.seconds = time.perf_counter() - start


__all__ = ["Candidate", "SyncStats", "sync", "test_patterns", "update_files"]
