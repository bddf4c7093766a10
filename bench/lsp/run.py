"""LSP benchmark: code-action latency on a 10,000-line file, codeloop vs jedi-language-server,
plus codeloop's in-process handler times and incremental vs full tree-sitter reparse.

Usage (from the repository root):

    .venv/bin/python bench/lsp/run.py [--iterations 300] [--jls PATH] [--no-jls] [--baseline-tree DIR]
        [--only codeloop|baseline|jls ...] [--skip-in-process] [--no-probe] [--out DIR]

``--baseline-tree`` (a checkout of an earlier commit, e.g. ``git archive REV | tar -x -C DIR``)
adds that tree's server, quiet and loaded, to the same run. ``--only`` and
``--skip-in-process`` make short runs for development (write them elsewhere with ``--out``).

The server's event loop per request (the table "The server's event loop per request"): the
client reads the server's main thread's CPU time and run-queue wait from
``/proc/<pid>/task/<pid>/schedstat`` around each request (steady numbers on a loaded machine,
where the wall-clock percentiles mostly measure the wait for a core), and every codeloop server
(the baseline tree too) runs with ``bench/lsp/probe`` on its path: a ``sitecustomize`` that
patches pygls to account, per request, the loop's CPU, run-queue wait, time idle in
``select``, the rest (waiting for the GIL or a blocking write), the other threads' CPU and the
garbage collections (``bench/lsp/probe/loop_probe.py``). ``CODELOOP_BENCH_PROFILE=FILE``
also profiles the loop thread (cProfile) over the measured iterations. A step that times out
dumps the server's stacks (py-spy, when installed) and the client reader's state to stderr.

Everything is measured in the same run so ratios compare like with like on whatever
machine runs it. jedi-language-server is the comparison baseline only: it is installed
into its own venv (``/tmp/codeloop-bench-jls``, created on first use) and never becomes a
codeloop dependency. Results go to ``bench/lsp/results.md`` and ``results.json``.

What one "iteration" is, for both servers: a one-character ``didChange`` (insert or
delete an ``x`` inside an identifier, alternating so the file stays the same size)
followed by a ``textDocument/codeAction`` request on the edited line; the latency is
the time from sending the request to receiving its answer, so it includes applying the
edit that preceded it. A second phase pauses 250 ms after each edit (longer than
codeloop's diagnostics debounce) so requests meet the background diagnostics work.

Each server is measured twice in the same run: quiet, and **loaded** (one busy-looping
process per CPU, started by this script, kept running through that server's phase; the
machine's other load comes on top of both). ``--loaded-runs K`` runs each codeloop server's
loaded phase K times (a new server and a new load each) and pools the samples: a loaded p99
moves by ~2 ms from one run to the next, and the table then shows each run's. codeloop
additionally answers an ``textDocument/inlineCompletion`` (Invoked, at the edited function's body: a cache miss,
so a model call to the fake OpenAI server of tests/support/fake_openai.py, which answers at
once) after each code action; its latency is measured at the client too.

Every step with a server (start, initialize, each request, shutdown, the process's exit) has
a timeout and fails with a message naming the server and the step; a failed baseline is
written into the results instead of hanging the run. The server's stderr is read all
along: pygls's client opens it as a pipe and never reads it, so a server that logs more
than the pipe holds blocks in write(2) and never exits. That was the stalled baseline
of 2026-11-25: jedi-language-server's debounced diagnostics (a 1 s timer thread) fire
after ``exit`` has closed its stdout, and pygls's error report of the failed write fails
the same way, recursively, writing ~9 MB of tracebacks to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import contextlib
import gc

from gen_file import generate  # noqa: E402

from codeloop.workspace.document import Document, path_to_uri  # noqa: E402
from codeloop.workspace.model import Span  # noqa: E402

sys.path.insert(0, str(HERE.parent.parent / "tests"))
from support import fake_openai  # noqa: E402, I001

JLS_VENV = Path(tempfile.gettempdir()) / "codeloop-bench-jls"
WARMUP = 20
# Timeouts (seconds) for each step with a server; a step that takes longer fails the
# server's phase with a StepTimeout naming the server and the step.
START_TIMEOUT = 30
INITIALIZE_TIMEOUT = 60
REQUEST_TIMEOUT = 60
SHUTDOWN_TIMEOUT = 30
EXIT_TIMEOUT = 15
INSTALL_TIMEOUT = 600
STDERR_TAIL = 4000  # characters of the server's stderr kept for error messages
LOADED = " (loaded)"  # suffix of a server's name in its loaded phase


class Load:
    """One busy-looping process per CPU while the ``with`` block runs (the "loaded" rows)."""

    def __init__(self, processes: int | None = None) -> None:
        self.count = processes or os.cpu_count() or 2
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> Load:
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.count)]
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.kill()
        for proc in self.procs:
            proc.wait()


# -- statistics ---------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p90": pct(values, 90),
        "p99": pct(values, 99),
        "max": max(values) if values else float("nan"),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


# -- the server's event loop, seen from outside and from the probe -------------------------

PROBE_DIR = HERE / "probe"  # sitecustomize + loop_probe, on a codeloop server's PYTHONPATH
PROBE_METHOD = "bench/loopProbe"


def loop_schedstat(pid: int | None) -> tuple[float, float] | None:
    """(ms on a CPU, ms runnable but waiting for one) of the server's main thread, which runs
    its event loop, from the kernel's accounting; None where /proc has no schedstat."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/task/{pid}/schedstat", "rb") as fh:
            run, wait, _ = fh.read().split()
    except (OSError, ValueError):
        return None
    return int(run) / 1e6, int(wait) / 1e6


