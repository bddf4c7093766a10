#!/usr/bin/env python3
"""Fill Pynguin's own statistics into rows of a testgen-bench results CSV.

    pynguin_stats.py RESULTS_CSV TESTGEN_WORK [--label pynguin]

When Pynguin runs through a `--cmd` template (here: wrapped in the bubblewrap sandbox) the
harness does not read its report. This reads each row's `runs/<label>/<module>/seed<N>/report/
statistics.csv` with the harness's own reader and formatter (run_bench.read_pynguin_stats, fmt)
and fills the same columns the harness fills for its built-in Pynguin run:
branch_cov_pynguin, tool_size, tool_search_s, tool_total_s, mutation_score (Pynguin's internal
mutation analysis, not comparable with other tools). Rows already filled are left alone.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

sys.path.insert(0, os.environ.get("TESTGEN_BENCH", "/work/shared/tools/testgen-bench"))
import run_bench  # noqa: E402  (the shared harness)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("work")
    ap.add_argument("--label", default="pynguin")
    a = ap.parse_args()
    path = Path(a.csv)
    rows = list(csv.DictReader(path.open()))
    filled = 0
    for r in rows:
        if r["tool"] != a.label or r["branch_cov_pynguin"]:
            continue
        report = Path(a.work) / "runs" / a.label / r["module"] / f"seed{r['seed']}" / "report"
        stats = run_bench.read_pynguin_stats(report)
        if not stats:
            continue
        r["branch_cov_pynguin"] = run_bench.fmt(stats.get("BranchCoverage") or stats.get("Coverage"))
        r["tool_size"] = stats.get("Size", "")
        if stats.get("SearchTime"):
            r["tool_search_s"] = run_bench.fmt(int(stats["SearchTime"]) / 1e9, 1)
        if stats.get("TotalTime"):
            r["tool_total_s"] = run_bench.fmt(int(stats["TotalTime"]) / 1e9, 1)
        r["mutation_score"] = run_bench.fmt(stats.get("MutationScore"))
        filled += 1
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=run_bench.FIELDS)
        w.writeheader()
        w.writerows(rows)
    print(f"pynguin_stats: filled {filled} row(s) of {path}")


if __name__ == "__main__":
    main()
