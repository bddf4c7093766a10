"""`codeloop serve` as it was before stdin moved to the event loop, for bench_inline.py only
(a comparison measured in the same run as the product, at the same machine load):

* stdin read by pygls's own reader (every header line and body handed to a worker thread)
  instead of ``codeloop.cli.serve.LoopStdinReader``;
* ``asyncio.sleep(0)`` between the chunks of the diagnostics pass instead of the 0.5 ms
  sleep that lets worker threads take the GIL.

Run as the server command: python bench/inline/serve_before.py serve --no-log-file
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from codeloop import cli
from codeloop.cli import serve as cli_serve
from codeloop.lsp import server as lsp_server


class _AsyncioWithSleep0:
    """``asyncio`` for server.py, except that a sub-millisecond sleep is ``sleep(0)``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    def sleep(delay: float, result: Any = None) -> Any:
        return asyncio.sleep(0 if 0 < delay < 0.001 else delay, result)


if __name__ == "__main__":
    cli_serve.loop_can_read = lambda stdin, stdout: False  # type: ignore[assignment]
    lsp_server.asyncio = _AsyncioWithSleep0()  # type: ignore[assignment]
    sys.exit(cli.main(sys.argv[1:]))
