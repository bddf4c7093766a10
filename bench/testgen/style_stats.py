#!/usr/bin/env python3
"""How generated suites read: test functions, parametrized tables, pytest.approx, match= texts.

    style_stats.py RUNS_DIR [--tool codeloop] [--seed 1] [--markdown]

RUNS_DIR is a harness run folder (``$TESTGEN_WORK/runs``); every ``<tool>/<module>/seed<N>/tests``
below it is read with ``ast`` (nothing runs). Per module: test functions, how many are
``pytest.mark.parametrize`` tests and their cases, functions using ``pytest.approx``,
``pytest.raises`` with and without ``match=``, and asserted literals holding a float compared
with ``==`` instead of ``pytest.approx`` (the issue-15 rule says none).
"""
from __future__ import annotations

import argparse
import ast
from pathlib import Path

COLS = ("functions", "parametrized", "cases", "approx", "raises", "raises_match", "exact_float")


def _is_param(dec: ast.AST) -> bool:
    return isinstance(dec, ast.Call) and ast.unparse(dec.func).endswith("mark.parametrize")


def _has_float(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, float) for n in ast.walk(node))


def _literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _exact_float(fn: ast.FunctionDef) -> int:
    """``assert result == <literal holding a float>``: an asserted result compared exactly. A
    float given to the code (``query == 2.5`` to build an object, ``(d == 2.5) is False``) does
    not count."""
    n = 0
    for node in ast.walk(fn):
        test = node.test if isinstance(node, ast.Assert) else None
        if isinstance(test, ast.Compare) and any(isinstance(op, ast.Eq) for op in test.ops):
            n += sum(1 for side in test.comparators if _literal(side) and _has_float(side))
    return n


def stats(test_dir: Path) -> dict[str, int]:
    out = dict.fromkeys(COLS, 0)
    for f in sorted(test_dir.glob("test*.py")):
        for fn in ast.parse(f.read_text(encoding="utf-8")).body:
            if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith("test"):
                continue
            out["functions"] += 1
            params = [d for d in fn.decorator_list if _is_param(d)]
            if params:
                out["parametrized"] += 1
                table = params[0].args[1] if len(params[0].args) > 1 else None
                out["cases"] += len(table.elts) if isinstance(table, (ast.List, ast.Tuple)) else 0
            src = ast.unparse(fn)
            out["approx"] += "approx(" in src
            for node in ast.walk(fn):
                if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("pytest.raises"):
                    out["raises"] += 1
                    out["raises_match"] += any(k.arg == "match" for k in node.keywords)
            out["exact_float"] += _exact_float(fn)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs")
    ap.add_argument("--tool", default="codeloop")
    ap.add_argument("--seed", default="1")
    a = ap.parse_args()
    root = Path(a.runs) / a.tool
    total = dict.fromkeys(COLS, 0)
    print("| module | " + " | ".join(COLS) + " |")
    print("|---" * (len(COLS) + 1) + "|")
    for mod in sorted(p.name for p in root.iterdir() if p.is_dir()):
        d = root / mod / f"seed{a.seed}" / "tests"
        if not d.is_dir():
            continue
        s = stats(d)
        for k in COLS:
            total[k] += s[k]
        print(f"| {mod} | " + " | ".join(str(s[k]) for k in COLS) + " |")
    print("| **sum** | " + " | ".join(str(total[k]) for k in COLS) + " |")


if __name__ == "__main__":
    main()
