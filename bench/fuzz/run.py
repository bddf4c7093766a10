"""The larger protocol-fuzzing run (issue 16 item 8): several seeds, many more steps and
bigger messages than the bounded test (tests/server/test_protocol_fuzz.py), against a real
`codeloop serve` over stdio. Writes results.json and results.md next to this file.

    PYTHONPATH=server:sandbox .venv/bin/python bench/fuzz/run.py [--seeds 1 2 3] [--steps 20000] [--big-mib 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "tests"))

from support.lsp_fuzz import Fuzzer, start  # noqa: E402


def one(seed: int, steps: int, big_mib: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        root = tmp_path / "ws"
        root.mkdir()
        (root / "pyproject.toml").write_text("[project]\nname = 'fuzz'\n")
        server = start(root, tmp_path, {"PYTHONFAULTHANDLER": "1"})
        t0 = time.monotonic()
        error = None
        try:
            stats = Fuzzer(server, root, seed, big_mib=big_mib).run(steps, check_every=100)
        except AssertionError as exc:
            error, stats = str(exc)[:500], None
        seconds = time.monotonic() - t0
        alive = server.proc.poll() is None
        sent_bytes = server.bytes_sent
        code = server.close() if alive else server.proc.returncode
        stderr = (tmp_path / "stderr.txt").read_text(errors="replace")
    return {"seed": seed, "steps": steps, "seconds": round(seconds, 1), "alive": alive, "exit": code,
            "error": error, "messages": dict(stats.sent) if stats else None,
            "requests_answered": stats.requests if stats else None, "state_checks": stats.checks if stats else None,
            "refused_edits": stats.refused_edits if stats else None, "mib_sent": round(sent_bytes / (1 << 20), 1),
            "stderr_lines": len(stderr.splitlines()), "tracebacks": stderr.count("Traceback"),
            "crashed": "Fatal Python error" in stderr}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--big-mib", type=float, default=1.0)
    args = parser.parse_args()
    runs = []
    for seed in args.seeds:
        runs.append(one(seed, args.steps, args.big_mib))
        print(json.dumps(runs[-1]), flush=True)
    result = {"machine": f"{platform.machine()} {platform.python_version()}", "big_mib": args.big_mib, "runs": runs,
              "all_ok": all(r["alive"] and r["exit"] == 0 and not r["error"] and not r["crashed"] for r in runs)}
    (HERE / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = ["# Protocol fuzzing: larger run", "",
             f"`bench/fuzz/run.py --steps {args.steps} --big-mib {args.big_mib}` on {result['machine']}; "
             "each run is one `codeloop serve` process.", "",
             "| seed | steps | seconds | MiB sent | requests answered | state checks | refused edits | "
             "stderr lines | tracebacks | survived, in sync |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        ok = r["alive"] and r["exit"] == 0 and not r["error"] and not r["crashed"]
        lines.append(f"| {r['seed']} | {r['steps']} | {r['seconds']} | {r['mib_sent']} | {r['requests_answered']} | "
                     f"{r['state_checks']} | {r['refused_edits']} | {r['stderr_lines']} | {r['tracebacks']} | "
                     f"{'yes' if ok else 'NO: ' + str(r['error'] or r['exit'])} |")
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    sys.exit(0 if result["all_ok"] else 1)


if __name__ == "__main__":
    main()
