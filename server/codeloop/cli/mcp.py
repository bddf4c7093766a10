"""``codeloop mcp [--project DIR]``: the agent tools as an MCP server on stdio.

stdout carries the protocol and nothing else; logs go to stderr (``--log-level``). The
server is :mod:`codeloop.tools.mcp_server`; docs/mcp.md says how to add it to VS Code and
other MCP hosts.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from codeloop.cli import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("mcp", help="serve codeloop's tools to MCP hosts (agents) over stdio",
                              description="A Model Context Protocol server on stdin/stdout with codeloop's tools: "
                              "search, read, run tests in the sandbox, verified tests and implementations.")
    p.add_argument("--project", metavar="DIR", help="the workspace (default: the project around the current folder)")
    p.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"),
                   help="what goes to stderr (default: warning)")
    p.set_defaults(handler=run_mcp)


def run_mcp(args: argparse.Namespace) -> int:
    from codeloop.logs import setup_logging
    from codeloop.workspace.testindex import find_workspace_root

    if args.project is not None and not os.path.isdir(args.project):
        raise CliError(f"--project {args.project}: not a folder")
    root = Path(os.path.realpath(args.project or find_workspace_root(os.getcwd())))
    setup_logging(args.log_level, file_logging=False)
    from codeloop.tools.mcp_server import serve

    serve(root)
    return 0
