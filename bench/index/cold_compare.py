"""The cold `codeloop index` process of two versions of the code on one tree, alternated with
the parse-only baseline, in one run: wall and CPU seconds (user + system, workers included).

Usage: python bench/index/cold_compare.py TREE OLD_CHECKOUT [--rounds 3]
(OLD_CHECKOUT: a folder with `server/` and `sandbox/` of the version to compare against,
e.g. from `git archive <commit> server sandbox | tar -x -C DIR`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
BASELINE = ("import sys, os\nfrom tree_sitter import Language, Parser\nimport tree_sitter_python\n"
            "p = Parser(Language(tree_sitter_python.language()))\n"
            "for r, _d, fs in os.walk(sys.argv[1]):\n    for n in fs:\n"
            "        if n.endswith('.py'):\n            p.parse(open(os.path.join(r, n), 'rb').read())\n")


def run(cmd: list[str], pythonpath: str, cache: Path) -> tuple[float, float]:
    shutil.rmtree(cache, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": pythonpath, "XDG_CACHE_HOME": str(cache)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round(wall, 2), round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree")
    parser.add_argument("old")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = {"before": f"{args.old}/server{os.pathsep}{args.old}/sandbox",
             "after": f"{REPO}/server{os.pathsep}{REPO}/sandbox"}
    load_start = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="codeloop-cold-compare-"))
    out: dict[str, list[tuple[float, float]]] = {"base": [], "before": [], "after": []}
    for _ in range(args.rounds):
        out["base"].append(run([sys.executable, "-c", BASELINE, args.tree], paths["after"], work / "base"))
        for label in ("before", "after"):
            out[label].append(run([sys.executable, "-m", "codeloop", "index", args.tree, "--json"], paths[label],
                                  work / label))
    shutil.rmtree(work, ignore_errors=True)
    summary = {k: {"wall_median": statistics.median(w for w, _ in v), "cpu_median": statistics.median(c for _, c in v)}
               for k, v in out.items()}
    base = summary["base"]
    for label in ("before", "after"):  # against the parse-only baseline of the same run
        summary[label]["wall_ratio"] = round(summary[label]["wall_median"] / base["wall_median"], 2)
        summary[label]["cpu_ratio"] = round(summary[label]["cpu_median"] / base["cpu_median"], 2)
    print(json.dumps({"load_avg_start": load_start, "load_avg_end": os.getloadavg()[0], "runs": out,
                      "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