def schedstat_delta(before: tuple[float, float] | None, after: tuple[float, float] | None) -> tuple[float, float]:
    if before is None or after is None:
        return float("nan"), float("nan")
    return after[0] - before[0], after[1] - before[1]


def loop_summary(values: list[tuple[float, float]]) -> dict[str, Any]:
    """The loop thread's CPU and run-queue wait per client-measured window."""
    return {"cpu_ms": summary([v[0] for v in values]), "runq_ms": summary([v[1] for v in values])}


PROBE_FIELDS = ("wall", "run", "runq", "idle", "gil", "others", "gc")


def probe_summary(answer: dict[str, Any]) -> dict[str, Any]:
    """Per request kind, a summary of each field of bench/lsp/probe/loop_probe.py's records;
    ``didChange+codeAction`` adds each code action's preceding didChange to it. ``gc``: the
    collections of the phase per generation (count, total and largest ms)."""
    records = answer.get("records") or []
    by_kind: dict[str, list[dict[str, float]]] = {}
    last_change: dict[str, float] | None = None
    for record in records:
        method = record["method"]
        by_kind.setdefault(method, []).append(record)
        if method == types.TEXT_DOCUMENT_DID_CHANGE:
            last_change = record
        elif method == types.TEXT_DOCUMENT_CODE_ACTION and last_change is not None:
            pair = {f: last_change[f] + record[f] for f in PROBE_FIELDS}
            by_kind.setdefault("didChange+codeAction", []).append(pair)
            last_change = None
    result: dict[str, Any] = {kind: {f: summary([r[f] for r in rows]) for f in PROBE_FIELDS}
                              | {"gc_total": sum(r["gc"] for r in rows)} for kind, rows in by_kind.items()}
    result["heap"] = answer.get("heap")  # objects the collector walks / frozen ones, at the phase's end
    result["gc"] = {str(gen): {"n": len(runs), "total": sum(r[0] for r in runs),
                               "max": max((r[0] for r in runs), default=0.0),
                               "max_cpu": max((r[1] for r in runs), default=0.0),
                               "on_loop": sum(1 for r in runs if r[2])}
                    for gen, runs in (answer.get("gc") or {}).items()}
    return result


# -- the edits ----------------------------------------------------------------------------


def edit_sites(text: str, count: int) -> list[tuple[int, int]]:
    """(line, column) positions inside identifiers (``total``), spread over the file."""
    sites = []
    for number, line in enumerate(text.split("\n")):
        column = line.find("total = 0")
        if column >= 0:
            sites.append((number, column + 3))
    step = max(1, len(sites) // max(count, 1))
    picked = sites[::step]
    while len(picked) < count:
        picked += picked
    return picked[:count]


def one_char_edit(site: tuple[int, int], insert: bool) -> tuple[Span, str]:
    line, col = site
    if insert:
        return Span(line, col, line, col), "x"
    return Span(line, col, line, col + 1), ""


def change_params(uri: str, version: int, site: tuple[int, int], insert: bool) -> types.DidChangeTextDocumentParams:
    """The didChange of :func:`one_char_edit`, as both the in-process and the LSP runs send it."""
    span, new_text = one_char_edit(site, insert)
    return types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[
            types.TextDocumentContentChangePartial(
                range=types.Range(
                    start=types.Position(line=span.start_line, character=span.start_col),
                    end=types.Position(line=span.end_line, character=span.end_col),
                ),
                text=new_text,
            )
        ],
    )


# -- in-process measurements --------------------------------------------------------------


def bench_reparse(text: str, sites: list[tuple[int, int]]) -> dict[str, Any]:
    """Document.apply_changes plus the (lazy) incremental parse it leads to, vs a full parse, per edit."""
    doc = Document("file:///bench/big.py", text, 1)
    inc_wall, inc_cpu, full_wall, full_cpu = [], [], [], []
    version = 1
    for index, site in enumerate(sites):
        for insert in (True, False):
            version += 1
            change = one_char_edit(site, insert)
            w, c = time.perf_counter(), time.thread_time()
            doc.apply_changes([change], version)
            doc.tree  # noqa: B018 - documents re-parse lazily: the first reader pays the parse
            c2, w2 = time.thread_time(), time.perf_counter()
            if index >= WARMUP // 2:
                inc_wall.append((w2 - w) * 1000)
                inc_cpu.append((c2 - c) * 1000)
        if index % 5 == 0:  # full parses are slow; sample them
            w, c = time.perf_counter(), time.thread_time()
            doc.reparse_full()
            c2, w2 = time.thread_time(), time.perf_counter()
            full_wall.append((w2 - w) * 1000)
            full_cpu.append((c2 - c) * 1000)
    return {
        "incremental_wall_ms": summary(inc_wall),
        "incremental_cpu_ms": summary(inc_cpu),
        "full_wall_ms": summary(full_wall),
        "full_cpu_ms": summary(full_cpu),
    }


