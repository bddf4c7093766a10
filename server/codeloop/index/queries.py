"""Questions the index answers: where a name is defined, what refers to it, which tests
use it, who calls it and what it calls, and full-text search ranked by bm25.

Every function takes a connection (the CLI's, or a reader of the server's thread) and
returns plain dataclasses; lines are 1-based, columns are byte columns, paths are relative
to the workspace root with "/".
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from codeloop.index.coverage import covering
from codeloop.index.ranking import rerank
from codeloop.index.resolve import Resolver
from codeloop.index.words import query_terms, split_identifier

KINDS = ("module", "class", "function", "method")
# bm25 weight of each search column: name, qualified name, path, docstring, code.
WEIGHTS = (10.0, 4.0, 2.0, 2.0, 1.0)
_WEIGHTS = ", ".join(str(w) for w in WEIGHTS)
CANDIDATES = 200  # bm25's best, re-ranked
SELECTIVE_ROWS = 2500  # rows scored with every term; rows matching only more common words are bounded
_SYMBOL = ("SELECT d.id, f.path, d.line, d.col, d.end_line, d.name, d.qualname, d.kind, d.signature, d.doc, "
           "d.is_test, d.parent_id FROM defs d JOIN files f ON f.id = d.file_id ")


@dataclass
class Symbol:
    id: int
    path: str
    line: int
    col: int
    end_line: int
    name: str
    qualified_name: str
    kind: str
    signature: str
    doc: str = ""
    is_test: bool = False
    parent_id: int | None = None
    score: float = 0.0

    @property
    def summary(self) -> str:
        return self.doc.strip().split("\n", 1)[0] if self.doc else ""


@dataclass
class Location:
    path: str
    line: int
    col: int
    name: str
    kind: str  # call | attr | name | import
    context: str  # the qualified name of the definition it occurs in


def _symbols(rows: list[tuple]) -> list[Symbol]:
    return [Symbol(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], bool(r[10]), r[11]) for r in rows]


def symbol(conn: sqlite3.Connection, def_id: int) -> Symbol | None:
    found = _symbols(conn.execute(_SYMBOL + "WHERE d.id = ?", (def_id,)).fetchall())
    return found[0] if found else None


def _by_ids(conn: sqlite3.Connection, ids: list[int]) -> list[Symbol]:
    out: list[Symbol] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        out += _symbols(conn.execute(_SYMBOL + f"WHERE d.id IN ({','.join('?' * len(chunk))})", chunk).fetchall())
    return out


def _order(symbols: list[Symbol]) -> list[Symbol]:
    return sorted(symbols, key=lambda s: (s.is_test, s.path, s.line))


def lookup(conn: sqlite3.Connection, name: str, kind: str | None = None, limit: int = 50) -> list[Symbol]:
    """Definitions by name (``helper``) or qualified name (``pkg.mod.helper``, or its tail ``mod.helper``)."""
    kind_sql, args = ("AND d.kind = ? ", [kind]) if kind else ("", [])
    if "." in name:
        rows = conn.execute(_SYMBOL + f"WHERE d.qualname = ? {kind_sql}LIMIT ?", [name, *args, limit]).fetchall()
        if not rows:
            last = name.rpartition(".")[2]
            rows = [r for r in conn.execute(_SYMBOL + f"WHERE d.name = ? {kind_sql}", [last, *args])
                    if r[6].endswith("." + name)]
    else:
        rows = conn.execute(_SYMBOL + f"WHERE d.name = ? {kind_sql}LIMIT ?", [name, *args, limit]).fetchall()
    return _order(_symbols(rows))[:limit]


def workspace_symbols(conn: sqlite3.Connection, query: str, limit: int = 100) -> list[Symbol]:
    """Go to Symbol in Workspace, case-insensitive: names that start with the query (shortest
    first), then names that contain it, then names whose words start with the query's
    pieces in order (``PriCal`` finds ``PriceCalculator``). Each tier is an index lookup:
    a NOCASE b-tree range for prefixes, the FTS5 trigram table of names for the rest; the
    full rows are read only for what is returned."""
    q = query.strip()
    if not q:
        return []
    ids = [i for (i,) in conn.execute(
        "SELECT id FROM defs WHERE name >= ? COLLATE NOCASE AND name < ? COLLATE NOCASE AND kind != 'module' "
        "ORDER BY length(name), name LIMIT ?", (q, q + "\U0010ffff", limit))]
    if len(ids) < limit and len(q) >= 3 and '"' not in q:
        # Names containing the query: the trigram index narrows the distinct names (half as
        # many as the definitions), then the definitions of those names.
        names = [n for (n,) in conn.execute("SELECT name FROM names_tri WHERE names_tri MATCH ? LIMIT ?",
                                            ('"' + q + '"', 4 * limit))]
        ids += _ids_named(conn, names, set(ids), limit - len(ids))
    if len(ids) < limit:
        pieces = _CAMEL_PIECES.findall(q)
        if len(pieces) > 1:
            like = "%".join(p.replace("%", "").replace("_", "") for p in pieces) + "%"
            names = [n for (n,) in conn.execute("SELECT name FROM names_tri WHERE name LIKE ? LIMIT ?",
                                                (like, 4 * limit)) if _pieces_match(pieces, n)]
            ids += _ids_named(conn, names, set(ids), limit - len(ids))
    by_id = {s.id: s for s in _by_ids(conn, ids)}
    return [by_id[i] for i in ids if i in by_id]


def _ids_named(conn: sqlite3.Connection, names: list[str], seen: set[int], room: int) -> list[int]:
    """Ids of the (non-module) definitions of ``names``, shortest name first, not in ``seen``."""
    if not names or room <= 0:
        return []
    names = sorted(names, key=lambda n: (len(n), n))
    marks = ",".join("?" * len(names))
    rows = conn.execute(f"SELECT id, name FROM defs WHERE name IN ({marks}) AND kind != 'module'", names).fetchall()
    order = {n: i for i, n in enumerate(names)}
    rows.sort(key=lambda r: (order[r[1]], r[0]))
    return [i for i, _ in rows if i not in seen][:room]


_CAMEL_PIECES = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def _pieces_match(pieces: list[str], name: str) -> bool:
    """Do the query's pieces start words of ``name``, in order?"""
    words = split_identifier(name)
    i = 0
    for piece in pieces:
        piece = piece.lower()
        while i < len(words) and not words[i].startswith(piece):
            i += 1
        if i == len(words):
            return False
        i += 1
    return True


