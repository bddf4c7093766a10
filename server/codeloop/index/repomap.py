"""The repo map: the definitions that matter most for a focus (files and identifiers),
their signatures rendered compactly, as many as fit a token budget.

Importance is personalised PageRank over the reference graph (a definition refers to what
its code uses). The walk restarts at the focus files' definitions and at definitions named
by the mentioned identifiers; a reference that only names something (``obj.get()``) is
split among every definition of that name and dropped when there are many; private names
and tests count less. The graph is read only around the focus, as far as the walk carries
any weight (:func:`codeloop.index.rank.local_pagerank`): the cost of a map depends on the
focus's neighbourhood, not on the size of the workspace. With no focus at all, the walk
starts from every definition of a small workspace, and from the most referenced ones of a
big one.
"""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from codeloop.index.rank import local_pagerank
from codeloop.index.resolve import Resolver

MAX_CANDIDATES = 8  # a bare name defined more often than this says nothing about which one
UNSURE = 0.1  # a reference matched by its name only
# Method names the builtin types have: ``x.get()`` is far more often a dict's than ours.
BUILTIN_METHODS = frozenset(n for t in (list, dict, set, str, bytes, tuple, int, object) for n in dir(t))
PRIVATE = 0.3
TEST = 0.2
MAX_SIGNATURE = 120
MENTIONED = 5.0  # a mentioned identifier weighs as much as five definitions of a focus file
WHOLE_GRAPH = 3_000  # definitions: with no focus, a workspace this small is walked from everywhere
MOST_REFERENCED = 100  # with no focus in a bigger one, the walk starts from the most referenced targets


@dataclass
class _Def:
    id: int
    path: str
    kind: str
    name: str
    qualname: str
    signature: str
    line: int
    parent: int | None
    is_test: bool
    in_test_file: bool


@dataclass
class RepoMap:
    text: str
    tokens: int
    shown: list[tuple[str, str, float]] = field(default_factory=list)  # (path, qualified name, rank)


def estimate_tokens(text: str) -> int:
    """About four characters a token (code tokenises denser than prose; this errs large)."""
    return math.ceil(len(text) / 3.5)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _defs(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, _Def]:
    out: dict[int, _Def] = {}
    wanted = list(ids)
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        out.update((r[0], _Def(*r[:9], bool(r[9]))) for r in conn.execute(
            "SELECT d.id, f.path, d.kind, d.name, d.qualname, d.signature, d.line, d.parent_id, d.is_test, f.is_test "
            f"FROM defs d JOIN files f ON f.id = d.file_id WHERE d.id IN ({','.join('?' * len(chunk))})", chunk))
    return out