async def bench_handlers(path: Path, text: str, sites: list[tuple[int, int]]) -> dict[str, Any]:
    """codeloop's didChange and codeAction handlers called in-process (no JSON-RPC)."""
    from codeloop.lsp.server import create_server

    server = create_server()
    if hasattr(server, "gc_policy"):
        server.gc_policy.enable()  # as `codeloop serve` does; undone below for the LSP phases
    features = server.protocol.fm.features
    # pygls normally builds its workspace at initialize; do the same without a client.
    from pygls.workspace import Workspace

    server.protocol._workspace = Workspace(path_to_uri(path.parent), types.TextDocumentSyncKind.Incremental)
    uri = path_to_uri(path)
    open_params = types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
    )
    server.protocol.workspace.put_text_document(open_params.text_document)
    features[types.TEXT_DOCUMENT_DID_OPEN](open_params)
    change_ms, action_ms, found = [], [], 0
    version = 1
    for index, site in enumerate(sites):
        for insert in (True, False):
            version += 1
            params = change_params(uri, version, site, insert)
            t0 = time.perf_counter()
            features[types.TEXT_DOCUMENT_DID_CHANGE](params)
            t1 = time.perf_counter()
            request = types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(
                    start=types.Position(line=site[0], character=0), end=types.Position(line=site[0], character=0)
                ),
                context=types.CodeActionContext(diagnostics=[]),
            )
            actions = features[types.TEXT_DOCUMENT_CODE_ACTION](request)
            t2 = time.perf_counter()
            if index >= WARMUP // 2:
                change_ms.append((t1 - t0) * 1000)
                action_ms.append((t2 - t1) * 1000)
                found += len(actions)
    gc.unfreeze()  # the bench process's collector as it was for the phases over LSP
    return {
        "did_change_ms": summary(change_ms),
        "code_action_ms": summary(action_ms),
        "actions_per_request": found / max(len(action_ms), 1),
    }


# -- over LSP -----------------------------------------------------------------------------


def make_client() -> LanguageClient:
    client = LanguageClient("codeloop-bench", "1")

    @client.feature(types.WORKSPACE_CONFIGURATION)
    def configuration(params: types.ConfigurationParams):
        return [None for _ in params.items]

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params):
        return None

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def progress(params):
        return None

    for method in (types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, types.WINDOW_LOG_MESSAGE, types.WINDOW_SHOW_MESSAGE):
        client.feature(method)(lambda params: None)
    client.feature("codeloop/status")(lambda params: None)
    client.feature(types.PROGRESS)(lambda params: None)
    return client


class StepTimeout(Exception):
    """A step with a server that got no answer in time."""