def search(conn: sqlite3.Connection, query: str, kind: str | None = None, limit: int = 20,
           exhaustive: bool = False) -> list[Symbol]:
    """Full-text search over names, qualified names, paths, docstrings and code: the best
    :data:`CANDIDATES` by bm25 (:func:`text_scores`), re-ranked by
    :func:`codeloop.index.ranking.rerank`."""
    terms = query_terms(query)
    if not terms:
        return []
    rows = text_scores(conn, terms, kind, max(limit * 5, CANDIDATES), exhaustive)
    scores = {i: -s for i, s in rows}
    found = _candidates(conn, list(scores))
    rerank(found, query, scores)
    best = found[:limit]
    full = {s.id: s for s in _by_ids(conn, [c.id for c in best])}
    out = []
    for c in best:
        if (s := full.get(c.id)) is not None:
            s.score = c.score
            out.append(s)
    return out


@dataclass(slots=True)
class _Candidate:
    """What re-ranking reads of a definition (the whole row is read for the results only)."""

    id: int
    path: str
    line: int
    name: str
    qualified_name: str
    kind: str
    is_test: bool
    score: float = 0.0


def _candidates(conn: sqlite3.Connection, ids: list[int]) -> list[_Candidate]:
    out: list[_Candidate] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        out += [_Candidate(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in conn.execute(
            "SELECT d.id, f.path, d.line, d.name, d.qualname, d.kind, d.is_test FROM defs d JOIN files f "
            f"ON f.id = d.file_id WHERE d.id IN ({','.join('?' * len(chunk))})", chunk)]
    return out


def text_scores(conn: sqlite3.Connection, terms: list[str], kind: str | None, k: int,
                exhaustive: bool = False, selective_rows: int | None = None) -> list[tuple[int, float]]:
    """The ``k`` best (id, bm25) for any of ``terms`` (bm25 is negative: lower is better).

    bm25 costs about a microsecond per matching row, and a common word ("name", "path")
    matches thousands of rows through the code column. So when the terms match more than
    :data:`SELECTIVE_ROWS` rows, the most frequent ones are *common*: the rows that match a
    selective term, and the rows whose *name* holds a common one, are scored with every
    term, exactly as an exhaustive search would; rows that match nothing but common words
    outside their name are left out (they rank below the rest: bench/index measures the
    agreement with the exhaustive search). ``exhaustive`` scores every matching row."""
    bound = SELECTIVE_ROWS if selective_rows is None else selective_rows
    counts = _rows_matching(conn, terms)
    total = sum(counts.values())
    if exhaustive or total <= bound:
        return _bm25(conn, _any_of(terms), kind, k)
    selective = sorted(terms, key=lambda t: counts[t])
    common: list[str] = []
    while selective and sum(counts[t] for t in selective) > bound:
        common.append(selective.pop())
    usual = _any_of(common)
    named = f"{{name}} : ({usual})"
    common_rows = sum(counts[t] for t in common)
    named_rows = _rows_matching(conn, [named], quoted=True)[0]
    # The queries below score the selective rows once and the named ones twice, and read the
    # common words' lists three times (about half a scored row each): worth it only when
    # that is well under scoring every matching row once ("__init__" is named everywhere).
    if total - common_rows + 2 * named_rows + common_rows // 4 > 0.8 * total:
        return _bm25(conn, _any_of(terms), kind, k)
    # bm25 is a sum over the expression's phrases, each with its own IDF, so the exact score
    # of a row is assembled from three cheap queries:
    # - selective terms alone: exact for the rows without a common word (and a lower bound
    #   for the others, so the best k of them are enough);
    # - (selective OR common-in-name) AND common: exact for the rows holding both kinds,
    #   plus the name column's share for the rows named by a common word;
    # - common-in-name alone: that share, taken off again.
    scores: dict[int, float] = {}
    if selective:
        some = _any_of(selective)
        scores.update(_bm25(conn, some, kind, k))
        extra = _bm25(conn, f"({some} OR {named}) AND ({usual})", kind, -1, ordered=False)
    else:
        extra = _bm25(conn, f"({named}) AND ({usual})", kind, -1, ordered=False)
    share = dict(_bm25(conn, named, kind, -1, ordered=False))
    scores.update((i, s - share.get(i, 0.0)) for i, s in extra)
    return sorted(scores.items(), key=lambda r: (r[1], r[0]))[:k]


def _any_of(terms: list[str]) -> str:
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)


