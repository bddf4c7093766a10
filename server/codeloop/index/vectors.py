"""Optional semantic search: definition embeddings kept next to the index, searched by
cosine similarity and fused with bm25 by reciprocal rank fusion.

Vectors are keyed by the content hash of the text embedded for a definition (kind,
qualified name, signature, docstring, code words) and the model: a definition whose text
did not change is never embedded again, whatever its row id becomes. ``def_vectors`` maps
definition ids to those hashes, with what the text came from (the file's path, module and
content hash): each :func:`embed_pending` pass only reads the definitions of files changed
since, and a search hit whose definition changed since the last pass is checked against
its hash and dropped.

The tables are created on the first pass (an index that never had embeddings has none, and
nothing here runs for it). The Python of this build has no loadable SQLite extensions,
so ``sqlite-vec`` cannot be used: vectors are float32 blobs, normalised when stored, and
searched brute force in plain Python (about a second per 100,000 definitions of 256
dimensions; fine for a workspace, not for a monorepo).
"""

from __future__ import annotations

import hashlib
import math
import operator
import sqlite3
import threading
from array import array
from collections.abc import Callable, Sequence

from codeloop.index.queries import CANDIDATES, Symbol, _by_ids, search

Embed = Callable[[list[str]], list[list[float]]]
RRF_K = 60
BATCH = 64  # texts per request
MAX_TEXT = 2000  # characters embedded per definition

_TABLES = (
    "CREATE TABLE IF NOT EXISTS embeddings (hash TEXT PRIMARY KEY, vector BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS def_vectors (def_id INTEGER PRIMARY KEY, hash TEXT NOT NULL, source TEXT NOT NULL)",
)
# What a definition's text depends on: its file's path, module and content (index/extract.py).
_SOURCE = "(f.path || char(0) || f.module || char(0) || f.hash)"
_STALE = (f"SELECT d.id, d.kind, d.qualname, d.signature, d.doc, coalesce(s.code, ''), {_SOURCE} FROM defs d "
          "JOIN files f ON f.id = d.file_id LEFT JOIN search s ON s.rowid = d.id "
          f"LEFT JOIN def_vectors m ON m.def_id = d.id WHERE m.def_id IS NULL OR m.source != {_SOURCE}")
_MAP = "INSERT OR REPLACE INTO def_vectors VALUES (?, ?, ?)"
_TEXTS = ("SELECT d.id, d.kind, d.qualname, d.signature, d.doc, coalesce(s.code, '') FROM defs d "
          "LEFT JOIN search s ON s.rowid = d.id")


def _text(kind: str, qualname: str, signature: str, doc: str, code: str) -> str:
    return f"{kind} {qualname}{signature}\n{doc}\n{code}"[:MAX_TEXT]


def _hash(model: str, text: str) -> str:
    return hashlib.blake2b(f"{model}\0{text}".encode(), digest_size=16).hexdigest()


