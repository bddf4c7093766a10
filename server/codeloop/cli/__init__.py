"""Command-line entry point: `codeloop serve | intents | check | sandbox | gen-tests | ...`.

Each subcommand lives next to the feature it drives, in a module that exposes
``register(subparsers)``; the registered handler takes the parsed arguments and
returns an exit code. This file only assembles the parser and turns expected
failures (:class:`CliError`) into one clear line on stderr.

Start-up is paid on every run, so a command imports only its own module
(:data:`COMMANDS` says which); ``--help``, no command or an unknown one load them all.
The modules keep heavy imports inside their handlers.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from codeloop import __version__

# Modules that contribute subcommands, in the order they appear in --help.
SUBCOMMAND_MODULES = [
    "codeloop.cli.serve",
    "codeloop.cli.intents",
    "codeloop.cli.gen_tests",
    "codeloop.cli.sandbox",
    "codeloop.cli.learn",
    "codeloop.cli.implement",
    "codeloop.cli.index",
    "codeloop.cli.ask",
    "codeloop.cli.mcp",
]

# The module that registers each command (``tests/core/test_cli_start.py`` checks it
# against what the modules register).
COMMANDS = {
    "serve": "codeloop.cli.serve",
    "intents": "codeloop.cli.intents",
    "check": "codeloop.cli.intents",
    "gen-tests": "codeloop.cli.gen_tests",
    "sandbox": "codeloop.cli.sandbox",
    "export": "codeloop.cli.learn",
    "stats": "codeloop.cli.learn",
    "implement": "codeloop.cli.implement",
    "index": "codeloop.cli.index",
    "search": "codeloop.cli.index",
    "map": "codeloop.cli.index",
    "ask": "codeloop.cli.ask",
    "mcp": "codeloop.cli.mcp",
}


class CliError(Exception):
    """An expected failure: printed as one line, exits with ``code`` (2 = bad input)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command``, only the module that registers it is imported."""
    parser = argparse.ArgumentParser(
        prog="codeloop",
        description="A language server that turns intents into verified Python code and tests.",
    )
    parser.add_argument("--version", action="version", version=f"codeloop {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = SUBCOMMAND_MODULES
    if command is not None and COMMANDS.get(command) in modules:
        modules = [COMMANDS[command]]
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` (the top-level options take no value)."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv == ["--version"]:  # no command module to load for that
        print(f"codeloop {__version__}")
        return 0
    parser = build_parser(command_of(argv))
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args) or 0)
    except CliError as exc:
        print(f"codeloop: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("codeloop: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