def _rows_matching(conn: sqlite3.Connection, terms: list[str], quoted: bool = False) -> dict:
    """How many rows match each term (one statement for all of them)."""
    counts = "SELECT count(*) FROM search WHERE search MATCH ?"
    row = conn.execute("SELECT " + ", ".join(f"({counts})" for _ in terms),
                       terms if quoted else [_any_of([t]) for t in terms]).fetchone()
    return dict(zip(range(len(terms)) if quoted else terms, row, strict=True))


def _bm25(conn: sqlite3.Connection, expression: str, kind: str | None, k: int,
          ordered: bool = True) -> list[tuple[int, float]]:
    """(id, bm25) of the ``k`` best rows matching an FTS5 ``expression`` (k = -1: all of
    them; ``ordered`` False: in no particular order)."""
    order = "ORDER BY score, id " if ordered else ""
    if kind is None:  # no join: bm25 over the FTS table alone is ten times faster
        return conn.execute(f"SELECT rowid AS id, bm25(search, {_WEIGHTS}) AS score FROM search "
                            f"WHERE search MATCH ? {order}LIMIT ?", (expression, k)).fetchall()
    return conn.execute(
        f"SELECT d.id AS id, bm25(search, {_WEIGHTS}) AS score FROM search JOIN defs d ON d.id = search.rowid "
        f"WHERE search MATCH ? AND d.kind = ? {order}LIMIT ?", (expression, kind, k)).fetchall()


