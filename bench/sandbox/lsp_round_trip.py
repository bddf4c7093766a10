"""`codeloop.runTests` through a real LSP client, beside the warm pool alone and bare pytest.

One workspace, one test file (five passing tests and one failing, so every run publishes
diagnostics); the modes are interleaved in each repetition:

* ``bare``: ``python -m pytest -q -p no:cacheprovider tests/test_six.py`` in a new process
  (the environment the sandbox gives, as in bench_sandbox.py);
* ``pool``: ``run_pytest(pool=WarmPool)`` in this process, no coverage (the pool alone);
* ``pool_coverage``: the same with branch coverage (what runTests asks for);
* ``lsp``: ``workspace/executeCommand codeloop.runTests {"file": ...}`` sent by the test
  suite's pytest-lsp client (tests/support/lsp_client) to ``codeloop serve``, timed from
  sending the request until the ``textDocument/publishDiagnostics`` of the test file with
  the run's diagnostics arrives (``lsp_answer``: until the command's answer arrives);
* ``lsp_baseline`` (with ``--baseline-tree DIR``): the same request to a second server run
  from an earlier checkout of the tree, in the same repetitions.

Goal (issue 16): lsp / bare <= 0.4, warm (after the first run).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import codeloop_sandbox as sb

ROOT = Path(__file__).resolve().parents[2]
FAILING = "\n\ndef test_fails():\n    assert sum([1, 2]) == 4\n"


def _stats(values: list[float]) -> dict:
    s = sorted(values)
    return {"median_ms": round(statistics.median(s), 1), "p90_ms": round(s[min(len(s) - 1, int(len(s) * 0.9))], 1),
            "min_ms": round(s[0], 1), "n": len(s)}


async def _measure(ws: str, rel: str, reps: int, baseline_tree: str | None) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from lsprotocol import types

    from codeloop.workspace.document import path_to_uri
    from support.lsp_client import command_params, initialize, plain, start_server, stop_server

    extra = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    py = sys.executable
    bare_env = {"PATH": os.path.dirname(py) + ":/usr/local/bin:/usr/bin:/bin", "HOME": os.path.expanduser("~"),
                "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", **extra}
    policy = sb.Policy(timeout=120, env=extra, allow_levels=("A", "B"))
    pool = sb.WarmPool(ws, policy, max_runs=10_000)
    cache = Path(ws).parent / (Path(ws).name + "-cache")
    uri = path_to_uri(Path(ws) / rel)
    params = command_params("codeloop.runTests", {"file": rel})

    async def server(env: dict) -> tuple:
        """A started server and its event 'the run's diagnostics were published'."""
        client = await start_server({**extra, "XDG_CACHE_HOME": str(cache), **env})
        published = asyncio.Event()
        features = client.protocol.fm.features
        record = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

        def on_publish(params: types.PublishDiagnosticsParams) -> None:
            record(params)
            if params.uri == uri and any(d.source == "codeloop-tests" for d in params.diagnostics):
                published.set()

        features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = on_publish
        await initialize(client, Path(ws))
        return client, published

    servers = {"lsp": await server({})}
    if baseline_tree:
        base = os.pathsep.join(os.path.join(baseline_tree, d) for d in ("server", "sandbox"))
        servers["lsp_baseline"] = await server({"PYTHONPATH": base})

    def bare() -> None:
        r = subprocess.run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", rel], cwd=ws, env=bare_env,
                           capture_output=True)
        assert r.returncode == 1, r.stdout[-500:]

    def pool_run(coverage: bool) -> None:
        r = sb.run_pytest(ws, ["-q", rel], policy, coverage=coverage, pool=pool)
        assert r.result.exit_code == 1 and len(r.tests) == 6, (r.result.stdout[-500:], r.result.stderr[-500:])

    async def lsp(name: str = "lsp") -> tuple[float, float]:
        client, published = servers[name]
        published.clear()
        t0 = time.perf_counter()
        answer = asyncio.ensure_future(client.workspace_execute_command_async(params))
        await asyncio.wait_for(published.wait(), 120)
        t_diag = time.perf_counter()
        result = plain(await asyncio.wait_for(answer, 120))
        t_answer = time.perf_counter()
        assert result["failed"] == 1 and result["passed"] == 5, result
        return (t_diag - t0) * 1000, (t_answer - t0) * 1000

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) * 1000

    try:
        t0 = time.perf_counter()
        await lsp()  # the server starts its warm pool on the first run
        first_lsp = (time.perf_counter() - t0) * 1000
        for name in servers:
            await lsp(name)
        pool._wait_ready()
        for _ in range(2):  # warm-up
            bare(), pool_run(False), pool_run(True)
            for name in servers:
                await lsp(name)
        modes = ("bare", "pool", "pool_coverage", "lsp", "lsp_answer", *(["lsp_baseline"] if baseline_tree else []))
        times: dict[str, list[float]] = {m: [] for m in modes}
        for _ in range(reps):
            times["bare"].append(timed(bare))
            times["pool"].append(timed(lambda: pool_run(False)))
            times["pool_coverage"].append(timed(lambda: pool_run(True)))
            diag, ans = await lsp()
            times["lsp"].append(diag)
            times["lsp_answer"].append(ans)
            if baseline_tree:
                times["lsp_baseline"].append((await lsp("lsp_baseline"))[0])
    finally:
        pool.close()
        for client, _published in servers.values():
            await stop_server(client)
    out: dict = {m: _stats(v) for m, v in times.items()}
    b = out["bare"]["median_ms"]
    for m in modes[1:]:
        out[m]["over_bare"] = round(out[m]["median_ms"] / b, 3)
        # each repetition against its own bare run: steadier when the machine's load drifts
        out[m]["paired_over_bare"] = round(statistics.median(
            x / y for x, y in zip(times[m], times["bare"], strict=True)), 3)
    out["first_lsp_run_ms"] = round(first_lsp, 1)
    out["lsp_minus_pool_coverage_ms"] = round(out["lsp"]["median_ms"] - out["pool_coverage"]["median_ms"], 1)
    return out


