"""Inline completion overhead: the server's cost on top of the model's latency.

Every iteration, in one run and against one fake OpenAI-compatible server that answers at
once (tests/support/fake_openai.py on 127.0.0.1):

1. an incremental edit of a line above the cursor (a new prefix: the next request is a miss;
   the old bench edited line 0, outside the 200-line prefix of the 10k-line file, so its
   "misses" there were cache hits);
2. (b) ``textDocument/inlineCompletion`` from pytest-lsp's client over stdio to the real
   ``codeloop serve`` (Invoked trigger: no debounce), timed at the client: a **miss**;
3. (a) the **baseline**: the exact request body the server just sent to the fake model
   (taken from the fake's record), replayed with the `openai` SDK through one long-lived
   client, timed the same way;
4. the same inlineCompletion again: a cache **hit** (no model call).

overhead = miss - baseline, paired per iteration (p50/p95 of the differences). The server
also reports its handler's own time per request (``codeloop.inlineCompletionStats``: the
model call and the debounce excluded), which leaves out the stdio transport and JSON-RPC.

The fake server's connections have TCP_NODELAY (tests/support/fake_openai.py): it writes headers
and body in two sends, and with Nagle on, a client in delayed-ACK mode stalls ~40 ms on
whichever connection is in that state (the old baseline paid it, the server's client did not).

With ``--before REV`` every product row is measured twice in the same run, interleaved
per iteration (the order alternating): the server as it is, and the server of git
revision REV (its ``server/`` tree extracted to a temporary directory, put first on
PYTHONPATH); each gets its own workspace and document, the same edits and the same fake.

The last row runs ``serve_before.py``: the server before stdin moved to the event loop
(pygls's threaded stdin reader, ``sleep(0)`` between diagnostics chunks), in the same run.

When the request is sent after the edit (``when``):

* ``right after the edit``: as an editor does (didChange, then inlineCompletion at once);
* ``after diagnostics``: once the edit's diagnostics pass has ended (0.5 s, 10k lines: 1.2 s);
* ``during diagnostics``: 0.22 s after the edit, when the debounced (0.2 s) diagnostics
  pass of the edit is running on the event loop (the worst case).

Writes results.md and results.json next to this file.
Run: .venv/bin/python bench/inline/bench_inline.py [--n 200] [--before REV]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import openai  # noqa: E402
import pytest_lsp  # noqa: E402
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig  # noqa: E402

from codeloop.workspace.document import path_to_uri  # noqa: E402
from support import fake_openai  # noqa: E402

WHEN = ("right after the edit", "after diagnostics", "during diagnostics")
# "after diagnostics": seconds until the edit's diagnostics pass has certainly ended (the
# server publishes nothing when they did not change, so there is no event to wait for)
SETTLE = {False: 0.5, True: 1.2}
WARMUP = 10


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 3), "p95_ms": round(pct(ms, 95), 3),
            "mean_ms": round(statistics.fmean(ms), 3)}


def document(rev: int, filler_lines: int) -> str:
    filler = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(filler_lines // 3))
    # the edited line sits inside the prefix the server sends (200 lines): every edit is a miss
    return f"import math\n\n{filler}# rev {rev}\n\n\ndef area(r):\n    \n\nprint(area(2))\n"


SERVE = ["serve", "--no-log-file"]
SERVERS = {
    "product": [sys.executable, "-m", "codeloop", *SERVE],
    # the server before stdin moved to the event loop, for a same-run comparison
    "before": [sys.executable, str(HERE / "serve_before.py"), *SERVE],
}
DURING = ("during diagnostics",)
# (name, filler lines, server, modes)
FILES = (("small_file", 0, "product", WHEN), ("10k_lines", 10_000, "product", WHEN),
         ("10k_lines, before (pygls's stdin thread, sleep(0) between chunks)", 10_000, "before", DURING))


# label -> a source tree put first on PYTHONPATH (``--before REV``: that revision's server/)
SOURCES: dict[str, str] = {}


async def start(fake, root: Path, server: str, source: str | None = None):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "CODELOOP_MODEL", "OPENAI_API_KEY")}
    env.update({"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "sk-test", "CODELOOP_MODEL": "fake",
                "XDG_CACHE_HOME": str(root.parent / "cache")})
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    config = ClientServerConfig(server_command=SERVERS[server], server_env=env)
    client = await config.start()

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params):
        return None

    root.mkdir(parents=True, exist_ok=True)
    await client.initialize_session(types.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"), root_uri=path_to_uri(root)))
    return client, root


async def measure(fake, raw: openai.OpenAI, root: Path, filler: int, n: int, server: str,
                  modes: tuple[str, ...] = WHEN, labels: tuple[str, ...] = ("",)) -> dict:
    """One file size: a server per label (label "" is ``server`` as installed, any other a
    source tree of SOURCES), each in its own workspace under ``root``; every ``when`` mode,
    n timed iterations each, the servers taking turns within an iteration (order alternating).
    Returns the results of label "" at the top level and the others under ``before``."""
    sessions = []
    for k, label in enumerate(labels):
        client, ws = await start(fake, root / f"s{k}", server, SOURCES.get(label))
        uri = path_to_uri(ws / "geo.py")
        text = document(0, filler)
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
        sessions.append({"label": label, "client": client, "uri": uri, "version": 1, "rev": 0, "out": {}})
    lines = document(0, filler).split("\n")
    line = lines.index("def area(r):") + 1
    edited = lines.index("# rev 0")
    for when in modes:
        samples = {id(x): ([], [], [], []) for x in sessions}  # misses, hits, baselines, paired
        for i in range(n + WARMUP):
            order = sessions if i % 2 == 0 else sessions[::-1]
            for x in order:
                client, uri = x["client"], x["uri"]
                params = types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=4),
                    context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked))
                x["version"] += 1
                old = f"# rev {x['rev']}"
                x["rev"] = rev = x["rev"] + 1
                client.text_document_did_change(types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=x["version"]),
                    content_changes=[types.TextDocumentContentChangePartial(
                        range=types.Range(start=types.Position(line=edited, character=0),
                                          end=types.Position(line=edited, character=len(old))),
                        text=f"# rev {rev}")]))
                if when == "after diagnostics":
                    await asyncio.sleep(SETTLE[filler > 0])
                elif when == "during diagnostics":
                    await asyncio.sleep(0.22)
                t = time.perf_counter()
                result = await client.text_document_inline_completion_async(params)
                miss = (time.perf_counter() - t) * 1000
                body = dict(fake.requests_to("/v1/completions")[-1].body)
                assert f"# rev {rev}\n" in body["prompt"], "the replayed request is not this miss's"
                t = time.perf_counter()
                raw.completions.create(**body)
                baseline = (time.perf_counter() - t) * 1000
                t = time.perf_counter()
                again = await client.text_document_inline_completion_async(params)
                hit = (time.perf_counter() - t) * 1000
                assert result and again, "no completion came back"
                if i >= WARMUP:
                    misses, hits, base, paired = samples[id(x)]
                    misses.append(miss)
                    hits.append(hit)
                    base.append(baseline)
                    paired.append(miss - baseline)
        for x in sessions:
            misses, hits, base, paired = samples[id(x)]
            x["out"][when] = {"lsp_miss": summary(misses), "lsp_hit": summary(hits), "baseline_sdk": summary(base),
                              "overhead_paired": summary(paired)}
    for x in sessions:
        client, out = x["client"], x["out"]
        stats = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="codeloop.inlineCompletionStats", arguments=[]))
        handler = stats["handlerMs"]
        out["server_handler"] = {kind: summary([ms for k, ms in handler if k == kind]) for kind in ("miss", "hit")}
        out["model_calls"], out["cache_hits"] = stats["modelCalls"], stats["cacheHits"]
        await client.shutdown_session()
        await client.stop()
    first = sessions[0]["out"]
    if len(sessions) > 1:
        first["before"] = {x["label"]: x["out"] for x in sessions[1:]}
    return first


def load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def report(results: dict) -> str:
    rows = []
    handler = []
    before = results.get("before_rev")
    for name, _filler, _server, modes in FILES:
        r = results[name]
        runs = [(name, r)] + [(f"{name}, before ({before})", b) for b in r.get("before", {}).values()]
        for when in modes:
            for label, x in runs:
                m = x[when]
                rows.append(f"| {label} | {when} | {m['baseline_sdk']['p50_ms']} / {m['baseline_sdk']['p95_ms']} | "
                            f"{m['lsp_miss']['p50_ms']} / {m['lsp_miss']['p95_ms']} | "
                            f"**{m['overhead_paired']['p50_ms']} / {m['overhead_paired']['p95_ms']}** | "
                            f"{m['lsp_hit']['p50_ms']} / {m['lsp_hit']['p95_ms']} |")
        for label, x in runs:
            h = x["server_handler"]
            handler.append(f"| {label} | {h['miss']['p50_ms']} / {h['miss']['p95_ms']} (n={h['miss']['n']}) | "
                           f"{h['hit']['p50_ms']} / {h['hit']['p95_ms']} (n={h['hit']['n']}) |")
    interleaved = ([f"Rows \"before ({before})\": the server of revision {before}, measured in the same run,",
                    "interleaved per iteration with the row above it (order alternating)."] if before else [])
    return "\n".join([
        "# Inline completion: server overhead on top of the model", "",
        "Produced by `bench/inline/bench_inline.py` (see its docstring for the method): fake OpenAI",
        "server answering at once on 127.0.0.1 (TCP_NODELAY), Invoked trigger (no debounce), pytest-lsp",
        "client over stdio. Per iteration: edit a line above the cursor, LSP request (miss), the same request body replayed",
        "with the `openai` SDK on a long-lived client (baseline), LSP request again (hit).",
        f"Python {results['python']}, {results['machine']}, {results['cpus']} CPUs shared with other",
        f"sessions; load average before / after: {results['load_before']} -> {results['load_after']}.",
        f"n = {results['n']} per row (10k-line file: {results['n_10k']}), after {WARMUP} warm-up iterations.",
        *interleaved, "",
        "p50 / p95 in ms:", "",
        "| file | request sent | baseline (SDK) | LSP miss | overhead (miss − baseline, paired) | LSP hit |",
        "|---|---|---|---|---|---|", *rows, "",
        "Inside the server (`codeloop.inlineCompletionStats`: the handler's own time, model call",
        "excluded; no stdio/JSON-RPC), all modes together, p50 / p95 ms:", "",
        "| file | miss | hit |", "|---|---|---|", *handler, "",
        "Target: overhead p95 <= 5 ms.", ""])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--n-10k", type=int, default=50)
    ap.add_argument("--before", metavar="REV", help="also measure the server of this git revision, interleaved")
    args = ap.parse_args()
    results: dict = {"python": platform.python_version(), "machine": platform.machine(),
                     "cpus": os.cpu_count(), "n": args.n, "n_10k": args.n_10k, "load_before": load()}
    with fake_openai.FakeOpenAI(default_text="return math.pi * r ** 2\n") as fake, \
            tempfile.TemporaryDirectory() as tmp:
        labels: tuple[str, ...] = ("",)
        if args.before:
            rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.before],
                                 check=True, capture_output=True, text=True).stdout.strip()
            tree = Path(tmp) / "before-src"
            tree.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "server"], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
            SOURCES[rev] = str(tree / "server")
            results["before_rev"] = rev
            labels = ("", rev)
        raw = openai.OpenAI(api_key="sk-test", base_url=fake.base_url, max_retries=0)
        for i, (name, filler, server, modes) in enumerate(FILES):
            n = args.n if not filler else args.n_10k
            results[name] = asyncio.run(measure(fake, raw, Path(tmp) / f"ws{i}", filler, n, server, modes,
                                                labels if server == "product" else ("",)))
        raw.close()
    results["load_after"] = load()
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    md = report(results)
    notes = HERE / "notes.md"
    (HERE / "results.md").write_text(md + ("\n" + notes.read_text() if notes.exists() else ""))
    print(md)


if __name__ == "__main__":
    main()
