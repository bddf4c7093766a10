"""`codeloop serve`: run the language server over stdio (default) or TCP.

Logs go to stderr and to a rotating file in the user cache directory
(``codeloop/logs/server.log``), never to stdout, which is the LSP channel.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import faulthandler
import logging
import os
import stat
import sys
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

from codeloop import __version__, logs

DEFAULT_PORT = 2087


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the language server (stdio by default)",
        description="Run the codeloop language server. Editors start it over stdio; "
        "--tcp listens on a port for debugging.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (default)")
    mode.add_argument("--tcp", action="store_true", help="listen for one client over TCP")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default: {DEFAULT_PORT})")
    parser.add_argument(
        "--log-file",
        metavar="PATH",
        help=f"log file (default: {logs.default_log_file()}); rotated at 2 MiB",
    )
    parser.add_argument("--no-log-file", action="store_true", help="log to stderr only")
    parser.add_argument(
        "--log-level",
        choices=sorted(logs.LEVELS),
        help="log level; overrides the codeloop.logLevel setting (default: info)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from codeloop.cli import CliError

    if not 0 < args.port < 65536:
        raise CliError(f"--port must be between 1 and 65535, got {args.port}")
    path = logs.setup_logging(
        args.log_level or "info", args.log_file, file_logging=not args.no_log_file
    )
    log = logging.getLogger("codeloop.serve")

    from codeloop.lsp.server import create_server

    # A crash in native code (tree-sitter, sqlite) leaves every thread's Python stack on stderr,
    # which editors keep in the server's output channel, instead of a bare "exited with SIGSEGV".
    faulthandler.enable(sys.stderr)
    server = create_server()
    server.cli_log_level = args.log_level
    server.gc_policy.enable()  # what the start allocated is never walked by a full collection again
    # Worker threads (the diagnostics pass, model calls, test runs) keep the GIL for up to
    # CPython's switch interval before the event loop gets it back; 1 ms instead of 5
    # bounds what a request waits for them (bench/lsp: the loaded rows). Both transports.
    sys.setswitchinterval(SWITCH_INTERVAL)
    log.info("codeloop %s starting (%s); log file: %s", __version__, "tcp" if args.tcp else "stdio", path)
    try:
        if args.tcp:
            server.start_tcp(args.host, args.port)
        else:
            # The LSP channel is the real stdout; a stray print() from any library
            # must not corrupt it, so sys.stdout points at stderr from here on.
            channel = sys.stdout.buffer
            sys.stdout = sys.stderr
            serve_stdio(server, sys.stdin.buffer, channel)
    except OSError as exc:
        raise CliError(f"cannot start the server: {exc}") from None
    return 0


# A header line longer than this is dropped (headers are a few dozen bytes; bodies are read
# by length, not by line, and have no limit).
HEADER_LINE_LIMIT = 1 << 20
SWITCH_INTERVAL = 0.001  # seconds; see run
PIPE_SIZE = 1 << 20  # bytes asked for stdout's pipe (Linux's unprivileged maximum by default)


def loop_can_read(stdin: BinaryIO, stdout: BinaryIO) -> bool:
    """Whether the event loop can read ``stdin`` itself: a pipe or a socket (what editors
    give), and not the same file description as ``stdout`` (the loop makes stdin
    non-blocking, which would make the writes to a shared socket non-blocking too)."""
    if sys.platform == "win32":
        return False
    try:
        given, out = os.fstat(stdin.fileno()), os.fstat(stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    if not (stat.S_ISFIFO(given.st_mode) or stat.S_ISSOCK(given.st_mode)):
        return False  # a tty or a file: pygls's own reader
    return (given.st_dev, given.st_ino) != (out.st_dev, out.st_ino)


class LoopStdinReader:
    """stdin read by the event loop through a pipe transport, for pygls's message loop
    (its ``AsyncReader`` interface: ``readline``, ``readexactly``).

    pygls's own reader hands every header line and every body to a worker thread, and each
    hand-back needs the GIL: while the loop ran the diagnostics pass of a 10k-line file, an
    inline completion waited 30-60 ms for it (bench/inline/results.md).
    """

    def __init__(self, stdin: BinaryIO) -> None:
        self._fd = stdin.fileno()
        self._reader: asyncio.StreamReader | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._warned = False

    async def _stream(self) -> asyncio.StreamReader:
        if self._reader is None:
            reader = asyncio.StreamReader(limit=HEADER_LINE_LIMIT)
            # a duplicate descriptor: closing the transport must not close fd 0
            pipe = os.fdopen(os.dup(self._fd), "rb", buffering=0)
            self._transport, _ = await asyncio.get_running_loop().connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), pipe
            )
            self._reader = reader
        return self._reader

    async def readline(self) -> bytes:
        stream = await self._stream()
        try:
            return await stream.readline()
        except ValueError:  # longer than HEADER_LINE_LIMIT: not a header pygls could use
            if not self._warned:
                self._warned = True
                logging.getLogger("codeloop.serve").warning(
                    "dropped a line longer than %d bytes from the editor", HEADER_LINE_LIMIT
                )
            return b"X-Dropped: overlong line\r\n"  # not a header pygls acts on

    async def readexactly(self, n: int) -> bytes:
        try:
            return await (await self._stream()).readexactly(n)
        except asyncio.IncompleteReadError as exc:  # end of input: what read(n) returns
            return exc.partial

    def close(self) -> None:
        """Close the transport (on the loop) and give stdin its blocking mode back."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        with contextlib.suppress(OSError):
            os.set_blocking(self._fd, True)


