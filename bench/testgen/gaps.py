#!/usr/bin/env python3
"""Which branches of a module a generated suite misses, with the source lines (for feedback).

    gaps.py MODULE TESTDIR [--python SUBJECTS_PY] [--context 0]

Runs the suite the way the harness's measure_tests.py does (coverage.py --branch over pytest,
importlib mode, plugin autoload off) in a scratch copy, then prints coverage.py's missing
branch arcs grouped by enclosing function, each as `line -> target: source`, and the tests
that failed.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.environ.get("TESTGEN_BENCH", "/work/shared/tools/testgen-bench"))
import measure_tests  # noqa: E402  (the shared harness)


def enclosing_functions(src: str) -> list[tuple[int, int, str]]:
    spans = []
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            spans.append((node.lineno, node.end_lineno or node.lineno, node.name))
    return spans


def owner(spans, line: int) -> str:
    best = None
    for a, b, name in spans:
        if a <= line <= b and (best is None or a >= best[0]):
            best = (a, name)
    return best[1] if best else "<module>"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("module")
    ap.add_argument("testdir")
    ap.add_argument("--python", default=os.path.join(os.environ.get("TESTGEN_WORK", "/tmp/testgen-bench"),
                                                     "subjects-venv/bin/python"))
    a = ap.parse_args()
    py = a.python
    src = measure_tests.module_file(py, a.module)
    lines = Path(src).read_text().splitlines()
    spans = enclosing_functions("\n".join(lines))
    with tempfile.TemporaryDirectory(prefix="gaps-") as tmp:
        work = Path(tmp) / "tests"
        shutil.copytree(a.testdir, work, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        data, js = Path(tmp) / ".coverage", Path(tmp) / "cov.json"
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        p = subprocess.run([py, "-m", "coverage", "run", "--branch", f"--include={src}", f"--data-file={data}",
                            "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider", "--import-mode=importlib",
                            f"--rootdir={work}", str(work)], cwd=work, env=env, capture_output=True, text=True)
        subprocess.run([py, "-m", "coverage", "json", f"--data-file={data}", "-o", str(js), f"--include={src}"],
                       cwd=work, capture_output=True, check=True)
        f = next(iter(json.loads(js.read_text())["files"].values()))
    print(f"# {a.module}: {f['summary']['covered_branches']}/{f['summary']['num_branches']} branches; "
          f"pytest: {(p.stdout.strip().splitlines() or [''])[-1]}")
    for line in p.stdout.splitlines():
        if line.startswith("FAILED"):
            print("  " + line)
    by: dict[str, list] = {}
    for frm, to in f.get("missing_branches", []):
        by.setdefault(owner(spans, frm), []).append((frm, to))
    for fn, arcs in by.items():
        print(f"{fn}:")
        for frm, to in arcs:
            target = "exit" if to < 0 else str(to)
            print(f"   {frm:>4} -> {target:<5} {lines[frm - 1].strip()[:90]}")


if __name__ == "__main__":
    main()
