"""The index database: its tables, and opening it so that it repairs itself.

A database that is not one (corrupt, truncated, some other file), was written by another
schema version, or stays locked by another process past the wait is deleted and created
afresh: the index is a cache of the workspace, so nothing is lost, and the caller gets one
warning that says why. SQLite runs in WAL mode so that readers never wait for the writer.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sqlite3
from pathlib import Path

SCHEMA_VERSION = 4  # 3: refs without file_id (their definition's file); 4: skipped files remembered
PAGE_SIZE = 16384

_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE files (
    id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, module TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, hash TEXT NOT NULL, is_test INTEGER NOT NULL);
-- Files read and found binary or generated: not read again while (mtime, size) stay the same.
CREATE TABLE skipped (
    path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, reason TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE defs (
    id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, parent_id INTEGER, kind TEXT NOT NULL,
    name TEXT NOT NULL, qualname TEXT NOT NULL, signature TEXT NOT NULL, doc TEXT NOT NULL,
    decorators TEXT NOT NULL, line INTEGER NOT NULL, col INTEGER NOT NULL,
    start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, is_test INTEGER NOT NULL);
CREATE TABLE imports (file_id INTEGER NOT NULL, alias TEXT NOT NULL, target TEXT NOT NULL, line INTEGER NOT NULL);
CREATE TABLE refs (
    def_id INTEGER NOT NULL, name TEXT NOT NULL, target TEXT,
    kind TEXT NOT NULL, line INTEGER NOT NULL, col INTEGER NOT NULL);
CREATE VIRTUAL TABLE search USING fts5(name, qualname, path, doc, code, tokenize = 'porter unicode61');
CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE VIRTUAL TABLE names_tri USING fts5(name, content = 'names', content_rowid = 'id', tokenize = 'trigram');
CREATE TRIGGER names_add AFTER INSERT ON names BEGIN
    INSERT INTO names_tri (rowid, name) VALUES (new.id, new.name); END;
CREATE TRIGGER names_drop AFTER DELETE ON names BEGIN
    INSERT INTO names_tri (names_tri, rowid, name) VALUES ('delete', old.id, old.name); END;
"""
# Created after a bulk load when the database starts empty (faster than keeping them up).
INDEXES = """
CREATE INDEX IF NOT EXISTS defs_file ON defs(file_id);
CREATE INDEX IF NOT EXISTS defs_name ON defs(name);
CREATE INDEX IF NOT EXISTS defs_name_nocase ON defs(name COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS defs_qualname ON defs(qualname);
CREATE INDEX IF NOT EXISTS imports_file ON imports(file_id);
CREATE INDEX IF NOT EXISTS refs_name ON refs(name);
CREATE INDEX IF NOT EXISTS refs_def ON refs(def_id);
"""


_INDEX_NAMES = re.findall(r"CREATE INDEX IF NOT EXISTS (\w+)", INDEXES)


def ensure_indexes(conn: sqlite3.Connection) -> None:
    """Create the indexes that are missing (a first build creates them after a bulk load)."""
    have = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    if all(name in have for name in _INDEX_NAMES):
        return  # the usual case: no write lock taken
    conn.execute("BEGIN IMMEDIATE")  # one transaction: one commit for all of them
    try:
        for statement in INDEXES.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def log_warning(message: str) -> None:
    """A warning to the server's log (logging is loaded here: a command that finds its index
    sound does not load it, ~10 ms of `codeloop search`)."""
    import logging

    logging.getLogger("codeloop.index").warning(message)


class IndexUnavailable(Exception):
    """The index cannot be created at all (an unwritable cache directory); one line."""


def connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
    # Pages of 16 KiB (for a new database; an existing one keeps its own): a bulk load costs
    # about 10 % less CPU than with 4 KiB pages (fewer pages to split and write) and the
    # file is smaller.
    conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


# A first build's workers write with synchronous=OFF (no fsync at their checkpoints: about
# 0.1 s of waits in a build of 2,000 files). A crash of the application loses nothing that
# way; a crash of the system could leave pages of the file older than others. So the build
# is marked in `meta` with the boot it runs in, the mark on disk before the workers start
# (begin_unsynced), and removed once everything is (end_unsynced). A database still marked
# from another boot is rebuilt; from this boot, its pages are in the system's cache: kept,
# and the next scan completes it.
UNSYNCED = "unsynced_build"
BOOT_ID = "/proc/sys/kernel/random/boot_id"


def boot_id() -> str | None:
    """This boot of the system (Linux), or None where it cannot be told (no unsynced builds there)."""
    try:
        with open(BOOT_ID) as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def main_path(conn: sqlite3.Connection) -> str:
    """The file of a connection's main database."""
    for _, name, path in conn.execute("PRAGMA database_list"):
        if name == "main":
            return str(path)
    raise ValueError("no main database")


