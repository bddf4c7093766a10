"""A corrupt, foreign, old-schema or locked index is rebuilt with one warning; nothing else
is needed from the user."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from codeloop.index.schema import SCHEMA_VERSION
from codeloop.index.workspace_index import WorkspaceIndex


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text("def alpha():\n    return 1\n")
    return ws


def names(ix: WorkspaceIndex) -> set[str]:
    return {n for (n,) in ix.conn.execute("SELECT name FROM defs WHERE kind != 'module'")}


def fresh_then(root: Path, db: Path, damage) -> WorkspaceIndex:
    with WorkspaceIndex(root, db) as first:
        first.sync()
    damage(db)
    return WorkspaceIndex(root, db, busy_timeout=0.2)


@pytest.mark.parametrize("damage", [
    lambda db: db.write_bytes(b"this is not a database at all" * 100),
    lambda db: db.write_bytes(db.read_bytes()[:100] + b"\xff" * 2000),  # a torn header and pages
    lambda db: db.write_bytes(b""),  # empty: simply a new index, no warning needed
], ids=["garbage", "truncated", "empty"])
def test_a_damaged_file_is_rebuilt(root: Path, tmp_path: Path, damage, caplog) -> None:
    db = tmp_path / "ix.sqlite3"
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    caplog.set_level(logging.WARNING, logger="codeloop.index")
    ix = fresh_then(root, db, damage)
    with ix:
        ix.sync()
        assert names(ix) == {"alpha"}
        assert len(ix.warnings) <= 1
        assert len([r for r in caplog.records if r.name == "codeloop.index"]) == len(ix.warnings)


def test_an_old_schema_is_rebuilt_with_one_warning(root: Path, tmp_path: Path) -> None:
    db = tmp_path / "ix.sqlite3"

    def downgrade(path: Path) -> None:
        conn = sqlite3.connect(path)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION - 1),))
        conn.commit()
        conn.close()

    with fresh_then(root, db, downgrade) as ix:
        assert len(ix.warnings) == 1 and "schema" in ix.warnings[0]
        assert ix.sync().changed == 1
        assert names(ix) == {"alpha"}


def test_another_database_is_not_taken_for_an_index(root: Path, tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    with WorkspaceIndex(root, db) as ix:
        assert len(ix.warnings) == 1 and "not a codeloop index" in ix.warnings[0]
        ix.sync()
        assert names(ix) == {"alpha"}


def test_a_lock_held_by_another_process_is_given_up_on(root: Path, tmp_path: Path) -> None:
    db = tmp_path / "ix.sqlite3"
    with WorkspaceIndex(root, db) as first:
        first.sync()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # held for the whole test, like a stuck process
    try:
        with WorkspaceIndex(root, db, busy_timeout=0.2) as ix:
            assert len(ix.warnings) == 1 and "locked" in ix.warnings[0]
            (root / "b.py").write_text("def beta():\n    pass\n")
            ix.sync()
            assert names(ix) == {"alpha", "beta"}
    finally:
        holder.close()


def test_a_lock_taken_during_an_update_rebuilds_once(root: Path, tmp_path: Path) -> None:
    db = tmp_path / "ix.sqlite3"
    with WorkspaceIndex(root, db, busy_timeout=0.2) as ix:
        ix.sync()
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            (root / "a.py").write_text("def alpha2():\n    return 2\n")
            ix.sync()
            assert names(ix) == {"alpha2"}
            assert len(ix.warnings) == 1 and "locked" in ix.warnings[0]
        finally:
            holder.close()


def test_reset_starts_from_nothing(root: Path, tmp_path: Path) -> None:
    with WorkspaceIndex(root, tmp_path / "ix.sqlite3") as ix:
        ix.sync()
        ix.reset()
        assert names(ix) == set()
        assert ix.sync().changed == 1
        assert ix.warnings == []


def test_an_unwritable_cache_directory_is_one_clear_error(root: Path, tmp_path: Path) -> None:
    from codeloop.index.schema import IndexUnavailable

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(IndexUnavailable, match="cannot create the index directory"):
        WorkspaceIndex(root, blocker / "sub" / "ix.sqlite3")
