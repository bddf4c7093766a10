"""A first build by worker processes writes without fsync (the index is a cache), marked with
the boot it runs in until its data is on disk; every other write keeps synchronous=NORMAL,
and a database marked from another boot (a system crash mid-build) is rebuilt."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from codeloop.index import batch
from codeloop.index.schema import UNSYNCED, boot_id, unsynced_boot
from codeloop.index.workspace_index import WorkspaceIndex

pytestmark = pytest.mark.skipif(boot_id() is None, reason="no boot id on this system: builds keep fsync")

NORMAL, OFF = 1, 0


def tree(root: Path, count: int = 60, extra: str = "") -> Path:
    root.mkdir(exist_ok=True)
    for i in range(count):
        (root / f"m{i}.py").write_text(f"def helper(a, b):\n    return a + b\n\n\ndef f{i}{extra}():\n    return {i}\n")
    return root


def synchronous(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA synchronous").fetchone()[0]


def test_a_first_build_by_workers_is_marked_while_it_runs_and_ends_synced(tmp_path: Path, make_index,
                                                                            dump) -> None:
    root = tree(tmp_path / "ws")
    one, two = make_index(root, "one"), make_index(root, "two")
    seen: list[str | None] = []
    one.sync(workers=0, report=lambda message, fraction: seen.append(unsynced_boot(one.conn)))
    assert set(seen) == {None}  # in one process: written as always
    seen.clear()
    assert two.sync(workers=2, report=lambda message, fraction: seen.append(unsynced_boot(two.conn))).changed == 60
    assert seen[0] is None and set(seen[1:]) == {boot_id()}  # "indexing 60 files", then batches written
    assert unsynced_boot(two.conn) is None  # on disk now, mark removed
    assert dump(two.conn) == dump(one.conn)
    assert synchronous(two.conn) == NORMAL


def test_only_a_first_builds_workers_write_without_fsync(tmp_path: Path, make_index) -> None:
    db = tmp_path / "cache" / "db.sqlite3"
    ix = make_index(tree(tmp_path / "ws"))
    ix.sync(workers=2)
    for unsynced, expected in ((True, OFF), (False, NORMAL)):
        batch.init_worker(None, unsynced)
        try:
            conn = batch._connect(str(db), 1.0)
            assert synchronous(conn) == expected
            conn.close()
        finally:
            batch.init_worker(None)
    # a big update that is not a first build: no mark, fsync as always
    tree(tmp_path / "ws", extra="_v2")
    seen: list[str | None] = []
    assert ix.sync(workers=2, report=lambda message, fraction: seen.append(unsynced_boot(ix.conn))).changed == 60
    assert set(seen) == {None}


def test_the_live_index_keeps_synchronous_normal(tmp_path: Path, make_index) -> None:
    root = tree(tmp_path / "ws")
    ix = make_index(root, checkpoint_on_commit=False)  # as the language server's live index opens it
    ix.sync(workers=2)
    assert synchronous(ix.conn) == NORMAL
    (root / "m1.py").write_text("def changed():\n    return 2\n")
    ix.update({str(root / "m1.py"): None})
    assert synchronous(ix.conn) == NORMAL
    assert synchronous(ix.reader()) == NORMAL


def mark(db: Path, boot: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (UNSYNCED, boot))
    conn.commit()
    conn.close()


def test_a_build_cut_short_by_a_system_restart_is_rebuilt_with_one_warning(tmp_path: Path) -> None:
    root, db = tree(tmp_path / "ws"), tmp_path / "cache" / "db.sqlite3"
    with WorkspaceIndex(root, db) as first:
        first.sync(workers=0)
    mark(db, "another-boot")
    with WorkspaceIndex(root, db) as again:
        assert len(again.warnings) == 1 and "system restart" in again.warnings[0]
        assert again.conn.execute("SELECT count(*) FROM files").fetchone()[0] == 0
        assert again.sync(workers=2).files == 60
        assert unsynced_boot(again.conn) is None


def test_a_build_cut_short_in_this_boot_is_kept_and_the_next_scan_settles_it(tmp_path: Path) -> None:
    root, db = tree(tmp_path / "ws"), tmp_path / "cache" / "db.sqlite3"
    with WorkspaceIndex(root, db) as first:
        first.sync(workers=0)
    mark(db, boot_id() or "")
    with WorkspaceIndex(root, db) as again:
        assert again.warnings == []
        assert unsynced_boot(again.conn) == boot_id()  # its pages are in the system's cache
        assert again.sync(workers=2).changed == 0  # nothing to read again
        assert unsynced_boot(again.conn) is None


def test_the_names_of_definitions_written_after_the_indexes_are_listed(tmp_path: Path, make_index, dump) -> None:
    """A first build lists most names when it creates its indexes (at 80 %); the end lists
    those of the definitions written after, and only those."""
    root = tree(tmp_path / "ws", count=400)
    one, two = make_index(root, "one"), make_index(root, "two")
    one.sync(workers=0)
    two.sync(workers=2)
    assert dump(two.conn)["names"] == dump(one.conn)["names"]
    assert len(dump(two.conn)["names"]) == 401  # helper and f0..f399
