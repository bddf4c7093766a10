"""Context for generation (issue 13 item 6): what `services.gen_context.gather` costs and
gives on a tree of about 2,000 real Python files, for 40 functions that have callers.

Measured, in one run: seconds per context (p50/p99, wall and CPU of the thread), tokens
used against the budget, how many definitions are shown and for what reason (called by
it, named in its description, calls it, similar), and the share of contexts that include
the repo map. The repo map alone too (p50/p99), and, for the first contexts, against the
whole-graph PageRank it replaced (the same weights and restart, iterated over every
definition: its CPU time, and how many of its 20 best definitions the local walk finds).
Usage: python bench/index/bench_context.py [--db PATH --tree DIR] [--tokens 600] [--whole 10]
(without --db: the tree of bench_index.py is copied and indexed first).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent.parent / "server"), str(HERE.parent.parent / "sandbox"), str(HERE)]

from bench_index import build_tree, pct  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db")
    parser.add_argument("--tree")
    parser.add_argument("--tokens", type=int, default=600)
    parser.add_argument("--whole", type=int, default=10, help="contexts compared with the whole-graph ranking")
    parser.add_argument("--out", default=str(HERE / "results_context.json"))
    args = parser.parse_args()
    from codeloop.index.repomap import repo_map
    from codeloop.index.workspace_index import WorkspaceIndex
    from codeloop.services.gen_context import gather

    if args.db:
        db, tree = Path(args.db), Path(args.tree)
    else:
        work = Path(tempfile.mkdtemp(prefix="codeloop-bench-context-"))
        tree = work / "tree"
        tree.mkdir()
        build_tree(tree, 2000)
        db = work / "index.sqlite3"
        with WorkspaceIndex(tree, db) as ix:
            ix.sync()
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT f.path, d.name, d.line, d.doc FROM defs d JOIN files f ON f.id = d.file_id "
        "WHERE d.kind IN ('function', 'method') AND d.is_test = 0 AND d.name NOT LIKE '\\_%' ESCAPE '\\' "
        "AND d.doc != '' AND EXISTS (SELECT 1 FROM refs r WHERE r.name = d.name AND r.kind = 'call' "
        "AND r.file_id != d.file_id)").fetchall()
    random.Random(13).shuffle(rows)
    wall, cpu, tokens, shown, reasons, maps = [], [], [], [], Counter(), 0
    for path, name, line, doc in rows[:40]:
        w, c = time.perf_counter(), time.thread_time()
        ctx = gather(conn, path, name, line, doc, args.tokens, tree)
        wall.append((time.perf_counter() - w) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
        tokens.append(ctx.tokens)
        shown.append(len(ctx.shown))
        reasons.update(part.rsplit("  # ", 1)[1] for part in ctx.text.splitlines() if "  # " in part
                       and part.rsplit("  # ", 1)[1] in ("called by it", "named in its description", "calls it",
                                                         "similar"))
        maps += "Repo map around this file" in ctx.text
    map_wall, map_cpu = [], []
    for path, name, _line, _doc in rows[:40]:
        w, c = time.perf_counter(), time.thread_time()
        repo_map(conn, [path], [name], args.tokens, exclude_focus=True)
        map_wall.append((time.perf_counter() - w) * 1000)
        map_cpu.append((time.thread_time() - c) * 1000)
    whole = whole_graph(conn, rows[:args.whole])
    results = {
        "contexts": len(wall), "budget_tokens": args.tokens, "load_avg": os.getloadavg()[0],
        "ms_wall": {"p50": round(statistics.median(wall), 1), "p99": round(pct(wall, 99), 1)},
        "ms_cpu": {"p50": round(statistics.median(cpu), 1), "p99": round(pct(cpu, 99), 1)},
        "tokens": {"p50": statistics.median(tokens), "max": max(tokens)},
        "definitions_shown": {"p50": statistics.median(shown), "max": max(shown)},
        "lines_by_reason": dict(reasons), "with_repo_map": maps,
        "repo_map_ms_wall": {"p50": round(statistics.median(map_wall), 1), "p99": round(pct(map_wall, 99), 1)},
        "repo_map_ms_cpu": {"p50": round(statistics.median(map_cpu), 1), "p99": round(pct(map_cpu, 99), 1)},
        "whole_graph": whole, "load_avg_end": os.getloadavg()[0],
    }
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def whole_graph(conn: sqlite3.Connection, contexts: list[tuple]) -> dict[str, object]:
    """The local walk against PageRank iterated over the whole graph (what the repo map did
    before): same edges, same restart; CPU seconds of each, and the share of the whole
    graph's 20 best definitions (modules left out) that the local walk ranks in its 20 best."""
    from codeloop.index import repomap as rm
    from codeloop.index.rank import local_pagerank, pagerank

    c = time.thread_time()
    ids = [i for (i,) in conn.execute("SELECT id FROM defs")]
    graph = rm._Graph(conn)
    out = graph.out_edges(ids)
    node = {d: i for i, d in enumerate(ids)}
    edges = {(node[s], node[t]): w for s, targets in out.items() for t, w in targets}
    modules = {i for (i,) in conn.execute("SELECT id FROM defs WHERE kind = 'module'")}
    graph_cpu = time.thread_time() - c
    whole_cpu, local_cpu, overlap = [], [], []
    for path, name, _line, _doc in contexts:
        personal = rm._personal(conn, {path}, {name})
        c = time.thread_time()
        ranks = pagerank(len(ids), edges, {node[d]: w for d, w in personal.items()})
        whole_cpu.append(time.thread_time() - c)
        c = time.thread_time()
        local = local_pagerank(personal, rm._Graph(conn).out_edges)
        local_cpu.append(time.thread_time() - c)
        best = [d for d in sorted(ids, key=lambda d: -ranks[node[d]]) if d not in modules][:20]
        mine = [d for d in sorted(local, key=lambda d: -local[d]) if d not in modules][:20]
        overlap.append(len(set(best) & set(mine)) / len(best))
    return {"contexts": len(contexts), "graph_edges": len(edges), "read_whole_graph_cpu_s": round(graph_cpu, 2),
            "whole_pagerank_cpu_s": {"p50": round(statistics.median(whole_cpu), 3), "max": round(max(whole_cpu), 3)},
            "local_walk_cpu_s": {"p50": round(statistics.median(local_cpu), 4), "max": round(max(local_cpu), 4)},
            "top20_overlap": {"mean": round(statistics.mean(overlap), 3), "min": round(min(overlap), 3)}}


if __name__ == "__main__":
    main()
