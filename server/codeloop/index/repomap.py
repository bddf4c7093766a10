"""The repo map: the definitions that matter most for a focus (files and identifiers),
their signatures rendered compactly, as many as fit a token budget.

Importance is personalised PageRank over the reference graph (a definition refers to what
its code uses). The walk restarts at the focus files' definitions and at definitions named
by the mentioned identifiers; a reference that only names something (``obj.get()``) is
split among every definition of that name and dropped when there are many; private names
and tests count less.
"""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from codeloop.index.rank import pagerank
from codeloop.index.resolve import Resolver

MAX_CANDIDATES = 8  # a bare name defined more often than this says nothing about which one
UNSURE = 0.1  # a reference matched by its name only
# Method names the builtin types have: ``x.get()`` is far more often a dict's than ours.
BUILTIN_METHODS = frozenset(n for t in (list, dict, set, str, bytes, tuple, int, object) for n in dir(t))
PRIVATE = 0.3
TEST = 0.2
MAX_SIGNATURE = 120


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


def _load(conn: sqlite3.Connection) -> dict[int, _Def]:
    return {r[0]: _Def(*r[:9], bool(r[9])) for r in conn.execute(
        "SELECT d.id, f.path, d.kind, d.name, d.qualname, d.signature, d.line, d.parent_id, d.is_test, f.is_test "
        "FROM defs d JOIN files f ON f.id = d.file_id")}


def _edges(conn: sqlite3.Connection, defs: dict[int, _Def]) -> dict[tuple[int, int], float]:
    by_qual: dict[str, list[int]] = defaultdict(list)
    by_name: dict[str, list[int]] = defaultdict(list)
    for d in defs.values():
        by_qual[d.qualname].append(d.id)
        if d.kind != "module":
            by_name[d.name].append(d.id)
    resolver = Resolver(conn)
    edges: dict[tuple[int, int], float] = defaultdict(float)
    for src, name, target, count in conn.execute(
            "SELECT def_id, name, target, count(*) FROM refs WHERE kind != 'import' GROUP BY def_id, name, target"):
        if target is not None and (hit := by_qual.get(target)):
            found, exact = hit, True
        else:
            found, exact = resolver.candidates(name, target) if target is not None else (by_name.get(name, []), False)
        if not found or (not exact and (len(found) > MAX_CANDIDATES or name in BUILTIN_METHODS)):
            continue
        weight = math.sqrt(count) / len(found) * (1.0 if exact else UNSURE)
        if _private(name):
            weight *= PRIVATE
        for dst in found:
            if dst != src:
                edges[(src, dst)] += weight
    return edges


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
    defs = _load(conn)
    ids = list(defs)
    node = {d: i for i, d in enumerate(ids)}
    edges = {(node[s], node[t]): w for (s, t), w in _edges(conn, defs).items() if s in node and t in node}
    focus = set(focus_files or [])
    wanted = set(mentioned or [])
    personal: dict[int, float] = {}
    for d in defs.values():
        weight = (1.0 if d.path in focus else 0.0) + (5.0 if d.name in wanted or d.qualname in wanted else 0.0)
        if weight:
            personal[node[d.id]] = weight
    ranks = pagerank(len(ids), edges, personal)
    scored: list[tuple[float, _Def]] = []
    for d in defs.values():
        if d.kind == "module" or (d.parent is not None and defs[d.parent].kind in ("function", "method")):
            continue  # nested functions are not part of anything's interface
        if exclude_focus and d.path in focus:
            continue
        score = ranks[node[d.id]]
        if _private(d.name):
            score *= PRIVATE
        if d.is_test or d.in_test_file:
            score *= TEST
        scored.append((score, d))
    scored.sort(key=lambda x: (-x[0], x[1].path, x[1].line))
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
