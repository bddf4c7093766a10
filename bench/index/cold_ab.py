"""Same-run A/B of the cold `codeloop index` process: the parse-only baseline and several
versions (or settings) alternated round by round, wall, user and system seconds of each.

Usage: python bench/index/cold_ab.py TREE ROUNDS LABEL=CHECKOUT[,ENV=VALUE...] ...
(CHECKOUT: a folder with `server/` and `sandbox/`, e.g. from
`git archive <commit> server sandbox | tar -x -C DIR`; the first one is the reference).

Besides the ratios to the baseline it prints, per version, ``wall - cpu/2``: the part of the
wall that two busy cores do not explain (the serial start and end, a core idle in a wait or
at the tail). On this shared machine the CPU speed drifts by up to 1.6x within minutes, so
wall and CPU move together from run to run; their difference is much steadier.
"""

from __future__ import annotations

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

BASELINE = ("import sys, os\nfrom tree_sitter import Language, Parser\nimport tree_sitter_python\n"
            "p = Parser(Language(tree_sitter_python.language()))\n"
            "for r, _d, fs in os.walk(sys.argv[1]):\n    for n in fs:\n"
            "        if n.endswith('.py'):\n            p.parse(open(os.path.join(r, n), 'rb').read())\n")


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round(wall, 3), round(after.ru_utime - before.ru_utime, 3), round(after.ru_stime - before.ru_stime, 3)


def main() -> None:
    tree, rounds = sys.argv[1], int(sys.argv[2])
    configs = []
    for arg in sys.argv[3:]:
        label, _, rest = arg.partition("=")
        root, *extra = rest.split(",")
        configs.append((label, root, dict(e.split("=", 1) for e in extra)))
    work = Path(tempfile.mkdtemp(prefix="codeloop-cold-ab-"))
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base_env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")  # as installed: bytecode cached

    def env(label: str, root: str, extra: dict[str, str]) -> dict[str, str]:
        return {**base_env, "PYTHONPATH": f"{root}/server{os.pathsep}{root}/sandbox",
                "XDG_CACHE_HOME": str(work / label), **extra}

    for label, root, extra in configs:
        subprocess.run([sys.executable, "-m", "codeloop", "--help"], env=env(label, root, extra), capture_output=True)
    res: dict[str, list[tuple[float, float, float]]] = {"base": [], **{c[0]: [] for c in configs}}
    load_start = os.getloadavg()[0]
    for r in range(rounds):
        res["base"].append(run([sys.executable, "-c", BASELINE, tree], base_env))
        for label, root, extra in configs if r % 2 == 0 else configs[::-1]:
            shutil.rmtree(work / label, ignore_errors=True)
            res[label].append(run([sys.executable, "-m", "codeloop", "index", tree, "--json"], env(label, root, extra)))
        print(r, {k: v[-1] for k, v in res.items()}, file=sys.stderr, flush=True)
    shutil.rmtree(work, ignore_errors=True)
    base_wall = statistics.median(w for w, _, _ in res["base"])
    base_cpu = statistics.median(u + s for _, u, s in res["base"])
    ref = configs[0][0]
    summary = {}
    for label, runs in res.items():
        wall = statistics.median(w for w, _, _ in runs)
        cpu = statistics.median(u + s for _, u, s in runs)
        summary[label] = {"wall": wall, "wall_ratio": round(wall / base_wall, 3), "cpu": cpu,
                          "cpu_ratio": round(cpu / base_cpu, 3), "sys": statistics.median(s for _, _, s in runs),
                          "wall_minus_half_cpu": round(statistics.median(w - (u + s) / 2 for w, u, s in runs), 3)}
        if label not in ("base", ref):
            summary[label]["paired_wall_vs_" + ref] = round(statistics.median(
                a[0] / b[0] for a, b in zip(runs, res[ref], strict=True)), 3)
    print(json.dumps({"load_avg_start": load_start, "load_avg_end": os.getloadavg()[0], "runs": res,
                      "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