class ServerIO:
    """A server process started by a pygls client: its stderr drained, its steps timed out."""

    def __init__(self, name: str, client: LanguageClient):
        self.name = name
        self.client = client
        self.stderr_bytes = 0
        self._tail = b""
        self._drain: asyncio.Task | None = None

    @property
    def process(self) -> asyncio.subprocess.Process | None:
        return getattr(self.client, "_server", None)  # pygls keeps the process there

    async def start(self, command: list[str], env: dict[str, str] | None = None) -> None:
        # Its own process group, so that a kill also ends the processes it started (jedi's
        # inference subprocess, a shell's children) and none keeps the pipes open.
        await self.step(
            "start the process", self.client.start_io(*command, start_new_session=True,
                                                   env={**os.environ, **env} if env else None), START_TIMEOUT
        )
        process = self.process
        if process is not None and process.stderr is not None:
            self._drain = asyncio.create_task(self._read_stderr(process.stderr))

    async def _read_stderr(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            self.stderr_bytes += len(chunk)
            self._tail = (self._tail + chunk)[-STDERR_TAIL:]

    def stderr_tail(self) -> str:
        text = self._tail.decode("utf-8", "replace").strip()
        return text[-STDERR_TAIL:] if text else "(nothing)"

    async def step(self, label: str, awaitable: Any, timeout: float) -> Any:
        try:
            return await asyncio.wait_for(awaitable, timeout)
        except asyncio.TimeoutError:
            self.dump_stacks()
            raise StepTimeout(
                f"{self.name}: no answer to '{label}' within {timeout:g} s "
                f"(stderr so far {self.stderr_bytes} bytes, its end: {self.stderr_tail()[-600:]})"
            ) from None

    def dump_stacks(self) -> None:
        """The stuck server's threads (py-spy, when installed), and the kernel's view of them,
        to stderr: what a step that got no answer was waiting for."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        spy = Path(sys.executable).parent / "py-spy"
        if spy.exists():
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                out = subprocess.run([str(spy), "dump", "--pid", str(process.pid)], capture_output=True, text=True,
                                     timeout=30)
                print(f"{self.name}: py-spy dump of the server:\n{out.stdout}{out.stderr}", file=sys.stderr)
        out_stream = process.stdout
        if out_stream is not None:  # the client's side of the server's stdout (asyncio flow control)
            transport = getattr(out_stream, "_transport", None)
            print(f"{self.name}: client reader: {len(getattr(out_stream, '_buffer', b''))} bytes buffered, "
                  f"paused {getattr(out_stream, '_paused', '?')}, transport paused "
                  f"{getattr(transport, '_paused', '?')}, waiting {getattr(out_stream, '_waiter', None) is not None}",
                  file=sys.stderr)
        with contextlib.suppress(OSError):
            for tid in os.listdir(f"/proc/{process.pid}/task"):
                with contextlib.suppress(OSError):
                    stat = Path(f"/proc/{process.pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
                    wchan = Path(f"/proc/{process.pid}/task/{tid}/wchan").read_text()
                    print(f"{self.name}: thread {tid} state {stat[0]} wchan {wchan}", file=sys.stderr)

    async def close(self, clean: bool) -> str | None:
        """shutdown + exit when ``clean``; then wait for the process, kill it if it lingers.

        Returns a note when the process had to be killed."""
        note = None
        process = self.process
        if clean:
            await self.step("shutdown", self.client.shutdown_async(None), SHUTDOWN_TIMEOUT)
            self.client.exit(None)
        if process is not None and process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), EXIT_TIMEOUT if clean else 0.5)
            except asyncio.TimeoutError:
                note = (
                    f"{self.name}: process still running {EXIT_TIMEOUT if clean else 0.5:g} s after "
                    f"{'exit' if clean else 'a failed step'}; killed"
                )
                print(note, file=sys.stderr)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        try:
            await asyncio.wait_for(self.client.stop(), EXIT_TIMEOUT)
        except asyncio.TimeoutError:
            print(f"{self.name}: the pygls client did not stop within {EXIT_TIMEOUT} s", file=sys.stderr)
        if self._drain is not None:
            self._drain.cancel()
        return note


async def bench_server(
    name: str, command: list[str], root: Path, path: Path, text: str, sites: list[tuple[int, int]], pauses: int,
    inline: bool = False,
    env: dict[str, str] | None = None,
    probe: bool = False,
) -> dict[str, Any]:
    client = make_client()
    io = ServerIO(name, client)
    await io.start(command, env)
    inline_ms: list[float] = []
    inline_offered = 0
    clean = False
    try:
        uri = path_to_uri(path)
        t0 = time.perf_counter()
        await io.step(
            "initialize",
            client.initialize_async(
                types.InitializeParams(
                    capabilities=types.ClientCapabilities(
                        workspace=types.WorkspaceClientCapabilities(configuration=True),
                        text_document=types.TextDocumentClientCapabilities(
                            code_action=types.CodeActionClientCapabilities(
                                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                                    code_action_kind=types.ClientCodeActionKindOptions(
                                        value_set=["", "quickfix", "refactor", "refactor.rewrite", "source"]
                                    )
                                )
                            )
                        ),
                    ),
                    root_uri=path_to_uri(root),
                    workspace_folders=[types.WorkspaceFolder(uri=path_to_uri(root), name=root.name)],
                )
            ),
            INITIALIZE_TIMEOUT,
        )
        client.initialized(types.InitializedParams())
        init_ms = (time.perf_counter() - t0) * 1000
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
            )
        )
        version = 1

        pid = io.process.pid if io.process is not None else None
        loop_cpu: dict[str, list[tuple[float, float]]] = {"code_action": [], "inline": [], "paused": []}

        async def iteration(site: tuple[int, int], insert: bool, pause: float) -> tuple[float, int]:
            nonlocal version
            version += 1
            before = loop_schedstat(pid)
            client.text_document_did_change(change_params(uri, version, site, insert))
            if pause:
                await asyncio.sleep(pause)
            line = site[0]
            start = time.perf_counter()
            result = await io.step(
                f"textDocument/codeAction on line {line} (document version {version})",
                client.text_document_code_action_async(
                    types.CodeActionParams(
                        text_document=types.TextDocumentIdentifier(uri=uri),
                        range=types.Range(
                            start=types.Position(line=line, character=0),
                            end=types.Position(line=line, character=len("    total = 0")),
                        ),
                        context=types.CodeActionContext(diagnostics=[]),
                    )
                ),
                REQUEST_TIMEOUT,
            )
            took = (time.perf_counter() - start) * 1000
            if measuring or pause:
                loop_cpu["paused" if pause else "code_action"].append(schedstat_delta(before, loop_schedstat(pid)))
            if inline:
                await inline_request(line)
            return took, len(result or [])

        async def inline_request(line: int) -> None:
            """Invoked inline completion at the body of the edited function (a cache miss: the
            edit changed the text after the cursor), answered by the fake model."""
            nonlocal inline_offered
            before = loop_schedstat(pid)
            start = time.perf_counter()
            result = await io.step(
                f"textDocument/inlineCompletion on line {line} (document version {version})",
                client.text_document_inline_completion_async(types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=line, character=4),
                    context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
                )),
                REQUEST_TIMEOUT,
            )
            if measuring:
                inline_ms.append((time.perf_counter() - start) * 1000)
                loop_cpu["inline"].append(schedstat_delta(before, loop_schedstat(pid)))
                items = result.items if hasattr(result, "items") else result
                inline_offered += bool(items)

        async def fetch_probe() -> dict[str, Any]:
            answer = await io.step("bench/loopProbe", client.protocol.send_request_async(PROBE_METHOD, None),
                                   REQUEST_TIMEOUT)
            if isinstance(answer, str):
                answer = json.loads(answer)
            if not isinstance(answer, dict):
                print(f"{name}: unexpected bench/loopProbe answer {type(answer).__name__}: {str(answer)[:200]}",
                      file=sys.stderr)
                return {}
            return answer

        measuring = False
        # First request: the server may still be analysing the file it was just given.
        first_ms, _ = await iteration(sites[0], True, 0)
        await iteration(sites[0], False, 0)
        latencies, found = [], 0
        for index, site in enumerate(sites):
            if index == WARMUP // 2 and probe:
                await fetch_probe()  # drop the warm-up's records
            measuring = index >= WARMUP // 2
            for insert in (True, False):
                ms, count = await iteration(site, insert, 0)
                if index >= WARMUP // 2:
                    latencies.append(ms)
                    found += count
        probe_main = await fetch_probe() if probe else {}
        floor = []
        if name == "codeloop":  # JSON-RPC round trip of a trivial request: the transport floor
            for _ in range(50):
                start = time.perf_counter()
                await io.step("codeloop/settings", client.protocol.send_request_async("codeloop/settings", None), REQUEST_TIMEOUT)
                floor.append((time.perf_counter() - start) * 1000)
        if probe:
            await fetch_probe()  # drop the floor's records
        measuring = False
        paused = []
        for site in sites[:pauses]:
            for insert in (True, False):
                ms, _ = await iteration(site, insert, 0.25)
                paused.append(ms)
        probe_paused = await fetch_probe() if probe else {}
        clean = True
        kill_note = await io.close(clean=True)
        return {
            "server": name,
            "initialize_ms": init_ms,
            "first_code_action_ms": first_ms,
            "code_action_ms": summary(latencies),
            "code_action_after_pause_ms": summary(paused),
            "inline_completion_ms": summary(inline_ms) if inline else None,
            "inline_offered": inline_offered,
            "round_trip_floor_ms": summary(floor) if floor else None,
            "actions_per_request": found / max(len(latencies), 1),
            "server_stderr_bytes": io.stderr_bytes,
            "exit_note": kill_note,
            "loop_window": {key: loop_summary(values) for key, values in loop_cpu.items()} if pid else None,
            "loop_probe": {"measured": probe_summary(probe_main), "paused": probe_summary(probe_paused)}
            if probe else None,
            "samples": {"code_action_ms": latencies, "code_action_after_pause_ms": paused, "inline_completion_ms": inline_ms},
        }
    finally:
        if not clean:
            await io.close(clean=False)


async def run_phase(
    name: str,
    command: list[str],
    root: Path,
    path: Path,
    text: str,
    sites: list[tuple[int, int]],
    pauses: int,
    budget: float,
    inline: bool = False,
    env: dict[str, str] | None = None,
    probe: bool = False,
) -> dict[str, Any]:
    """:func:`bench_server` within an overall budget (every step has its own timeout too)."""
    try:
        return await asyncio.wait_for(
            bench_server(name, command, root, path, text, sites, pauses, inline, env, probe), budget)
    except asyncio.TimeoutError:
        raise StepTimeout(f"{name}: the whole phase took longer than {budget:g} s; stopped") from None


def pool(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs of one phase as one row: the client-measured percentiles over every
    run's samples together, each run's p99 kept in ``runs``; the other columns (first request,
    the loop accounting) are the first run's."""
    pooled = dict(runs[0])
    for key, samples in runs[0]["samples"].items():
        if samples:
            pooled[key] = summary([x for run in runs for x in run["samples"][key]])
    pooled["inline_offered"] = sum(run.get("inline_offered", 0) for run in runs)
    if len(runs) > 1:
        pooled["runs"] = [{key: run[key]["p99"] for key in ("code_action_ms", "inline_completion_ms") if run.get(key)}
                          for run in runs]
    del pooled["samples"]
    return pooled


def ensure_jls(explicit: str | None) -> list[str] | None:
    if explicit:
        return [explicit]
    exe = JLS_VENV / "bin" / "jedi-language-server"
    if not exe.exists():
        print(f"creating {JLS_VENV} with jedi-language-server (baseline only) ...", file=sys.stderr)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(JLS_VENV)], check=True)
            subprocess.run(
                [str(JLS_VENV / "bin" / "pip"), "install", "-q", "jedi-language-server"],
                check=True,
                timeout=INSTALL_TIMEOUT,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"jedi-language-server unavailable: {exc}", file=sys.stderr)
            return None
    return [str(exe)]