def bench_lsp_round_trip(ws: str, tests_text: str, reps: int, baseline_tree: str | None = None) -> dict:
    """Add tests/test_six.py (``tests_text`` plus a failing test) to ``ws`` and measure."""
    rel = "tests/test_six.py"
    with open(os.path.join(ws, rel), "w") as fh:
        fh.write(tests_text + FAILING)
    try:
        out = asyncio.run(_measure(ws, rel, reps, baseline_tree))
    finally:
        os.unlink(os.path.join(ws, rel))
        shutil.rmtree(ws.rstrip("/") + "-cache", ignore_errors=True)
    out["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    return out


def render(r: dict | None) -> list[str]:
    if not r:
        return []
    rows = (("bare `python -m pytest -q tests/test_six.py`", "bare"),
            ("warm pool alone, no coverage", "pool"),
            ("warm pool alone, branch coverage", "pool_coverage"),
            ("`codeloop.runTests` via LSP: request -> publishDiagnostics", "lsp"),
            ("`codeloop.runTests` via LSP: request -> answer", "lsp_answer"),
            ("the same request to the baseline tree's server -> publishDiagnostics", "lsp_baseline"))
    lines = [f"## runTests end to end through a real LSP client (measured {r['when']}, load average {r['loadavg']})",
             "", "One test file (five passing tests, one failing), modes interleaved in each repetition; the LSP",
             "rows are `codeloop serve` driven by the test suite's pytest-lsp client (bench/sandbox/lsp_round_trip.py).",
             "", "| what | median ms | p90 ms | min ms | n | median / bare | paired / bare |", "|---|---|---|---|---|---|---|"]
    for label, key in rows:
        if key not in r:
            continue
        x = r[key]
        ratio = f"{x['over_bare']:.2f}" if "over_bare" in x else ""
        paired = f"{x['paired_over_bare']:.2f}" if "paired_over_bare" in x else ""
        lines.append(f"| {label} | {x['median_ms']} | {x['p90_ms']} | {x['min_ms']} | {x['n']} | {ratio} | {paired} |")
    lines += ["", f"- runTests (to publishDiagnostics) / bare = **{r['lsp']['over_bare']}** (paired "
              f"{r['lsp']['paired_over_bare']}; target <= 0.4); the LSP path adds "
              f"{r['lsp_minus_pool_coverage_ms']} ms to the pool's coverage run",
              f"- the first runTests of the session (starts the server's warm pool): {r['first_lsp_run_ms']} ms", ""]
    if r.get("notes"):
        lines += [*r["notes"], ""]
    return lines
