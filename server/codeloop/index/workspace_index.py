"""One workspace's index: the database handle, its updates and its self-repair.

:class:`WorkspaceIndex` is what the services hold. Updates take a lock (one writer per
process); a database that turns out damaged or stays locked in the middle of an update is
rebuilt once, with one warning in :attr:`WorkspaceIndex.warnings`. Readers on other threads
ask for their own connection (:meth:`WorkspaceIndex.reader`); in WAL mode they never wait
for the writer.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from codeloop.index.discover import MAX_FILE_BYTES
from codeloop.index.location import canonical_root, database_path
from codeloop.index.schema import (
    IndexUnavailable,
    connect,
    log_warning,
    no_space,
    no_space_message,
    open_database,
    remove_database,
)
from codeloop.index.sync import Report, SyncStats, sync, update_files

if TYPE_CHECKING:
    from tree_sitter import Tree



class WorkspaceIndex:
    def __init__(self, root: str | os.PathLike[str], db_path: Path | None = None, *, busy_timeout: float = 5.0,
                 max_bytes: int = MAX_FILE_BYTES, checkpoint_on_commit: bool = True) -> None:
        """``checkpoint_on_commit=False``: a commit never copies the write-ahead log back into
        the database (SQLite does it in the commit that fills the log: an edit of one file
        dirties ~1 MB of index pages, so every ~15th edit paid for ~16 MB); the owner calls
        :meth:`checkpoint` when it has time."""
        self.root = canonical_root(root)
        self.db_path = Path(db_path) if db_path is not None else database_path(self.root)
        self.busy_timeout = busy_timeout
        self.max_bytes = max_bytes
        self.checkpoint_on_commit = checkpoint_on_commit
        self.warnings: list[str] = []
        self._write_lock = threading.Lock()
        self.conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        conn = open_database(self.db_path, self.busy_timeout, self.warnings)
        if not self.checkpoint_on_commit:
            conn.execute("PRAGMA wal_autocheckpoint=0")
        return conn

    def checkpoint(self) -> None:
        """Copy what the write-ahead log holds back into the database, without waiting for
        other connections' readers (PASSIVE: what they still read stays for the next one)."""
        with self._write_lock:
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def _no_space(self, exc: sqlite3.DatabaseError) -> None:
        """A full disk is not damage: rebuilding would only delete what is there."""
        if no_space(exc):
            with contextlib.suppress(sqlite3.Error):
                self.conn.rollback()
            raise IndexUnavailable(no_space_message(self.db_path)) from None

    def _rebuild(self, reason: str) -> None:
        message = f"index {self.db_path} failed ({reason}); rebuilding it"
        log_warning(message)
        self.warnings.append(message)
        self.conn.close()
        remove_database(self.db_path)
        self.conn = self._connect()

    def sync(self, *, workers: int | None = None, report: Report | None = None,
             cancel: threading.Event | None = None) -> SyncStats:
        """Scan the workspace and bring the index up to date."""
        with self._write_lock:
            try:
                return sync(self.conn, self.root, workers=workers, report=report, cancel=cancel,
                            max_bytes=self.max_bytes)
            except sqlite3.DatabaseError as exc:
                self._no_space(exc)
                self._rebuild(_reason(exc))
            try:
                return sync(self.conn, self.root, workers=workers, report=report, cancel=cancel,
                            max_bytes=self.max_bytes)
            except sqlite3.DatabaseError as exc:
                raise IndexUnavailable(f"index {self.db_path}: {exc}") from None

    def update(self, changes: dict[str, bytes | None],
               editor: Mapping[str, tuple[bytes, Tree]] | None = None) -> SyncStats:
        """Re-index these files now (absolute path -> the editor's text, or None to read it;
        ``editor``: the editor's copies and their parses, see :func:`update_files`).
        An ``__init__.py`` among them may rename the modules around it: then everything is rescanned."""
        if any(os.path.basename(p) == "__init__.py" for p in changes):
            return self.sync(workers=0)
        with self._write_lock:
            try:
                return update_files(self.conn, self.root, changes, self.max_bytes, editor)
            except sqlite3.DatabaseError as exc:
                self._no_space(exc)
                self._rebuild(_reason(exc))
        return self.sync()

    def reset(self) -> None:
        """Forget everything; the next :meth:`sync` indexes from scratch."""
        with self._write_lock:
            self.conn.close()
            remove_database(self.db_path)
            self.conn = self._connect()

    def reopen(self) -> None:
        """A new connection (another process may have replaced the database file)."""
        with self._write_lock:
            self.conn.close()
            self.conn = self._connect()

    def reader(self) -> sqlite3.Connection:
        """A connection for queries on another thread."""
        return connect(self.db_path, self.busy_timeout)

    def db_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                total += os.stat(f"{self.db_path}{suffix}").st_size
        return total

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> WorkspaceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reason(exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    return "locked by another process" if "locked" in text else text


__all__ = ["WorkspaceIndex"]