def version_of(command: list[str]) -> str:
    try:
        out = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
        return (out.stdout or out.stderr).strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# -- report -------------------------------------------------------------------------------


def fmt(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.3g}x" if b else "n/a"


def write_report(results: dict[str, Any], out_dir: Path) -> str:
    env = results["environment"]
    reparse = results.get("reparse")
    handlers = results.get("handlers")
    cl = results["lsp"].get("codeloop")
    jls = results["lsp"].get("jedi-language-server")
    lines = [
        "# LSP benchmark: codeloop vs jedi-language-server on a 10,000-line file",
        "",
        f"Run {env['date']} on {env['machine']} ({env['cpus']} CPUs, load average "
        f"{env['load_before']} before, {env['load_after']} after), Python {env['python']}, "
        f"pygls {env['pygls']}, tree-sitter {env['tree_sitter']}, {env['jls_version']}.",
        f"File: {env['lines']} lines, {env['bytes']} bytes; measured edit+request pairs: "
        f"{env['iterations']} for codeloop, {env['jls_iterations']} for jedi-language-server (after "
        f"{WARMUP} warm-up ones each). Command: `{env['command']}`.",
        "",
        "All times in milliseconds. Ratios compare numbers measured in this same run.",
        "",
        "## Code-action latency over LSP (client-measured, one-character didChange before each request)",
        "",
        "| server | p50 | p90 | p99 | max | ratio p50 | ratio p99 | after 250 ms pause p50 / p99 | first request | actions/request |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, data in results["lsp"].items():
        s, p = data["code_action_ms"], data["code_action_after_pause_ms"]
        same = results["lsp"].get("jedi-language-server" + (LOADED if name.endswith(LOADED) else ""))
        base = same["code_action_ms"] if same else None
        lines.append(
            f"| {name} | {fmt(s['p50'])} | {fmt(s['p90'])} | {fmt(s['p99'])} | {fmt(s['max'])} | "
            f"{ratio(s['p50'], base['p50']) if base else 'n/a'} | {ratio(s['p99'], base['p99']) if base else 'n/a'} | "
            f"{fmt(p['p50'])} / {fmt(p['p99'])} | {fmt(data['first_code_action_ms'])} | {data['actions_per_request']:.1f} |"
        )
    failed = results.get("lsp_failed", {})
    for name in failed:
        lines.append(f"| {name} | failed | | | | | | | | |")
    if jls is None and "jedi-language-server" not in failed:
        lines.append("| jedi-language-server | not run | | | | | | | | |")
    lines += ["", "(loaded: one busy-looping process per CPU through the phase; the ratios of a loaded row are "
              "against jedi-language-server loaded.)"]
    inline_rows = [(name, data) for name, data in results["lsp"].items() if data.get("inline_completion_ms")]
    if inline_rows:
        lines += ["", "## Inline-completion latency over LSP (client-measured, after each code action)", "",
                  "Invoked trigger at the body of the edited function: a cache miss, so the server calls the model",
                  "(the fake OpenAI server in the bench process, answering at once) in a worker thread.", "",
                  "| server | p50 | p90 | p99 | max | n | offered |", "|---|---|---|---|---|---|---|"]
        for name, data in inline_rows:
            x = data["inline_completion_ms"]
            lines.append(f"| {name} | {fmt(x['p50'])} | {fmt(x['p90'])} | {fmt(x['p99'])} | {fmt(x['max'])} | "
                         f"{x['n']} | {data.get('inline_offered', 0)} |")
    repeated = [(name, data["runs"]) for name, data in results["lsp"].items() if data.get("runs")]
    if repeated:
        lines += ["", f"Loaded rows: {len(repeated[0][1])} runs of {env['iterations']} pairs each (a new server and "
                  "a new load each), the percentiles above over all of them together. The p99 of each run:", "",
                  "| server | codeAction p99 per run | inlineCompletion p99 per run |", "|---|---|---|"]
        for name, runs in repeated:
            lines.append(f"| {name} | {', '.join(fmt(r['code_action_ms']) for r in runs)} | "
                         f"{', '.join(fmt(r['inline_completion_ms']) for r in runs if 'inline_completion_ms' in r)} |")
    for message in failed.values():
        lines += ["", f"Failed: {message}"]
    for data in results["lsp"].values():
        if data.get("exit_note"):
            lines += ["", f"At the end of the run: {data['exit_note']}."]
    if jls and jls.get("server_stderr_bytes"):
        lines += [
            "",
            f"jedi-language-server wrote {jls['server_stderr_bytes']} bytes to stderr (read and discarded by the "
            "bench; it logs the failed writes of diagnostics that its 1 s debounce timer publishes after `exit`).",
        ]
    floor = cl.get("round_trip_floor_ms") if cl else None
    lines += [
        "",
        "(ratio = server / jedi-language-server; below 1 means faster than the baseline.)",
        "",
        "jedi-language-server offers refactorings (extract variable/function) that need a selection, so",
        "it returns no actions for these ranges; its time goes to re-analysing the file after each edit.",
    ]
    if floor:
        lines += [
            "",
            f"Transport floor (codeloop, a trivial custom request, no edit): p50 {fmt(floor['p50'])}, "
            f"p99 {fmt(floor['p99'])}. The pygls test client and JSON-RPC framing on both ends account "
            "for this much of every latency above.",
        ]
    lines += loop_report(results["lsp"])
    if handlers and reparse:
        lines += [
        "",
        "## codeloop handlers in-process (no JSON-RPC, same edits)",
        "",
        "| handler | p50 | p90 | p99 | max | target |",
        "|---|---|---|---|---|---|",
        f"| didChange (apply to Document + mirror; the reparse waits for the first reader, so codeAction below pays it) | {fmt(handlers['did_change_ms']['p50'])} | "
        f"{fmt(handlers['did_change_ms']['p90'])} | {fmt(handlers['did_change_ms']['p99'])} | {fmt(handlers['did_change_ms']['max'])} | |",
        f"| codeAction | {fmt(handlers['code_action_ms']['p50'])} | {fmt(handlers['code_action_ms']['p90'])} | "
        f"{fmt(handlers['code_action_ms']['p99'])} | {fmt(handlers['code_action_ms']['max'])} | p99 <= 10 |",
        "",
        "## Reparse after a one-character edit (codeloop.workspace.document, in-process)",
        "",
        "| | p50 wall | p99 wall | p50 CPU | p99 CPU | target |",
        "|---|---|---|---|---|---|",
        f"| incremental (tree.edit + parse with old tree) | {fmt(reparse['incremental_wall_ms']['p50'])} | "
        f"{fmt(reparse['incremental_wall_ms']['p99'])} | {fmt(reparse['incremental_cpu_ms']['p50'])} | "
        f"{fmt(reparse['incremental_cpu_ms']['p99'])} | < 2 |",
        f"| full parse | {fmt(reparse['full_wall_ms']['p50'])} | {fmt(reparse['full_wall_ms']['p99'])} | "
        f"{fmt(reparse['full_cpu_ms']['p50'])} | {fmt(reparse['full_cpu_ms']['p99'])} | |",
        f"| ratio incremental / full (p50 wall) | {ratio(reparse['incremental_wall_ms']['p50'], reparse['full_wall_ms']['p50'])} | | | | |",
        "",
    ]
    loaded = results["lsp"].get("codeloop" + LOADED)
    if loaded:
        ca, inl = loaded["code_action_ms"]["p99"], (loaded.get("inline_completion_ms") or {}).get("p99")
        lines += [
            "## Targets under load (issue 16)",
            "",
            f"- codeAction p99 at the client, loaded, <= 10 ms: **{'met' if ca <= 10 else 'not met'}** ({fmt(ca)} ms)",
        ]
        if inl is not None:
            lines.append(f"- inlineCompletion p99 at the client, loaded, <= 10 ms: **{'met' if inl <= 10 else 'not met'}** "
                         f"({fmt(inl)} ms)")
        lines.append("")
    if not (handlers and reparse):
        lines += ["(in-process measurements skipped: --skip-in-process)", ""]
    else:
        verdict_handler = handlers["code_action_ms"]["p99"] <= 10
        verdict_reparse = reparse["incremental_wall_ms"]["p50"] < 2
        lines += [
        "## Targets",
        "",
        f"- codeAction handler p99 <= 10 ms: **{'met' if verdict_handler else 'not met'}** "
        f"({fmt(handlers['code_action_ms']['p99'])} ms in-process"
        + (f"; {fmt(cl['code_action_ms']['p99'])} ms over LSP including the edit and JSON-RPC)" if cl else ")"),
        f"- incremental reparse < 2 ms: **{'met' if verdict_reparse else 'not met'}** at p50 "
        f"({fmt(reparse['incremental_wall_ms']['p50'])} ms wall, p99 {fmt(reparse['incremental_wall_ms']['p99'])} ms)",
        "",
        ]
    lines += [
        "Percentiles on a shared, loaded machine are noisy (see the load average above); the",
        "CPU-time columns and the same-run ratios are the steadier numbers.",
        "",
    ]
    if results.get("notes"):  # written by hand into results.json after a run; kept by --render
        lines += ["## Notes on this run", "", *results["notes"], ""]
    text = "\n".join(lines)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.md").write_text(text, encoding="utf-8")
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return text


def loop_report(lsp: dict[str, Any]) -> list[str]:
    """The event loop's side of each codeloop phase: its CPU and waits per request."""
    rows = [(name, data) for name, data in lsp.items() if data.get("loop_window") or data.get("loop_probe")]
    if not rows:
        return []
    lines = [
        "",
        "## The server's event loop per request (codeloop rows)",
        "",
        "p50 / p99 in ms. **loop CPU**: the server's main thread (its event loop) on a CPU between sending",
        "the didChange and receiving the code action's answer (or around the inline completion), from",
        "`/proc/<pid>/task/<pid>/schedstat` read by the client; **run queue**: the same thread runnable",
        "but waiting for a core (the load's share). From inside (bench/lsp/probe, patched into the server's",
        "pygls): **GIL wait**: the loop thread off the CPU while handling the request and not idle in",
        "`select` (waiting for a worker thread's GIL, or a blocking write), a lower bound; **workers**: CPU",
        "of the other threads; **GC**: collections (any thread), total over the phase / largest per request.",
        "",
        "| server | request | client p99 | loop CPU | run queue | GIL wait | workers CPU | GC total / max |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def pair(s: dict[str, float] | None) -> str:
        return f"{fmt(s['p50'])} / {fmt(s['p99'])}" if s and s.get("n") else "n/a"

    for name, data in rows:
        window = data.get("loop_window") or {}
        probe = data.get("loop_probe") or {}
        kinds = [("codeAction (+didChange)", "code_action", "measured", "didChange+codeAction",
                  data["code_action_ms"]),
                 ("inlineCompletion", "inline", "measured", types.TEXT_DOCUMENT_INLINE_COMPLETION,
                  data.get("inline_completion_ms")),
                 ("codeAction after 250 ms pause", "paused", "paused", "didChange+codeAction",
                  data.get("code_action_after_pause_ms"))]
        for label, wkey, phase, pkey, client in kinds:
            w = window.get(wkey) or {}
            p = (probe.get(phase) or {}).get(pkey) or {}
            if not w and not p:
                continue
            gc_cell = f"{fmt(p['gc_total'])} / {fmt(p['gc']['max'])}" if p else "n/a"
            lines.append(
                f"| {name} | {label} | {fmt(client['p99']) if client else 'n/a'} | {pair(w.get('cpu_ms'))} | "
                f"{pair(w.get('runq_ms'))} | {pair(p.get('gil'))} | {pair(p.get('others'))} | {gc_cell} |"
            )
    gc_lines = []
    for name, data in rows:
        for phase, label in (("measured", "measured iterations"), ("paused", "after-pause iterations")):
            gens = ((data.get("loop_probe") or {}).get(phase) or {}).get("gc") or {}
            if gens:
                cells = ", ".join(f"gen{g} {v['n']} x ({v.get('on_loop', 0)} on the loop), {fmt(v['total'])} ms, "
                                  f"max {fmt(v['max'])} ms ({fmt(v.get('max_cpu', float('nan')))} CPU)"
                                  for g, v in sorted(gens.items()))
                heap = ((data.get("loop_probe") or {}).get(phase) or {}).get("heap") or {}
                if heap:
                    cells += f"; at the end {heap.get('tracked')} objects tracked, {heap.get('frozen')} frozen"
                gc_lines.append(f"- {name}, {label}: {cells}")
    if gc_lines:
        lines += ["", "Garbage collections in the server during each phase (any thread; wall ms, the largest",
                  "one's CPU ms in brackets):", "", *gc_lines]
    return lines


def run_all(args: argparse.Namespace) -> int:
    text = generate()
    sites = edit_sites(text, args.iterations // 2 + WARMUP // 2)
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    results: dict[str, Any] = {"lsp": {}}

    only = set(args.only or ["codeloop", "baseline", "jls"])
    if not args.skip_in_process:
        print("in-process reparse ...", file=sys.stderr)
        results["reparse"] = bench_reparse(text, sites)

    jls = None if args.no_jls or "jls" not in only else ensure_jls(args.jls)
    with tempfile.TemporaryDirectory(prefix="codeloop-bench-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        (root / "pyproject.toml").write_text('[project]\nname = "bench"\n', encoding="utf-8")
        (root / "tests").mkdir()
        (root / "tests" / "test_big.py").write_text("from big import compute_1\n\ndef test_one():\n    compute_1([])\n")
        path = root / "big.py"
        path.write_text(text, encoding="utf-8")

        if not args.skip_in_process:
            print("in-process handlers ...", file=sys.stderr)
            # Its own event loop: the diagnostics it schedules die with it.
            results["handlers"] = asyncio.run(bench_handlers(path, text, sites))

        serve = [sys.executable, "-m", "codeloop", "serve", "--no-log-file", "--log-level", "warning"]
        servers: dict[str, tuple[list[str], dict[str, str] | None]] = {}
        if "codeloop" in only:
            servers["codeloop"] = (serve, None)
        if args.baseline_tree and "baseline" in only:  # the same server from an earlier checkout, in the same run
            base = os.pathsep.join(str(Path(args.baseline_tree) / d) for d in ("server", "sandbox"))
            servers["codeloop, baseline tree"] = (serve, {"PYTHONPATH": base})
        if jls:
            servers["jedi-language-server"] = (jls, None)
        fake = fake_openai.FakeOpenAI(default_text="total = sum(values)\n").start()
        os.environ.update({"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "sk-bench", "CODELOOP_MODEL": "fake",
                           "XDG_CACHE_HOME": str(Path(tmp) / "cache")})  # the codeloop server's model: the fake
        try:
            for name, (command, env) in servers.items():
                for loaded in (False, True):
                    label = name + (LOADED if loaded else "")
                    print(f"over LSP: {label} ...", file=sys.stderr)
                    count = args.jls_iterations if name.startswith("jedi") else args.iterations
                    subset = sites[: count // 2 + WARMUP // 2]
                    probe = name.startswith("codeloop") and not args.no_probe
                    phase_env = env
                    if probe:  # the probe's sitecustomize first on the server's path
                        paths = [str(PROBE_DIR), (env or {}).get("PYTHONPATH") or os.environ.get("PYTHONPATH", "")]
                        phase_env = {**(env or {}), "PYTHONPATH": os.pathsep.join(p for p in paths if p),
                                     "CODELOOP_BENCH_PROBE": "1"}
                    repeats = args.loaded_runs if loaded and name.startswith("codeloop") else 1
                    try:
                        runs = []
                        for _ in range(repeats):  # each with a new server and a new load
                            with Load() if loaded else contextlib.nullcontext():
                                runs.append(asyncio.run(run_phase(
                                    label, command, root, path, text, subset, args.pauses, args.phase_timeout,
                                    inline=name.startswith("codeloop"), env=phase_env, probe=probe)))
                        results["lsp"][label] = pool(runs)
                    except (StepTimeout, RuntimeError, OSError) as exc:
                        # RuntimeError: pygls fails pending requests so when the server process dies.
                        message = str(exc) or type(exc).__name__
                        print(f"over LSP: {label} FAILED: {message}", file=sys.stderr)
                        results.setdefault("lsp_failed", {})[label] = message
        finally:
            fake.stop()

    results["environment"] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "pygls": metadata.version("pygls"),
        "tree_sitter": metadata.version("tree-sitter"),
        "jls_version": f"jedi-language-server {version_of(jls)}" if jls else "jedi-language-server not run",
        "lines": text.count("\n"),
        "bytes": len(text.encode("utf-8")),
        "iterations": args.iterations,
        "jls_iterations": args.jls_iterations,
        "command": " ".join(["python", "bench/lsp/run.py", *sys.argv[1:]]),
    }
    print(write_report(results, Path(args.out)))
    return 1 if results.get("lsp_failed") else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=300, help="measured edit+request pairs")
    parser.add_argument(
        "--jls-iterations", type=int, default=60, help="measured pairs for jedi-language-server (it is slow)"
    )
    parser.add_argument("--loaded-runs", type=int, default=1,
                        help="run each codeloop server's loaded phase this many times and pool the samples")
    parser.add_argument("--pauses", type=int, default=15, help="edit pairs with a 250 ms pause before the request")
    parser.add_argument(
        "--phase-timeout", type=float, default=1200, help="seconds one server's LSP phase may take in all"
    )
    parser.add_argument("--jls", help="path to a jedi-language-server executable")
    parser.add_argument("--baseline-tree", help="a checkout of an earlier commit: its server joins the run")
    parser.add_argument("--no-jls", action="store_true", help="skip the jedi-language-server baseline")
    parser.add_argument("--no-probe", action="store_true",
                        help="run codeloop's servers without bench/lsp/probe (no loop accounting from inside)")
    parser.add_argument("--only", choices=["codeloop", "baseline", "jls"], action="append",
                        help="run only these servers' LSP phases (repeatable; default: all)")
    parser.add_argument("--skip-in-process", action="store_true",
                        help="skip the in-process reparse and handler measurements")
    parser.add_argument("--out", default=str(HERE), help="directory for results.md / results.json")
    parser.add_argument("--render", action="store_true", help="only rewrite results.md from results.json")
    args = parser.parse_args()
    if args.render:
        out = Path(args.out)
        print(write_report(json.loads((out / "results.json").read_text(encoding="utf-8")), out))
        return 0
    return run_all(args)


if __name__ == "__main__":
    raise SystemExit(main())
