"""The event loop's CPU per publishDiagnostics of a 10,000-line file's diagnostics (~1,550,
~410 KB): pygls encoding it on the loop (before) vs lsp/publish.py (encoded in a worker
thread; the loop only starts the encoding and writes the bytes). In-process, one run.

    .venv/bin/python bench/lsp/bench_publish.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_file import generate  # noqa: E402
from lsprotocol import types  # noqa: E402

from codeloop.lsp import convert  # noqa: E402
from codeloop.lsp.server import create_server  # noqa: E402
from codeloop.workspace.document import Document  # noqa: E402
from codeloop.workspace.intents import find_intents  # noqa: E402
from codeloop.workspace.syntax import syntax_issues  # noqa: E402


class Sink:
    """A writer that counts bytes and the CPU its calls take (pygls's writer interface)."""

    def __init__(self) -> None:
        self.bytes = 0
        self.writes = 0
        self.cpu_ms = 0.0

    def write(self, data: bytes) -> None:
        mark = time.thread_time()
        self.bytes += len(data)
        self.writes += 1
        self.cpu_ms += (time.thread_time() - mark) * 1000

    def close(self) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    doc = Document("file:///bench/big.py", generate(), 1)
    diagnostics = convert.diagnostics(doc, syntax_issues(doc), find_intents(doc, frozenset()))
    server = create_server()
    sink = Sink()
    server.protocol.set_writer(sink)
    results: dict[str, list[float]] = {"pygls on the loop (before)": [], "lsp/publish.py (now)": []}

    async def run() -> None:
        for _ in range(args.rounds):
            # before: what _publish_composed did, all on the loop
            start = time.thread_time()
            server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=doc.uri, version=1, diagnostics=diagnostics))
            results["pygls on the loop (before)"].append((time.thread_time() - start) * 1000)
            # now: the loop's part is the call and, later, the done-callback that writes
            writes, before = sink.writes, sink.cpu_ms
            start = time.thread_time()
            server._publish_composed(doc.uri, diagnostics)
            spent = (time.thread_time() - start) * 1000
            while sink.writes == writes:
                await asyncio.sleep(0.001)
            results["lsp/publish.py (now)"].append(spent + sink.cpu_ms - before)
            await asyncio.sleep(0.01)

    asyncio.run(run())
    print(f"{len(diagnostics)} diagnostics, {sink.bytes // (2 * args.rounds)} bytes per message, {args.rounds} rounds")
    print("| encoding | loop CPU p50 (ms) | max |")
    print("|---|---|---|")
    for label, values in results.items():
        print(f"| {label} | {statistics.median(values):.2f} | {max(values):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