def definition_at(conn: sqlite3.Connection, path: str, line: int, col: int) -> list[Symbol]:
    """What the name at (1-based ``line``, byte ``col``) of ``path`` refers to: the definition
    itself when the position is on a definition's name."""
    own = conn.execute(_SYMBOL + "WHERE f.path = ? AND d.line = ? AND d.col <= ? AND d.kind != 'module'",
                       (path, line, col)).fetchall()
    for row in own:
        if col <= row[3] + len(row[5].encode()):
            return _symbols([row])
    nearest = conn.execute("SELECT r.name, r.target, r.col FROM refs r WHERE r.def_id IN "
                           "(SELECT d.id FROM defs d JOIN files f ON f.id = d.file_id WHERE f.path = ?) "
                           "AND r.line = ? AND r.col <= ? ORDER BY r.col DESC LIMIT 1",
                           (path, line, col)).fetchone()
    if nearest is None or col > nearest[2] + len(nearest[0].encode()):
        return []
    ids, _ = Resolver(conn).candidates(nearest[0], nearest[1])
    return _order(_by_ids(conn, ids))


def _referring(conn: sqlite3.Connection, target: Symbol, kinds: tuple[str, ...] | None = None) -> list[tuple]:
    """(path, line, col, name, kind, enclosing definition id) of the references that may mean ``target``."""
    kind_sql = f" AND r.kind IN ({','.join('?' * len(kinds))})" if kinds else ""
    if target.kind == "module":
        rows = conn.execute(
            "SELECT f.path, r.line, r.col, r.name, r.kind, r.def_id, r.target FROM refs r JOIN defs d "
            "ON d.id = r.def_id JOIN files f ON f.id = d.file_id WHERE r.kind = 'import' "
            "AND (r.target = ? OR r.target LIKE ?)",
            (target.qualified_name, target.qualified_name + ".%")).fetchall()
        return [r[:6] for r in rows]
    rows = conn.execute(
        "SELECT f.path, r.line, r.col, r.name, r.kind, r.def_id, r.target FROM refs r JOIN defs d "
        f"ON d.id = r.def_id JOIN files f ON f.id = d.file_id WHERE r.name = ?{kind_sql}", (target.name, *(kinds or ()))).fetchall()
    resolver = Resolver(conn)
    return [r[:6] for r in rows if resolver.means(r[3], r[6], target.id, target.qualified_name)]


def references(conn: sqlite3.Connection, target: Symbol) -> list[Location]:
    """Every place that may refer to ``target`` (by what its file imports, else by name)."""
    rows = _referring(conn, target)
    context = {s.id: s.qualified_name for s in _by_ids(conn, sorted({r[5] for r in rows}))}
    return sorted((Location(p, ln, c, n, k, context.get(d, "")) for p, ln, c, n, k, d in rows),
                  key=lambda loc: (loc.path, loc.line, loc.col))


def _outermost_test(conn: sqlite3.Connection, def_id: int, cache: dict[int, Symbol | None]) -> Symbol | None:
    chain: list[int] = []
    current: int | None = def_id
    while current is not None:
        if current in cache:
            break
        chain.append(current)
        current = conn.execute("SELECT parent_id FROM defs WHERE id = ?", (current,)).fetchone()[0]
    found = cache.get(current) if current is not None else None
    for i in reversed(chain):
        if found is None:
            s = symbol(conn, i)
            found = s if s is not None and s.is_test else None
        cache[i] = found
    return found


def tests_for(conn: sqlite3.Connection, target: Symbol) -> list[Symbol]:
    """The test functions that refer to ``target`` (statically, inside their bodies), and
    those that ran one of its lines in the last sandboxed run (coverage, when there is one)."""
    cache: dict[int, Symbol | None] = {}
    tests: dict[int, Symbol] = {}
    for row in _referring(conn, target):
        test = _outermost_test(conn, row[5], cache)
        if test is not None:
            tests[test.id] = test
    for test in _tests_named(conn, covering(conn, target.path, target.line, target.end_line)):
        tests.setdefault(test.id, test)
    return sorted(tests.values(), key=lambda s: (s.path, s.line))