class _Graph:
    """The reference graph's out-edges, read a batch of definitions at a time."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.resolver = Resolver(conn)
        self._qualnames: dict[str, list[int]] = {}

    def _targets(self, name: str, target: str | None) -> tuple[list[int], bool]:
        if target is not None:
            hit = self._qualnames.get(target)
            if hit is None:
                hit = self._qualnames[target] = self.resolver.by_qualname(target)
            if hit:
                return hit, True
        return self.resolver.candidates(name, target) if target is not None else (self.resolver.by_name(name), False)

    def out_edges(self, sources: Iterable[int]) -> dict[int, list[tuple[int, float]]]:
        wanted = list(sources)
        edges: dict[int, dict[int, float]] = {src: defaultdict(float) for src in wanted}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            for src, name, target, count in self.conn.execute(
                    "SELECT def_id, name, target, count(*) FROM refs WHERE def_id IN "
                    f"({','.join('?' * len(chunk))}) AND kind != 'import' GROUP BY def_id, name, target", chunk):
                found, exact = self._targets(name, target)
                if not found or (not exact and (len(found) > MAX_CANDIDATES or name in BUILTIN_METHODS)):
                    continue
                weight = math.sqrt(count) / len(found) * (1.0 if exact else UNSURE)
                if _private(name):
                    weight *= PRIVATE
                for dst in found:
                    if dst != src:
                        edges[src][dst] += weight
        return {src: list(out.items()) for src, out in edges.items()}


def _personal(conn: sqlite3.Connection, focus: set[str], wanted: set[str]) -> dict[int, float]:
    """Where the walk restarts: each definition of a focus file (1), and each mentioned
    identifier (5, shared by the definitions it names: ``__repr__`` names hundreds)."""
    personal: dict[int, float] = defaultdict(float)
    files = sorted(focus)
    for i in range(0, len(files), 500):
        chunk = files[i:i + 500]
        for (def_id,) in conn.execute("SELECT d.id FROM defs d JOIN files f ON f.id = d.file_id WHERE f.path IN "
                                      f"({','.join('?' * len(chunk))})", chunk):
            personal[def_id] += 1.0
    named: dict[str, set[int]] = defaultdict(set)
    names = sorted(wanted)
    for i in range(0, len(names), 400):
        chunk = names[i:i + 400]
        marks = ",".join("?" * len(chunk))
        for word, def_id in conn.execute(f"SELECT name, id FROM defs WHERE name IN ({marks}) UNION "
                                         f"SELECT qualname, id FROM defs WHERE qualname IN ({marks})", chunk + chunk):
            named[word].add(def_id)
    for ids in named.values():
        for def_id in ids:
            personal[def_id] += MENTIONED / len(ids)
    return dict(personal)


def _everywhere(conn: sqlite3.Connection, graph: _Graph) -> dict[int, float]:
    """With no focus: every definition alike in a small workspace (plain PageRank); in a big
    one the most referenced definitions, by how often (reading the whole graph would take
    seconds)."""
    if conn.execute("SELECT count(*) FROM defs").fetchone()[0] <= WHOLE_GRAPH:
        return {i: 1.0 for (i,) in conn.execute("SELECT id FROM defs")}
    personal: dict[int, float] = defaultdict(float)
    for target, count in conn.execute(
            "SELECT target, count(*) AS n FROM refs WHERE target IS NOT NULL AND kind != 'import' "
            "GROUP BY target ORDER BY n DESC LIMIT ?", (MOST_REFERENCED,)):
        found, exact = graph._targets(target.rpartition(".")[2], target)
        if exact:
            for def_id in found:
                personal[def_id] += math.sqrt(count) / len(found)
    return dict(personal)


def _render(chosen: list[_Def], defs: dict[int, _Def], order: dict[str, int]) -> str:
    by_file: dict[str, dict[int, _Def]] = defaultdict(dict)
    for d in chosen:
        by_file[d.path][d.id] = d
        parent = defs.get(d.parent) if d.parent is not None else None
        while parent is not None and parent.kind != "module":  # a method shows its class
            by_file[d.path][parent.id] = parent
            parent = defs.get(parent.parent) if parent.parent is not None else None
    lines: list[str] = []
    for path in sorted(by_file, key=lambda p: order[p]):
        lines.append(f"{path}:")
        for d in sorted(by_file[path].values(), key=lambda d: d.line):
            depth = 1
            parent = defs.get(d.parent) if d.parent is not None else None
            while parent is not None and parent.kind != "module":
                depth += 1
                parent = defs.get(parent.parent) if parent.parent is not None else None
            sig = d.signature if len(d.signature) <= MAX_SIGNATURE else d.signature[: MAX_SIGNATURE - 1] + "…"
            head = f"class {d.name}{sig}:" if d.kind == "class" else f"def {d.name}{sig}"
            lines.append("  " * depth + head)
    return "\n".join(lines) + ("\n" if lines else "")


def repo_map(conn: sqlite3.Connection, focus_files: list[str] | None = None, mentioned: list[str] | None = None,
             tokens: int = 1024, exclude_focus: bool = False) -> RepoMap:
    """The map for ``focus_files`` (paths relative to the root) and ``mentioned`` identifiers
    (names or qualified names), at most ``tokens`` long."""
    focus = set(focus_files or [])
    graph = _Graph(conn)
    personal = _personal(conn, focus, set(mentioned or [])) or _everywhere(conn, graph)
    ranks = local_pagerank(personal, graph.out_edges)
    defs = _defs(conn, ranks)
    parents = {d.parent for d in defs.values() if d.parent is not None}
    while parents - defs.keys():  # the enclosing definitions: nesting and class lines
        defs.update(_defs(conn, parents - defs.keys()))
        parents = {d.parent for d in defs.values() if d.parent is not None}
    scored: list[tuple[float, _Def]] = []
    for def_id, rank in ranks.items():
        d = defs.get(def_id)
        if d is None or d.kind == "module" or (d.parent is not None and defs[d.parent].kind in ("function", "method")):
            continue  # nested functions are not part of anything's interface
        if exclude_focus and d.path in focus:
            continue
        score = rank
        if _private(d.name):
            score *= PRIVATE
        if d.is_test or d.in_test_file:
            score *= TEST
        scored.append((score, d))
    scored.sort(key=lambda x: (-x[0], x[1].path, x[1].line))
    scored = scored[:max(1, tokens)]  # a line is at least a token: no budget shows more
    order: dict[str, int] = {}
    for _score, d in scored:
        order.setdefault(d.path, len(order))
    # the largest prefix of the ranking that fits
    low, high, best = 0, len(scored), ""
    while low < high:
        mid = (low + high + 1) // 2
        text = _render([d for _s, d in scored[:mid]], defs, order)
        if estimate_tokens(text) <= tokens:
            low, best = mid, text
        else:
            high = mid - 1
    shown = [(d.path, d.qualname, round(s, 6)) for s, d in scored[:low]]
    return RepoMap(best, estimate_tokens(best), shown)


__all__ = ["RepoMap", "estimate_tokens", "repo_map"]
