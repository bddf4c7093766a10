"""Writing one file's facts into the index, and taking a file out. Callers hold the write
transaction; these functions only issue statements."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING

from codeloop.index.words import searchable, searchable_code, searchable_name

if TYPE_CHECKING:  # the process that only scans and removes files does not load the parser
    from codeloop.index.extract import FileFacts

_CHUNK = 500


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def delete_files(conn: sqlite3.Connection, file_ids: list[int], dropped: set[str] | None = None) -> None:
    """Remove files and everything found in them; the names of their definitions go to
    ``dropped`` (for :func:`forget_names` once the replacements are in)."""
    for chunk in _chunks(file_ids):
        marks = ",".join("?" * len(chunk))
        if dropped is not None:
            dropped.update(n for (n,) in conn.execute(f"SELECT DISTINCT name FROM defs WHERE file_id IN ({marks})",
                                                      chunk))
        in_files = f"IN (SELECT id FROM defs WHERE file_id IN ({marks}))"
        conn.execute(f"DELETE FROM search WHERE rowid {in_files}", chunk)
        # A reference's file is its definition's: no file_id column or index to keep up
        # (the refs of a file are a range of def_id, on the refs_def index).
        conn.execute(f"DELETE FROM refs WHERE def_id {in_files}", chunk)
        for table in ("imports", "defs"):
            conn.execute(f"DELETE FROM {table} WHERE file_id IN ({marks})", chunk)
        conn.execute(f"DELETE FROM files WHERE id IN ({marks})", chunk)


def next_def_id(conn: sqlite3.Connection) -> int:
    return max_def_id(conn) + 1


SearchWords = list[tuple[str, str, str, str]]  # per definition: name, qualname, path, code words


def search_words(rel: str, facts: FileFacts) -> SearchWords:
    """The full-text columns of a file's definitions (pure Python: a worker works them out
    before its write turn, so that the other worker is not kept waiting for them)."""
    path_words = searchable(rel[:-3] if rel.endswith(".py") else rel)
    return [(searchable_name(d.name), searchable(d.qualname), path_words,
             searchable_code(f"{d.signature} {d.decorators}", d.words)) for d in facts.defs]


def insert_file(conn: sqlite3.Connection, rel: str, mtime_ns: int, size: int, digest: str, is_test: bool,
                facts: FileFacts, first_def_id: int, words: SearchWords | None = None) -> int:
    """Add a file (not in the index) and its facts; definitions get ids from
    ``first_def_id`` on. Returns the next free definition id. The name list is left to
    :func:`list_names`, once a transaction."""
    cur = conn.execute(
        "INSERT INTO files (path, module, mtime_ns, size, hash, is_test) VALUES (?, ?, ?, ?, ?, ?)",
        (rel, facts.module, mtime_ns, size, digest, int(is_test)))
    file_id = cur.lastrowid
    ids = [first_def_id + i for i in range(len(facts.defs))]
    conn.executemany(
        "INSERT INTO defs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(ids[i], file_id, ids[d.parent] if d.parent >= 0 else None, d.kind, d.name, d.qualname, d.signature,
          d.doc, d.decorators, d.line, d.col, d.start_line, d.end_line, int(d.is_test))
         for i, d in enumerate(facts.defs)])
    conn.executemany(
        "INSERT INTO search (rowid, name, qualname, path, doc, code) VALUES (?, ?, ?, ?, ?, ?)",
        [(ids[i], name, qualname, path, d.doc, code)
         for i, (d, (name, qualname, path, code)) in enumerate(zip(facts.defs, words or search_words(rel, facts),
                                                                     strict=True))])
    conn.executemany("INSERT INTO imports VALUES (?, ?, ?, ?)",
                     [(file_id, alias, target, line) for alias, target, line in facts.imports])
    conn.executemany("INSERT INTO refs VALUES (?, ?, ?, ?, ?, ?)",
                     [(ids[scope], name, target, kind, line, col)
                      for scope, name, target, kind, line, col in facts.refs])
    return first_def_id + len(facts.defs)


def list_names(conn: sqlite3.Connection, after_id: int) -> None:
    """Add to the name list those of the definitions past ``after_id`` (a transaction's new
    ones: a range of the table's rows). One statement: a name inserted a statement at a
    time (its trigger writes the trigram index) made FTS5 write out a segment for each, and
    for the ``search`` table too once it was written in the transaction (a savepoint for
    every statement with a trigger): ~8 % of the instructions of an update in this process.
    Without DISTINCT (the unique index drops repeats): with it, SQLite read the whole
    ``defs_name`` index in name order instead of the range (4.8 ms for one file's
    definitions instead of 0.6, 95 ms for all of them instead of 39)."""
    conn.execute("INSERT OR IGNORE INTO names (name) SELECT name FROM defs WHERE id > ? AND kind != 'module'",
                 (after_id,))


def max_def_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT max(id) FROM defs").fetchone()[0] or 0


def forget_names(conn: sqlite3.Connection, names: set[str]) -> None:
    """Drop from the name list those of ``names`` that no definition has any more (modules'
    names are not listed: a module named like a deleted function does not keep it)."""
    listed = sorted(names)
    for i in range(0, len(listed), _CHUNK):
        chunk = listed[i:i + _CHUNK]
        conn.execute(f"DELETE FROM names WHERE name IN ({','.join('?' * len(chunk))}) "
                     "AND NOT EXISTS (SELECT 1 FROM defs WHERE defs.name = names.name AND defs.kind != 'module')",
                     chunk)


__all__ = ["SearchWords", "delete_files", "forget_names", "insert_file", "list_names", "max_def_id", "next_def_id",
           "search_words"]