class LoopStdoutWriter:
    """stdout written without ever blocking the event loop (pygls's writer interface).

    pygls's writer calls ``write(2)`` on a blocking stdout: a message larger than what the
    pipe holds (a 10,000-line file's diagnostics are ~410 KB; a Linux pipe holds 64 KiB)
    blocks the loop until the editor has read it all, and every request waits meanwhile.
    Here the descriptor is non-blocking: what the pipe takes now is written at once, the
    rest is queued, in order, and written by the loop when the pipe has room. Writes from
    other threads (a worker's log message) go through the same queue under a lock.
    ``close`` (pygls calls it on ``exit``) writes what is still queued, blocking, first.
    """

    def __init__(self, stdout: BinaryIO, loop: asyncio.AbstractEventLoop,
                 written: Callable[[], None] | None = None) -> None:
        self._written = written  # called on the loop after each message written from it
        self._fd = os.dup(stdout.fileno())
        os.set_blocking(self._fd, False)  # also fd 1: nothing else writes it (sys.stdout is stderr)
        with contextlib.suppress(OSError, AttributeError, ImportError):  # Linux: room for a long file's diagnostics
            import fcntl

            fcntl.fcntl(self._fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        self._loop = loop
        self._queue: collections.deque[memoryview] = collections.deque()
        self._lock = threading.Lock()
        self._watching = False
        self._closed = False

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._closed:
                raise BrokenPipeError("the LSP channel is closed")
            self._queue.append(memoryview(data))
            self._write_queued()
            on_loop = _on_loop(self._loop)
            if self._queue and not self._watching:
                self._watching = True
                if on_loop:
                    self._loop.add_writer(self._fd, self._writable)
                else:
                    self._loop.call_soon_threadsafe(self._loop.add_writer, self._fd, self._writable)
        if self._written is not None and on_loop:
            self._loop.call_soon(self._written)

    def _write_queued(self) -> None:
        """Write queued bytes until the pipe is full (caller holds the lock)."""
        while self._queue:
            chunk = self._queue[0]
            try:
                written = os.write(self._fd, chunk)
            except BlockingIOError:
                return
            if written < len(chunk):
                self._queue[0] = chunk[written:]
                return
            self._queue.popleft()

    def _writable(self) -> None:
        with self._lock:
            try:
                self._write_queued()
            except OSError:  # the editor is gone: drop what is queued, stop watching
                self._queue.clear()
                pygls_log = logging.getLogger("pygls.server")
                pygls_log.error("Connection to the client is lost while writing")
            if not self._queue:
                self._watching = False
                self._loop.remove_writer(self._fd)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._watching and _on_loop(self._loop):
                self._loop.remove_writer(self._fd)
            with contextlib.suppress(OSError):
                os.set_blocking(self._fd, True)
                while self._queue:
                    chunk = self._queue.popleft()
                    while chunk:
                        chunk = chunk[os.write(self._fd, chunk):]
            self._queue.clear()
            with contextlib.suppress(OSError):
                os.close(self._fd)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def serve_stdio(server: Any, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """pygls's ``start_io`` with stdin read by the event loop when it can
    (:func:`loop_can_read`); otherwise ``start_io`` itself. Ends like it: on end of input,
    on the ``exit`` notification, or when the client is gone."""
    try:
        from pygls.io_ import StdoutWriter, run_async  # internals of pygls 2.1: guard them
    except ImportError:
        run_async = None
    if run_async is None or not loop_can_read(stdin, stdout):
        server.start_io(stdin, stdout)
        return

    pygls_log = logging.getLogger("pygls.server")
    stop = threading.Event()
    server._stop_event = stop  # pygls's shutdown() sets it, as in its start_io
    reader = LoopStdinReader(stdin)
    writer: LoopStdoutWriter | None = None

    async def read_messages() -> None:
        nonlocal writer
        if stat.S_ISFIFO(os.fstat(stdout.fileno()).st_mode):
            writer = LoopStdoutWriter(stdout, asyncio.get_running_loop(), server.gc_policy.at_rest)
            server.protocol.set_writer(writer)
        else:  # a socket or a file: pygls's blocking writer (loop_can_read checked the rest)
            server.protocol.set_writer(StdoutWriter(stdout))
        try:
            await run_async(
                stop_event=stop,
                reader=reader,
                protocol=server.protocol,
                logger=pygls_log,
                error_handler=server.report_server_error,
            )
        finally:
            reader.close()

    try:
        asyncio.run(read_messages())
    except BrokenPipeError:
        pygls_log.error("Connection to the client is lost! Shutting down the server.")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        reader.close()
        if writer is not None:
            writer.close()  # what is still queued goes out before the process ends
        server.shutdown()
