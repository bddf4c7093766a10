"""LiveIndex: writes on one worker thread, reads on reader threads, edits coalesced, reset."""

from __future__ import annotations

from pathlib import Path

from codeloop.index import queries as q
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
