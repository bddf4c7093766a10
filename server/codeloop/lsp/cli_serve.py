"""`codeloop serve`: run the language server over stdio (default) or TCP.

Logs go to stderr and to a rotating file in the user cache directory
(``codeloop/logs/server.log``), never to stdout, which is the LSP channel.
"""

from __future__ import annotations

import argparse
import logging
import sys

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

    server = create_server()
    server.cli_log_level = args.log_level
    log.info("codeloop %s starting (%s); log file: %s", __version__, "tcp" if args.tcp else "stdio", path)
    try:
        if args.tcp:
            server.start_tcp(args.host, args.port)
        else:
            # The LSP channel is the real stdout; a stray print() from any library
            # must not corrupt it, so sys.stdout points at stderr from here on.
            channel = sys.stdout.buffer
            sys.stdout = sys.stderr
            server.start_io(sys.stdin.buffer, channel)
    except OSError as exc:
        raise CliError(f"cannot start the server: {exc}") from None
    return 0
