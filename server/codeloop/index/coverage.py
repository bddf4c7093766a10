"""Which tests ran which lines, from the coverage data of the last sandboxed test run.

The sandbox's pytest run records coverage with each test's node id as coverage.py's
context (``show_contexts`` in its JSON report). :func:`record` keeps, per workspace file
and test, the lines the test ran, with the file's content hash at the time: when the file
changes, its line numbers no longer hold and its rows are ignored until the next run.
A run replaces what earlier runs said of the tests it ran. This is not derivable from the
files, so a rebuilt index has none until the next run.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

TABLE = """
CREATE TABLE IF NOT EXISTS test_lines (
    test TEXT NOT NULL, path TEXT NOT NULL, hash TEXT NOT NULL, lines TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS test_lines_path ON test_lines(path);
CREATE INDEX IF NOT EXISTS test_lines_test ON test_lines(test);
"""


def _ranges(lines: Iterable[int]) -> str:
    """``1-3,7`` for lines 1, 2, 3 and 7 (compact, and cheap to test against a span)."""
    out: list[str] = []
    ordered = sorted(set(lines))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(out)


def _overlaps(ranges: str, first: int, last: int) -> bool:
    for part in ranges.split(","):
        low, _, high = part.partition("-")
        if int(low) <= last and int(high or low) >= first:
            return True
    return False


def per_test(coverage: dict, root: str | os.PathLike[str]) -> dict[str, dict[str, list[int]]]:
    """``{test id: {relative path: lines}}`` from a coverage JSON report with contexts
    (paths absolute or relative to ``root``; files outside it are left out)."""
    top = os.path.realpath(root)
    out: dict[str, dict[str, list[int]]] = {}
    for path, data in ((coverage or {}).get("files") or {}).items():
        full = os.path.realpath(os.path.join(top, path))
        rel = os.path.relpath(full, top)
        if rel.startswith("..") or not isinstance(data, dict):
            continue
        rel = Path(rel).as_posix()
        for line, contexts in (data.get("contexts") or {}).items():
            for context in contexts or ():
                test = str(context)
                if test:  # "": lines run outside any test (imports, collection)
                    out.setdefault(test, {}).setdefault(rel, []).append(int(line))
    return out


def record(conn: sqlite3.Connection, coverage: dict, root: str | os.PathLike[str]) -> int:
    """Store what each test of a run covered; returns how many tests had data."""
    tests = per_test(coverage, root)
    if not tests:
        return 0
    hashes = dict(conn.execute("SELECT path, hash FROM files"))
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in TABLE.split(";"):
            if statement.strip():
                conn.execute(statement)
        names = sorted(tests)
        for i in range(0, len(names), 500):
            chunk = names[i:i + 500]
            conn.execute(f"DELETE FROM test_lines WHERE test IN ({','.join('?' * len(chunk))})", chunk)
        conn.executemany("INSERT INTO test_lines VALUES (?, ?, ?, ?)",
                         [(test, rel, hashes[rel], _ranges(lines))
                          for test, files in tests.items() for rel, lines in files.items() if rel in hashes])
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return len(tests)


def covering(conn: sqlite3.Connection, path: str, first: int, last: int) -> list[str]:
    """The test ids that ran a line of ``path`` between ``first`` and ``last`` (1-based) in the
    last run, while the file is as it was then."""
    try:
        rows = conn.execute("SELECT t.test, t.lines FROM test_lines t JOIN files f ON f.path = t.path "
                            "AND f.hash = t.hash WHERE t.path = ?", (path,)).fetchall()
    except sqlite3.OperationalError:  # no run recorded yet: no table
        return []
    return sorted({test for test, ranges in rows if _overlaps(ranges, first, last)})


__all__ = ["covering", "per_test", "record"]
