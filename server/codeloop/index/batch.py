"""A batch of files read, parsed and written to the index by a worker process.

For a big update (the first build, a branch switch) each worker parses its batch and then
writes it itself, one transaction per batch; the workers take turns through a lock file
next to the database (the kernel wakes the next one at once, where SQLite's busy wait
would sleep). Nothing but a few counts goes back to the parent: no facts are pickled and
the parent's process does no row building (for the language server, no work under its GIL).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from codeloop.index.read import FileTask, read_many
from codeloop.index.schema import connect, ensure_indexes
from codeloop.index.store import search_words
from codeloop.index.writer import Writer


@dataclass
class BatchResult:
    files: int = 0
    changed: int = 0
    removed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def lock_path(db_path: str | Path) -> str:
    return f"{db_path}-lock"


def index_batch(tasks: list[FileTask], max_bytes: int, db_path: str, busy_timeout: float,
                racy_from: int) -> BatchResult:
    """Read and parse ``tasks``, then write them to the index at ``db_path`` in one transaction."""
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
    outcomes = read_many(tasks, max_bytes)
    result = BatchResult(files=len(tasks))
    # the pure-Python part of the rows, before the turn: the other worker may be writing
    words = [search_words(out.rel, out.facts) if out.facts is not None else None for out in outcomes]
    with write_turn(db_path):
        conn = connect(Path(db_path), busy_timeout)
        try:
            writer = Writer(conn, result, racy_from, names=False)  # the parent adds them at the end
            try:
                for task, out, file_words in zip(tasks, outcomes, words, strict=True):
                    writer.apply(out, task, file_words)
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
        finally:
            conn.close()
    return result


def create_indexes(db_path: str, busy_timeout: float) -> BatchResult:
    """A first build's indexes, and the names listed so far, created by a worker in its turn."""
    from codeloop.index.store import add_all_names

    with write_turn(db_path):
        conn = connect(Path(db_path), busy_timeout)
        try:
            ensure_indexes(conn)
            add_all_names(conn)  # most of them now: the one left at the end is shorter
        finally:
            conn.close()
    return BatchResult()


@contextlib.contextmanager
def write_turn(db_path: str) -> Iterator[None]:
    """This process's turn to write to the index at ``db_path`` (the lock file)."""
    fd = os.open(lock_path(db_path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def connection_path(conn: sqlite3.Connection) -> str:
    """The file of a connection's main database."""
    for _, name, path in conn.execute("PRAGMA database_list"):
        if name == "main":
            return str(path)
    raise ValueError("no main database")


__all__ = ["BatchResult", "connection_path", "create_indexes", "index_batch", "lock_path", "write_turn"]
