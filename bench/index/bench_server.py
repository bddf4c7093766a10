"""The index inside the language server (issue 13's server-side goals), measured in one run.

`codeloop serve` starts on a tree of about 2,000 real Python files (bench_index.py's copy of
installed packages) with an empty index cache, so ``initialized`` starts the first full
index. Meanwhile, and again after it, a one-character edit plus a ``textDocument/codeAction``
is sent every 20 ms to a small open file; the latencies during and after the index are
compared. The server's resident memory (VmRSS, and VmHWM, its peak) is sampled from /proc
all along, with the worker processes that parse for it counted apart. After the index:
``workspace/symbol`` and ``textDocument/definition`` latency over LSP.

Usage: python bench/index/bench_server.py [--files 2000] [--out bench/index/results_server.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from bench_index import build_tree, env, pct  # noqa: E402

STUB = "def clamp(value, low, high):\n    total = 0\n    ...\n"


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {"n": len(values), "p50": round(statistics.median(values), 2), "p99": round(pct(values, 99), 2),
            "max": round(max(values), 2)}


def rss_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in kB (0 when it is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return (int(fields.get("VmRSS", "0 kB").split()[0]), int(fields.get("VmHWM", "0 kB").split()[0]))


def children_rss_kb(pid: int) -> int:
    """The resident memory of the process's descendants (the parsing workers)."""
    total = 0
    kids: list[str] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):  # every thread: the workers are the writer thread's
        try:
            kids += (task / "children").read_text().split()
        except OSError:
            continue
    for kid in kids:
        total += rss_kb(int(kid))[0] + children_rss_kb(int(kid))
    return total


def make_client(progress: dict[str, list[Any]]) -> LanguageClient:
    client = LanguageClient("codeloop-bench-index", "1")

    @client.feature(types.WORKSPACE_CONFIGURATION)
    def configuration(params: types.ConfigurationParams) -> list[None]:
        return [None for _ in params.items]

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: Any) -> None:
        return None

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def create(params: Any) -> None:
        return None

    @client.feature(types.PROGRESS)
    def on_progress(params: Any) -> None:
        progress.setdefault(str(params.token), []).append(params.value)

    for method in (types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, types.WINDOW_LOG_MESSAGE, types.WINDOW_SHOW_MESSAGE,
                   "codeloop/status"):
        client.feature(method)(lambda params: None)
    return client


def kind_of(value: Any) -> str:
    return value.get("kind", "") if isinstance(value, dict) else getattr(value, "kind", "")


def index_done(progress: dict[str, list[Any]]) -> bool:
    return any(t.startswith("codeloop-index-") and values and kind_of(values[-1]) == "end"
               for t, values in progress.items())


async def run(tree: Path, cache: Path) -> dict[str, Any]:
    progress: dict[str, list[Any]] = {}
    client = make_client(progress)
    environ = {**env(), "XDG_CACHE_HOME": str(cache)}
    await client.start_io(sys.executable, "-m", "codeloop", "serve", "--no-log-file", env=environ)
    pid = client._server.pid  # type: ignore[attr-defined]
    caps = types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True),
                                    workspace=types.WorkspaceClientCapabilities(configuration=True))
    root_uri = tree.as_uri()
    await client.initialize_async(types.InitializeParams(
        capabilities=caps, root_uri=root_uri, workspace_folders=[types.WorkspaceFolder(uri=root_uri, name="tree")]))
    started = time.perf_counter()
    client.initialized(types.InitializedParams())
    stub = tree / "bench_stub.py"
    stub.write_text(STUB)
    uri = stub.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=STUB)))
    version = 1
    memory: list[tuple[int, int, int]] = []

    async def code_action() -> float:
        nonlocal version
        version += 1
        insert = version % 2 == 0
        edit = types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=1, character=5),
                              end=types.Position(line=1, character=5 if insert else 6)),
            text="x" if insert else "")
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[edit]))
        start = time.perf_counter()
        await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
            context=types.CodeActionContext(diagnostics=[]))), 30)
        return (time.perf_counter() - start) * 1000

    for _ in range(3):  # warm-up: the first requests meet the file's first analysis
        await code_action()
    during: list[float] = []
    while not index_done(progress) and time.perf_counter() - started < 900:
        during.append(await code_action())
        memory.append((*rss_kb(pid), children_rss_kb(pid)))
        await asyncio.sleep(0.02)
    index_s = time.perf_counter() - started
    after: list[float] = []
    for _ in range(300):
        after.append(await code_action())
        await asyncio.sleep(0.02)
    memory.append((*rss_kb(pid), children_rss_kb(pid)))

    symbol_ms: list[float] = []
    by_query: dict[str, list[float]] = {}
    for query in ("parse", "Console", "canonical", "get_lex", "SpecSet", "url_pa", "Plugin", "safe_lo", "x", "run"):
        for _ in range(10):
            start = time.perf_counter()
            await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
            symbol_ms.append((time.perf_counter() - start) * 1000)
            by_query.setdefault(query, []).append(symbol_ms[-1])
    target = tree / "rich" / "console.py"
    target_uri = target.as_uri()
    lines = target.read_text().splitlines() if target.exists() else []  # a small --files tree has no rich
    calls = [(i, line.index("Segment(")) for i, line in enumerate(lines) if "Segment(" in line][:50]
    definition_ms: list[float] = []
    for line, col in calls:
        start = time.perf_counter()
        await client.text_document_definition_async(types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=target_uri),
            position=types.Position(line=line, character=col + 1)))
        definition_ms.append((time.perf_counter() - start) * 1000)
    end = [v for t, values in progress.items() if t.startswith("codeloop-index-") for v in values][-1]
    await asyncio.wait_for(client.shutdown_async(None), 30)
    client.exit(None)
    await asyncio.sleep(0.5)
    await client.stop()
    return {
        "first_index_s": round(index_s, 2),
        "index_progress_end": end.get("message") if isinstance(end, dict) else getattr(end, "message", None),
        "code_action_during_index_ms": summary(during),
        "code_action_after_index_ms": summary(after),
        "server_rss_mb": {"max_sampled": round(max(m[0] for m in memory) / 1024, 1),
                          "peak_hwm": round(max(m[1] for m in memory) / 1024, 1),
                          "after_index": round(memory[-1][0] / 1024, 1)},
        "parse_workers_rss_mb_max": round(max(m[2] for m in memory) / 1024, 1),
        "workspace_symbol_lsp_ms": summary(symbol_ms),
        "workspace_symbol_lsp_median_by_query_ms": {k: round(statistics.median(v), 2) for k, v in by_query.items()},
        "definition_lsp_ms": summary(definition_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--out", default=str(HERE / "results_server.json"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="codeloop-bench-index-server-"))
    tree = work / "tree"
    tree.mkdir()
    (tree / "pyproject.toml").write_text("[project]\nname = 'bench'\n")
    copied = build_tree(tree, args.files)
    results: dict[str, Any] = {"python_files_copied": copied, "cpus": len(os.sched_getaffinity(0)),
                               "load_avg_start": os.getloadavg()[0]}
    results.update(asyncio.run(run(tree, work / "cache")))
    results["load_avg_end"] = os.getloadavg()[0]
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