def unsynced_boot(conn: sqlite3.Connection) -> str | None:
    """The boot a build written without fsync ran in, while its data may not all be on disk."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (UNSYNCED,)).fetchone()
    return row[0] if row is not None else None


def begin_unsynced(conn: sqlite3.Connection) -> bool:
    """Mark the database as written without fsync from now on, the mark on disk; False (and
    no mark) when that cannot be done: the writers then keep synchronous=NORMAL."""
    boot = boot_id()
    if boot is None:
        return False
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (UNSYNCED, boot))
    # Into the database file, synced (this connection: NORMAL): a checkpoint without fsync
    # could otherwise leave only a stale copy of the mark's page once the log starts over.
    if not _checkpointed(conn):
        conn.execute("DELETE FROM meta WHERE key = ?", (UNSYNCED,))
        return False
    return True


def end_unsynced(conn: sqlite3.Connection) -> None:
    """Everything written without fsync put on disk, then the mark removed (left when a
    reader kept the log: the next scan tries again)."""
    boot = unsynced_boot(conn)
    # The mark written again: the checkpoint then has a page to copy, and syncs the file.
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (UNSYNCED, boot))
    if _checkpointed(conn):
        conn.execute("DELETE FROM meta WHERE key = ?", (UNSYNCED,))


def _checkpointed(conn: sqlite3.Connection) -> bool:
    """The whole log copied into the database file and both synced (SQLite syncs the log
    before a checkpoint and the file after a complete one, with synchronous=NORMAL: this
    fsync also takes to disk the pages that checkpoints without fsync left in the system's
    cache). Never with our own file descriptor: closing one drops SQLite's locks on the file."""
    assert conn.execute("PRAGMA synchronous").fetchone()[0] >= 1
    busy, log, copied = conn.execute("PRAGMA wal_checkpoint(FULL)").fetchone()
    return not busy and log == copied


def _check(conn: sqlite3.Connection) -> str | None:
    """Why this database cannot be used as it is (None when it can, or is new)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return None
    if "meta" not in tables:
        return "not a codeloop index"
    row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    if row is None or row[0] != str(SCHEMA_VERSION):
        return f"schema {row[0] if row else 'unknown'}, expected {SCHEMA_VERSION}"
    boot = unsynced_boot(conn)
    if boot is not None and boot != boot_id():
        return "its first build was cut short by a system restart before its data was on disk"
    # A write lock that is not released in time means another process is stuck on it.
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("COMMIT")
    return None


def statements(script: str) -> list[str]:
    """The statements of a script (a trigger's body holds ";" too)."""
    out: list[str] = []
    current = ""
    for part in script.split(";"):
        current += part + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                out.append(current.strip())
            current = ""
    return out


def _create(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name='meta'").fetchone() is None:
            for statement in statements(_TABLES):
                conn.execute(statement)
            conn.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def no_space(exc: BaseException) -> bool:
    """SQLite's "database or disk is full" (SQLITE_FULL), or an OSError saying the same."""
    return "disk is full" in str(exc) or getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)


def no_space_message(path: Path) -> str:
    return (f"no space left for the index in {path.parent}: free some space (the index is brought up to date "
            "on the next change, or with codeloop.resetIndex)")


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", "-lock"):  # -lock: the workers' turn (batch.py)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


def open_database(path: Path, busy_timeout: float = 5.0, warnings: list[str] | None = None) -> sqlite3.Connection:
    """The index at ``path``, created when missing and recreated (with one warning, logged
    and appended to ``warnings``) when it cannot be used."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexUnavailable(f"cannot create the index directory {path.parent}: {exc.strerror}") from None
    problem = None
    conn = None
    try:
        conn = connect(path, busy_timeout)
        problem = _check(conn)
    except sqlite3.OperationalError as exc:
        if no_space(exc):
            if conn is not None:
                conn.close()
            raise IndexUnavailable(no_space_message(path)) from None
        problem = "locked by another process" if "locked" in str(exc) or "busy" in str(exc) else str(exc)
    except sqlite3.DatabaseError as exc:
        problem = f"corrupt ({exc})"
    if problem is not None:
        if conn is not None:
            conn.close()
        message = f"index {path} was unusable ({problem}); rebuilding it"
        log_warning(message)
        if warnings is not None:
            warnings.append(message)
        remove_database(path)
        try:
            conn = connect(path, busy_timeout)
        except sqlite3.Error as exc:
            raise IndexUnavailable(f"cannot create the index {path}: {exc}") from None
    assert conn is not None
    try:
        _create(conn)
    except sqlite3.Error as exc:
        conn.close()
        if no_space(exc):
            raise IndexUnavailable(no_space_message(path)) from None
        raise
    return conn


__all__ = ["INDEXES", "SCHEMA_VERSION", "IndexUnavailable", "begin_unsynced", "boot_id", "connect",
           "end_unsynced", "ensure_indexes", "log_warning", "main_path", "open_database", "remove_database",
           "statements", "unsynced_boot"]