def has_vectors(conn: sqlite3.Connection) -> bool:
    try:
        return conn.execute("SELECT 1 FROM def_vectors LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:  # no such table: never embedded
        return False


def _pack(vector: Sequence[float]) -> bytes:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return array("f", (v / norm for v in vector)).tobytes()


def embed_pending(conn: sqlite3.Connection, embed: Embed, model: str, *, limit: int = 5000,
                  cancel: threading.Event | None = None) -> int:
    """Embed the definitions whose text has no vector yet (at most ``limit`` texts, in
    batches of :data:`BATCH`, each batch committed with its definitions' mapping), map
    the other new or changed definitions to the vectors already stored, and drop vectors
    nobody uses. Only definitions of files changed since the last pass are looked at (a
    definition's text depends only on its file's path, module and content). Returns how
    many texts were embedded. Errors of ``embed`` propagate (what was committed stays)."""
    for statement in _TABLES:
        conn.execute(statement)
    _write(conn, [("DELETE FROM def_vectors WHERE def_id NOT IN (SELECT id FROM defs)", ())])
    mapped: list[tuple[int, str, str]] = []
    todo: dict[str, tuple[str, list[tuple[int, str]]]] = {}  # hash -> (text, [(def id, source)])
    for def_id, kind, qualname, signature, doc, code, source in conn.execute(_STALE).fetchall():
        text = _text(kind, qualname, signature, doc, code)
        digest = _hash(model, text)
        if digest in todo:
            todo[digest][1].append((def_id, source))
        elif conn.execute("SELECT 1 FROM embeddings WHERE hash = ?", (digest,)).fetchone() is not None:
            mapped.append((def_id, digest, source))
        elif len(todo) < limit:
            todo[digest] = (text, [(def_id, source)])
    _write(conn, [(_MAP, row) for row in mapped])
    pending = list(todo.items())
    done = 0
    for i in range(0, len(pending), BATCH):
        if cancel is not None and cancel.is_set():
            break
        batch = pending[i:i + BATCH]
        vectors = embed([text for _, (text, _) in batch])
        rows: list[tuple[str, tuple]] = []
        for (digest, (_, users)), vector in zip(batch, vectors, strict=True):
            rows.append(("INSERT OR REPLACE INTO embeddings VALUES (?, ?)", (digest, _pack(vector))))
            rows += [(_MAP, (def_id, digest, source)) for def_id, source in users]
        _write(conn, rows)
        done += len(batch)
    _write(conn, [("DELETE FROM embeddings WHERE hash NOT IN (SELECT hash FROM def_vectors)", ())])
    return done


def _write(conn: sqlite3.Connection, statements: list[tuple[str, tuple]]) -> None:
    """Run ``statements`` in one write transaction."""
    if not statements:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for sql, args in statements:
            conn.execute(sql, args)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def nearest(conn: sqlite3.Connection, query_vector: Sequence[float], model: str, kind: str | None = None,
            limit: int = CANDIDATES) -> list[tuple[int, float]]:
    """(definition id, cosine similarity) of the ``limit`` nearest definitions, best first;
    a definition changed since it was embedded is left out."""
    query = array("f", _pack(query_vector))
    # Without a kind no join with defs (a third of the time); stale rows are checked below.
    kind_sql, args = ("JOIN defs d ON d.id = m.def_id WHERE d.kind = ?", [kind]) if kind else ("", [])
    scored: list[tuple[float, int]] = []
    size = len(query) * query.itemsize
    mul = operator.mul
    for def_id, blob in conn.execute("SELECT m.def_id, e.vector FROM def_vectors m JOIN embeddings e ON "
                                     f"e.hash = m.hash {kind_sql}", args):
        if len(blob) == size:  # another model's length never compares
            scored.append((sum(map(mul, query, memoryview(blob).cast("f"))), def_id))
    scored.sort(reverse=True)
    out: list[tuple[int, float]] = []
    for score, def_id in scored[:limit * 2]:
        row = conn.execute(_TEXTS + " WHERE d.id = ?", (def_id,)).fetchone()
        stored = conn.execute("SELECT hash FROM def_vectors WHERE def_id = ?", (def_id,)).fetchone()
        if row is not None and stored is not None and _hash(model, _text(*row[1:])) == stored[0]:
            out.append((def_id, score))
            if len(out) == limit:
                break
    return out


def fuse(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: each id scores the sum of 1 / (k + rank) over the rankings
    (rank from 1); best first, ties by first appearance."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


def semantic_search(conn: sqlite3.Connection, query: str, embed_query: Callable[[str], list[float]] | None,
                    model: str, kind: str | None = None, limit: int = 20) -> list[Symbol]:
    """:func:`codeloop.index.queries.search` fused with the nearest definitions by vector.
    Without ``embed_query`` or stored vectors this is exactly that search. ``embed_query``
    errors propagate (the caller falls back to bm25)."""
    if embed_query is None or not has_vectors(conn):
        return search(conn, query, kind, limit)
    lexical = search(conn, query, kind, CANDIDATES)
    vector = nearest(conn, embed_query(query), model, kind, CANDIDATES)
    fused = fuse([[s.id for s in lexical], [i for i, _ in vector]])[:limit]
    by_id = {s.id: s for s in lexical}
    missing = [i for i, _ in fused if i not in by_id]
    by_id.update((s.id, s) for s in _by_ids(conn, missing))
    out = []
    for def_id, score in fused:
        found = by_id.get(def_id)
        if found is not None:
            found.score = round(score, 6)
            out.append(found)
    return out


__all__ = ["BATCH", "RRF_K", "Embed", "embed_pending", "fuse", "has_vectors", "nearest", "semantic_search"]
