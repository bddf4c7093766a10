"""The cold index's work counted in instructions (valgrind), against the parse-only process.

Usage: python bench/index/cold_instructions.py [--share 4] [--checkout DIR] [--out FILE]

Wall and CPU times on this shared machine move by 10-50 % between runs, so a change of a few
per cent in the build's work cannot be seen in them; instruction counts can (they repeat to
~0.1 %). The tree is every ``share``-th file of bench_index's tree (valgrind runs ~50x
slower). Each process is counted on its own: callgrind dumps before every fork (a forked
child starts with its parent's counters). Bytecode is cached first (a run that compiles its
modules from source counts ~250 M instructions more). What instructions do not show: time
spent waiting, and that two busy cores pay more per instruction than one (the CPU-time
ratio of bench_index is ~3.0x where this one says ~2.4x).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_index import BASELINE, build_tree

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def counted(cmd: list[str], env: dict[str, str], out_dir: Path) -> dict[str, int]:
    """Instructions of each process of ``cmd`` (pid, dump part -> instructions)."""
    out_dir.mkdir(parents=True)
    subprocess.run(["valgrind", "--tool=callgrind", "--dump-before=_Fork",
                    f"--callgrind-out-file={out_dir}/cg.%p", *cmd],
                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    parts = {}
    for f in sorted(out_dir.iterdir()):
        m = re.search(r"^summary: (\d+)", f.read_text(errors="replace"), re.MULTILINE)
        parts[f.name] = int(m.group(1)) if m else 0
    return parts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--share", type=int, default=4, help="every N-th file of the bench tree")
    parser.add_argument("--checkout", default=str(ROOT), help="a folder with server/ and sandbox/")
    parser.add_argument("--out", default=str(HERE / "results_instructions.json"))
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("cold_instructions: valgrind is not installed")
    work = Path(tempfile.mkdtemp(prefix="codeloop-instr-"))
    try:
        full, tree = work / "full", work / "tree"
        build_tree(full, 2000)
        for i, path in enumerate(sorted(full.rglob("*.py"))):
            if i % args.share == 0:
                target = tree / path.relative_to(full)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPYCACHEPREFIX=str(work / "pycache"),
                   PYTHONPATH=os.pathsep.join(str(Path(args.checkout) / d) for d in ("server", "sandbox")))
        index = [sys.executable, "-m", "codeloop", "index", str(tree), "--json"]
        subprocess.run(index, env={**env, "XDG_CACHE_HOME": str(work / "warm")}, check=True,
                       stdout=subprocess.DEVNULL)  # bytecode cached, as installed
        listing = work / "files.txt"  # what the baseline reads and parses
        listing.write_text("\n".join(str(p) for p in sorted(tree.rglob("*.py"))) + "\n")
        base = counted([sys.executable, "-c", BASELINE, str(listing)], env, work / "base")
        build = counted(index, {**env, "XDG_CACHE_HOME": str(work / "cold")}, work / "build")
        base_total, build_total = sum(base.values()), sum(build.values())
        result = {"files": sum(1 for _ in tree.rglob("*.py")), "share": args.share,
                  "parse_only": base_total, "cold_index": build_total,
                  "ratio": round(build_total / base_total, 3), "cold_index_parts": build}
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
