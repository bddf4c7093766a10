"""LiveIndex: writes on one worker thread, reads on reader threads, edits coalesced, reset."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from codeloop.index import queries as q
from codeloop.index.build import BuildFailed, build_in_child
from codeloop.job import Job
from codeloop.services.live_index import LiveIndex


def names(live: LiveIndex, name: str) -> list[str]:
    return live.read(lambda conn: [s.path for s in q.lookup(conn, name)], []).result(30)


def test_scan_edits_reset_and_readers(tmp_path: Path, write_tree):
    root = write_tree(tmp_path / "p", {"a.py": "def alpha():\n    pass\n", "tests/test_a.py":
                                       "from a import alpha\n\n\ndef test_alpha():\n    alpha()\n"})
    live = LiveIndex(root, tmp_path / "cache" / "db.sqlite3")
    try:
        assert live.affected_tests("a.py").result(30) is None  # no full scan yet: callers fall back
        assert live.is_empty().result(30)
        reports: list[str] = []
        stats = live.scan(Job(lambda message, _f: reports.append(message))).result(60)
        assert stats.files == 2 and live.ready.is_set() and reports
        assert names(live, "alpha") == ["a.py"]
        assert live.affected_tests("a.py").result(30) == ["tests/test_a.py"]
        # Edits in a row: the newest text of each file wins, the disk is not touched.
        for i in range(5):
            live.change(str(root / "a.py"), f"def alpha():\n    pass\n\n\ndef beta_{i}():\n    pass\n".encode())
        live.flush().result(30)
        assert names(live, "beta_4") == ["a.py"] and names(live, "beta_3") == []
        live.change(str(root / "a.py"), None).result(30)  # back to the file on disk
        assert names(live, "beta_4") == []
        # A reset replaces the database file: readers open the new one.
        stats = live.scan(reset=True).result(60)
        assert stats.changed == 2 and names(live, "alpha") == ["a.py"]
        (root / "a.py").unlink()
        live.change(str(root / "a.py"), None).result(30)
        assert names(live, "alpha") == []
    finally:
        live.close()


def many_files(root: Path, count: int = 60) -> Path:
    for i in range(count):
        (root / f"p{i % 3}").mkdir(parents=True, exist_ok=True)
        (root / f"p{i % 3}" / f"m{i}.py").write_text(f"def f{i}(x):\n    return helper{i}(x)\n")
    return root


def test_a_full_build_in_a_build_process_equals_one_in_this_process(tmp_path: Path, make_index, dump):
    root = many_files(tmp_path / "ws")
    here = make_index(root, "here")
    here.sync(workers=0)
    reports: list[str] = []
    stats, warnings = build_in_child(root, tmp_path / "cache" / "child.sqlite3", workers=2,
                                     max_bytes=here.max_bytes, report=lambda m, f: reports.append(m),
                                     cancel=threading.Event())
    assert (stats.files, stats.changed, stats.cancelled, warnings) == (60, 60, False, [])
    assert reports[0] == "indexing 60 files"
    with make_index(root, "child") as child:
        assert dump(child.conn) == dump(here.conn)


def test_a_build_process_that_fails_says_why_in_one_line(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(BuildFailed) as failed:  # the cache "directory" is a file
        build_in_child(tmp_path, blocker / "db.sqlite3", workers=0, max_bytes=1000, report=lambda m, f: None,
                       cancel=threading.Event())
    assert "\n" not in str(failed.value) and "cannot create the index directory" in str(failed.value)


def test_live_index_builds_in_a_build_process_and_a_cancel_stops_it(tmp_path: Path):
    root = many_files(tmp_path / "ws", 300)
    live = LiveIndex(root, tmp_path / "cache" / "db.sqlite3")
    try:
        cancel = threading.Event()
        seen: list[float] = []

        def report(message: str, fraction: float) -> None:
            seen.append(fraction)
            if fraction > 0:
                cancel.set()  # after the first batch is written

        stats = live.scan(Job(report, cancel), workers=2).result(120)
        assert stats.cancelled and not live.ready.is_set()
        kept = live.read(lambda conn: conn.execute("SELECT count(*) FROM files").fetchone()[0], 0).result(30)
        assert kept <= 300  # what was written stays (how much depends on the machine's speed)
        stats = live.scan(workers=2).result(120)  # not empty any more: goes on in this process
        assert stats.files == 300 and stats.changed == 300 - kept and live.ready.is_set()
        assert names(live, "f299") == ["p2/m299.py"]
    finally:
        live.close()


def log_frames_not_copied(db: Path) -> int:
    """Frames of the write-ahead log not yet copied back into the database, read from the
    WAL-index file (SQLite's documented layout: mxFrame at byte 16, nBackfill at byte 96),
    without running a checkpoint the way asking SQLite would."""
    import struct

    head = Path(f"{db}-shm").read_bytes()[:100]
    return struct.unpack_from("<I", head, 16)[0] - struct.unpack_from("<I", head, 96)[0]


def test_an_update_commits_without_a_checkpoint_and_the_log_is_copied_back_after(tmp_path: Path, write_tree):
    """SQLite copies the write-ahead log back in the commit that fills it (a slow edit every
    ~15); the live index turns that off and copies the log back after each update instead."""
    root = write_tree(tmp_path / "p", {"a.py": "def alpha():\n    pass\n"})
    db = tmp_path / "cache" / "db.sqlite3"
    live = LiveIndex(root, db, build_process=False)
    try:
        live.scan().result(60)
        on_commit = live._writer.submit(lambda: live.index.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        assert on_commit.result(30) == 0
        for i in range(3):
            live.change(str(root / "a.py"), f"def alpha():\n    pass\n\n\ndef gamma_{i}():\n    pass\n".encode())
            live.flush().result(30)
            live._writer.submit(lambda: None).result(30)  # what the writer queued after the update
            assert log_frames_not_copied(db) == 0
        assert names(live, "gamma_2") == ["a.py"]
    finally:
        live.close()
