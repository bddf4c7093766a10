"""Helpers of the index tests: an index of a temporary tree, and a canonical dump of an
index's content (no ids, no mtimes) to compare two indexes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from codeloop.index.workspace_index import WorkspaceIndex


def dump_index(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Everything an index knows, keyed by path and qualified name instead of row ids."""
    defs = {i: (p, q, ln) for i, p, q, ln in conn.execute(
        "SELECT d.id, f.path, d.qualname, d.line FROM defs d JOIN files f ON f.id = d.file_id")}
    return {
        "files": sorted(conn.execute("SELECT path, module, size, hash, is_test FROM files")),
        "defs": sorted((defs[i], defs.get(parent), *rest) for i, parent, *rest in conn.execute(
            "SELECT id, parent_id, kind, name, signature, doc, decorators, col, start_line, end_line, is_test "
            "FROM defs")),
        "imports": sorted(conn.execute(
            "SELECT f.path, i.alias, i.target, i.line FROM imports i JOIN files f ON f.id = i.file_id")),
        "refs": sorted((defs[d], *rest) for d, *rest in conn.execute(
            "SELECT def_id, name, coalesce(target, ''), kind, line, col FROM refs")),
        "names": sorted(conn.execute("SELECT name FROM names")),
        "search": sorted((defs[i], *rest) for i, *rest in conn.execute(
            "SELECT rowid, name, qualname, path, doc, code FROM search")),
    }


@pytest.fixture
def dump() -> Callable[[sqlite3.Connection], dict[str, list[tuple]]]:
    """``dump(conn)``: everything an index knows, comparable between two indexes."""
    return dump_index


@pytest.fixture
def make_index(tmp_path: Path) -> Callable[..., WorkspaceIndex]:
    """``make_index(root, name="db", **options)``: an index of ``root`` stored under tmp_path."""
    opened: list[WorkspaceIndex] = []

    def make(root: Path, name: str = "db", **options) -> WorkspaceIndex:
        ix = WorkspaceIndex(root, tmp_path / "cache" / f"{name}.sqlite3", **options)
        opened.append(ix)
        return ix

    yield make
    for ix in opened:
        ix.close()