def _tests_named(conn: sqlite3.Connection, test_ids: list[str]) -> list[Symbol]:
    """The test functions of pytest node ids (``tests/t.py::TestA::test_b[param]``)."""
    found: list[Symbol] = []
    for test in test_ids:
        path, _, inner = test.partition("::")
        row = conn.execute("SELECT module FROM files WHERE path = ?", (path,)).fetchone()
        if row is None or not inner:
            continue
        names = inner.partition("[")[0].replace("::", ".")
        qualname = f"{row[0]}.{names}" if row[0] else names
        found += [s for s in _symbols(conn.execute(_SYMBOL + "WHERE f.path = ? AND d.qualname = ?",
                                                   (path, qualname)).fetchall()) if s.is_test]
    return found


def test_id(conn: sqlite3.Connection, test: Symbol) -> str:
    """The pytest node id of a test function: ``tests/test_x.py::TestY::test_z``."""
    row = conn.execute("SELECT module FROM files WHERE path = ?", (test.path,)).fetchone()
    module = row[0] if row else ""
    inner = test.qualified_name[len(module) + 1:] if module else test.qualified_name
    return f"{test.path}::{inner.replace('.', '::')}"


def affected_tests(conn: sqlite3.Connection, path: str, depth: int = 2, max_targets: int = 400) -> list[str]:
    """The tests a change to ``path`` may affect: test functions that refer to one of its
    definitions, or to a definition that does (``depth`` levels of callers), as pytest
    arguments; a test file whose every test is affected is given whole."""
    frontier = _symbols(conn.execute(_SYMBOL + "WHERE f.path = ? AND d.kind != 'module'", (path,)).fetchall())
    seen = {s.id for s in frontier}
    cache: dict[int, Symbol | None] = {}
    tests: dict[int, Symbol] = {}
    for _ in range(depth):
        enclosing: set[int] = set()
        for target in frontier[:max_targets]:
            for row in _referring(conn, target):
                test = _outermost_test(conn, row[5], cache)
                if test is not None:
                    tests[test.id] = test
                elif row[5] not in seen:
                    enclosing.add(row[5])
        seen |= enclosing
        frontier = [s for s in _by_ids(conn, sorted(enclosing)) if s.kind != "module"]
        if not frontier:
            break
    for test in _tests_named(conn, covering(conn, path, 1, 1 << 30)):  # ran a line of it last time
        tests.setdefault(test.id, test)
    by_file: dict[str, list[Symbol]] = {}
    for test in tests.values():
        by_file.setdefault(test.path, []).append(test)
    out: list[str] = []
    for file, found in sorted(by_file.items()):
        total = conn.execute("SELECT count(*) FROM defs d JOIN files f ON f.id = d.file_id "
                             "WHERE f.path = ? AND d.is_test = 1", (file,)).fetchone()[0]
        if len(found) >= total:
            out.append(file)
        else:
            out += sorted(test_id(conn, t) for t in found)
    return out


def callers(conn: sqlite3.Connection, target: Symbol) -> list[Symbol]:
    """The definitions whose code calls ``target``."""
    ids = sorted({r[5] for r in _referring(conn, target, ("call",))})
    return _order(_by_ids(conn, ids))


def callees(conn: sqlite3.Connection, caller: Symbol) -> list[Symbol]:
    """The workspace definitions ``caller`` calls (directly in its body)."""
    resolver = Resolver(conn)
    ids: set[int] = set()
    for name, target in conn.execute("SELECT DISTINCT name, target FROM refs WHERE def_id = ? AND kind = 'call'",
                                     (caller.id,)):
        found, exact = resolver.candidates(name, target)
        if exact or len(found) <= 3:  # a bare method name defined everywhere says little
            ids.update(found)
    return _order(_by_ids(conn, sorted(ids)))


__all__ = ["KINDS", "Location", "Symbol", "affected_tests", "callees", "callers", "definition_at", "lookup", "references", "search",
           "symbol", "test_id", "tests_for", "text_scores", "workspace_symbols"]
