"""Where the CPU of `codeloop sandbox run` goes: the bare interpreter, the imports, the run.

    .venv/bin/python bench/sandbox/cli_cpu.py [--reps 15] [--baseline-tree DIR]

For this tree (and a baseline checkout, interleaved in the same run) it times, as user +
system CPU of the child (``RUSAGE_CHILDREN``, steadier than wall time on a shared machine):
``python -c pass``; ``import codeloop.cli, codeloop.cli.sandbox, codeloop_sandbox``; and
``codeloop sandbox run -- true`` in an empty workspace (the CLI and bwrap's outer process:
what is sandboxed is reaped inside the sandbox's pid namespace and not counted).
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STEPS = {
    "python -c pass": ["-c", "pass"],
    "imports": ["-c", "import codeloop.cli, codeloop.cli.sandbox, codeloop_sandbox"],
    "sandbox run -- true": ["-m", "codeloop", "sandbox", "run", "--", "true"],
}


def child_cpu_ms() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--baseline-tree", help="a checkout of an earlier commit, measured in the same run")
    args = ap.parse_args()
    trees = {"this tree": REPO}
    if args.baseline_tree:
        trees["baseline tree"] = Path(args.baseline_tree).resolve()
    for tree in trees.values():
        for sub in ("server", "sandbox"):
            compileall.compile_dir(str(tree / sub), quiet=1)
    cache = tempfile.mkdtemp(prefix="codeloop-cli-cpu-cache-")
    workspace = tempfile.mkdtemp(prefix="codeloop-cli-cpu-ws-")
    samples: dict[tuple[str, str], list[float]] = {(t, s): [] for t in trees for s in STEPS}
    for _ in range(args.reps):
        for name, tree in trees.items():
            env = {**os.environ, "XDG_CACHE_HOME": cache,
                   "PYTHONPATH": os.pathsep.join(str(tree / d) for d in ("server", "sandbox"))}
            for step, argv in STEPS.items():
                before = child_cpu_ms()
                subprocess.run([sys.executable, *argv], cwd=workspace, env=env, capture_output=True, check=True)
                samples[(name, step)].append(child_cpu_ms() - before)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"CPU ms, median / min of {args.reps} (load average after: {load})\n")
    print("| step | " + " | ".join(trees) + " |")
    print("|---|" + "---|" * len(trees))
    for step in STEPS:
        cells = [f"{statistics.median(samples[(t, step)]):.1f} / {min(samples[(t, step)]):.1f}" for t in trees]
        print(f"| {step} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
