"""Context for generation (issue 13 item 6): what `services.gen_context.gather` costs and
gives on a tree of about 2,000 real Python files, for 40 functions that have callers.

Measured, in one run: seconds per context (p50/p99, wall and CPU of the thread), tokens
used against the budget, how many definitions are shown and for what reason (called by
it, named in its description, calls it, similar), and the share of contexts that include
the repo map. Usage: python bench/index/bench_context.py [--db PATH --tree DIR] [--tokens 600]
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
    parser.add_argument("--out", default=str(HERE / "results_context.json"))
    args = parser.parse_args()
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
    results = {
        "contexts": len(wall), "budget_tokens": args.tokens, "load_avg": os.getloadavg()[0],
        "ms_wall": {"p50": round(statistics.median(wall), 1), "p99": round(pct(wall, 99), 1)},
        "ms_cpu": {"p50": round(statistics.median(cpu), 1), "p99": round(pct(cpu, 99), 1)},
        "tokens": {"p50": statistics.median(tokens), "max": max(tokens)},
        "definitions_shown": {"p50": statistics.median(shown), "max": max(shown)},
        "lines_by_reason": dict(reasons), "with_repo_map": maps,
    }
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
