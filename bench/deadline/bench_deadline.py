"""Benchmark: `codeloop implement` against an endpoint that accepts the connection and never
answers (issue 16, item 3). Goal: exit 1 with one clear line within model.timeout + 5 s.

The fake OpenAI server (tests/support/fake_openai.py) hangs every connection right after
the accept; `codeloop implement` runs as a subprocess with the default model settings
(timeout 60 s, 2 retries) unless ``--timeout`` is given. With ``--baseline-tree DIR`` (a
checkout of an earlier commit: ``git archive REV server sandbox | tar -x -C DIR``) the
same command from that tree runs too, in the same session. Writes results.json and
results.md next to this file.

    PYTHONPATH=server:sandbox .venv/bin/python bench/deadline/bench_deadline.py [--timeout S] [--baseline-tree DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))

from support.fake_openai import FakeOpenAI  # noqa: E402

STUB = 'def double(x: int) -> int:\n    """Twice x.\n\n    >>> double(2)\n    4\n    """\n    ...\n'


def run_once(tree: str, fake: FakeOpenAI, timeout: float | None, guard: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="codeloop-bench-deadline-") as tmp:
        project = os.path.join(tmp, "proj")
        os.mkdir(project)
        settings = "" if timeout is None else f"[tool.codeloop.model]\ntimeout = {timeout:g}\n"
        with open(os.path.join(project, "pyproject.toml"), "w") as fh:
            fh.write(settings)
        with open(os.path.join(project, "calc.py"), "w") as fh:
            fh.write(STUB)
        env = {k: v for k, v in os.environ.items() if k not in ("CODELOOP_MODEL", "OPENAI_BASE_URL")}
        env.update(PYTHONPATH=os.pathsep.join([os.path.join(tree, "server"), os.path.join(tree, "sandbox")]),
                   XDG_DATA_HOME=os.path.join(tmp, "data"), XDG_CACHE_HOME=os.path.join(tmp, "cache"),
                   OPENAI_API_KEY="sk-bench-deadline-0123456789abcdef")
        fake.hang_connections(1000)
        connections = fake.connections
        t0 = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, "-m", "codeloop", "implement", "calc.py:1", "--base-url",
                                   fake.base_url, "--model", "fake-model", "--no-learn"], cwd=project, env=env,
                                  capture_output=True, text=True, timeout=guard)
            code, err = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired as exc:
            code, err = None, (exc.stderr or b"").decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        elapsed = time.monotonic() - t0
        lines = err.strip().splitlines()
        return {"exit_code": code, "seconds": round(elapsed, 1), "stderr_lines": len(lines),
                "last_line": lines[-1] if lines else "", "connections": fake.connections - connections,
                "killed_at_guard": code is None}


def render(r: dict) -> str:
    t = r["model_timeout"]
    out = ["# `codeloop implement` against a silent endpoint (bench/deadline/bench_deadline.py)", "",
           f"Measured {r['when']}, load average {r['loadavg']}; model.timeout = {t:g} s"
           f"{' (the default)' if r['default_settings'] else ''}, model.max_retries = 2 (the default). "
           f"Goal: exit 1 with one clear line within {t + 5:g} s.", "",
           "| tree | exit code | seconds | stderr lines | connections | last stderr line |", "|---|---|---|---|---|---|"]
    for name, x in r["runs"].items():
        out.append(f"| {name} | {x['exit_code'] if not x['killed_at_guard'] else 'killed at the guard'} | "
                   f"{x['seconds']} | {x['stderr_lines']} | {x['connections']} | `{x['last_line']}` |")
    out += ["", "`connections`: how many the fake server accepted (each attempt opens one: a hung "
            "connection is not reused).", ""]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, help="model.timeout for the run (default: the setting's default, 60)")
    ap.add_argument("--baseline-tree", help="a checkout of an earlier commit to run the same way")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    timeout = args.timeout if args.timeout is not None else 60.0
    guard = timeout * 3 + 120
    results = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "model_timeout": timeout,
               "default_settings": args.timeout is None, "runs": {}}
    with FakeOpenAI() as fake:
        results["runs"]["this tree"] = run_once(REPO, fake, args.timeout, guard)
        if args.baseline_tree:
            results["runs"]["baseline tree"] = run_once(args.baseline_tree, fake, args.timeout, guard)
    results["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(results, indent=2))
    if not args.no_write:
        with open(os.path.join(HERE, "results.json"), "w") as fh:
            json.dump(results, fh, indent=2)
            fh.write("\n")
        with open(os.path.join(HERE, "results.md"), "w") as fh:
            fh.write(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
