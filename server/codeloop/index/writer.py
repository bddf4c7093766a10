"""Writing read files' outcomes to the index: one writer, used by the update in this process
and by each worker process of a big one. Callers own the connection; the writer opens a
transaction on the first write and commits every :data:`COMMIT_EVERY` files."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from typing import Protocol

from codeloop.index.read import FileTask, Outcome
from codeloop.index.store import SearchWords, delete_files, forget_names, insert_file, list_names, next_def_id

COMMIT_EVERY = 256  # files per write transaction
RACY_NS = 2_000_000_000


class Counts(Protocol):
    changed: int
    removed: int
    skipped: Counter[str]


class Writer:
    """Applies outcomes to the database, committing every :data:`COMMIT_EVERY` files.
    ``stats`` counts what changed (the update's ``SyncStats``, a worker's ``BatchResult``)."""

    def __init__(self, conn: sqlite3.Connection, stats: Counts, racy_from: int | None = None) -> None:
        self.conn, self.stats = conn, stats
        # A file modified within the clock's granularity of this scan may change again with
        # the same mtime and size ("racily clean", as git calls it): its mtime is not kept,
        # so the next scan compares its hash.
        self.racy_from = racy_from if racy_from is not None else time.time_ns() - RACY_NS
        self.pending = 0
        self.next_id = 0
        self.dropped: set[str] = set()  # names of deleted definitions, dropped at commit if unused
        self.names_from: int | None = None  # the transaction's first definition (names listed at commit)

    def _begin(self) -> None:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
            self.next_id = next_def_id(self.conn)

    def apply(self, out: Outcome, task: FileTask, words: SearchWords | None = None) -> None:
        self._begin()
        mtime_ns = out.mtime_ns if out.mtime_ns < self.racy_from else -1
        old = task.old_id
        if out.status == "skip":
            self.stats.skipped[out.reason] += 1
            if mtime_ns > 0:  # read from disk, and not racy: remembered
                self.conn.execute("INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?)",
                                  (out.rel, mtime_ns, out.size, out.reason))
            if old is not None:
                delete_files(self.conn, [old], self.dropped)
                self.stats.removed += 1
        elif out.status == "same":
            self.conn.execute("UPDATE files SET mtime_ns=?, size=? WHERE path=?", (mtime_ns, out.size, out.rel))
        else:
            if old is not None:
                delete_files(self.conn, [old], self.dropped)
            assert out.facts is not None
            if self.names_from is None:
                self.names_from = self.next_id
            self.next_id = insert_file(self.conn, out.rel, mtime_ns, out.size, out.digest, task.is_test,
                                       out.facts, self.next_id, words)
            self.stats.changed += 1
        self.pending += 1
        if self.pending >= COMMIT_EVERY:
            self.commit()

    def unskip(self, paths: list[str]) -> None:
        """Forget that ``paths`` were skipped (changed or gone: they are read again, or not at all)."""
        if paths:
            self._begin()
            self.conn.executemany("DELETE FROM skipped WHERE path = ?", [(p,) for p in paths])

    def remove(self, ids: list[int]) -> None:
        if ids:
            self._begin()
            delete_files(self.conn, ids, self.dropped)
            self.stats.removed += len(ids)

    def commit(self) -> None:
        if self.conn.in_transaction:
            if self.names_from is not None:
                list_names(self.conn, self.names_from - 1)
            if self.dropped:
                forget_names(self.conn, self.dropped)
                self.dropped.clear()
            self.conn.execute("COMMIT")
        self.pending = 0
        self.names_from = None

    def rollback(self) -> None:
        self.names_from = None
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


__all__ = ["COMMIT_EVERY", "RACY_NS", "Counts", "Writer"]
