"""`codeloop serve` with experimental changes, for bench_inline.py only: what the event loop
and the GIL do to an inline completion that arrives while the diagnostics pass of a long
file runs (changes proposed for the LSP layer, measured before they land).

* ``--loop-stdin``: stdin read by the event loop (a pipe transport) instead of pygls's
  reader, which hands each header line and each body to a worker thread;
* ``--yield-gil S``: each chunk of the diagnostics pass first sleeps S seconds with the GIL
  released, so the stdin reader's and the model call's threads run between chunks;
* ``--switch-interval S``: ``sys.setswitchinterval(S)`` (CPython's default is 5 ms).

Run as the server command:
python bench/inline/serve_experiments.py [--loop-stdin] [--yield-gil S] [--switch-interval S] serve --no-log-file
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from codeloop import cli


def yield_gil_between_chunks(seconds: float) -> None:
    """Wrap the ranged ``find_intents`` the diagnostics pass calls per chunk."""
    from codeloop.workspace import intents

    find = intents.find_intents

    def find_after_a_pause(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("lines") is not None:
            time.sleep(seconds)  # releases the GIL; asyncio.sleep(0) rarely hands it over
        return find(*args, **kwargs)

    intents.find_intents = find_after_a_pause


class LoopStdinReader:
    """stdin read by the event loop itself (pygls's reader interface): while the loop runs
    the diagnostics pass, each of pygls's worker-thread hand-backs waits for the GIL."""

    def __init__(self, stdin: Any, executor: Any = None) -> None:
        self.stdin = stdin
        self._reader: asyncio.StreamReader | None = None

    async def _stream(self) -> asyncio.StreamReader:
        if self._reader is None:
            reader = asyncio.StreamReader(limit=1 << 26)
            await asyncio.get_running_loop().connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), self.stdin)
            self._reader = reader
        return self._reader

    async def readline(self) -> bytes:
        return await (await self._stream()).readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await (await self._stream()).readexactly(n)
        except asyncio.IncompleteReadError as exc:
            return exc.partial


if __name__ == "__main__":
    argv = sys.argv[1:]
    while argv and argv[0] in ("--switch-interval", "--yield-gil", "--loop-stdin"):
        flag = argv.pop(0)
        if flag == "--loop-stdin":
            import pygls.server

            pygls.server.StdinAsyncReader = LoopStdinReader  # type: ignore[misc]
        elif flag == "--switch-interval":
            sys.setswitchinterval(float(argv.pop(0)))
        else:
            yield_gil_between_chunks(float(argv.pop(0)))
    sys.exit(cli.main(argv))
