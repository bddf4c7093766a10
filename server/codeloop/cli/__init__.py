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
import os
import sys
from collections.abc import Sequence

from codeloop import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import NoReturn

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


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` finds it ($COLUMNS, then stdout)."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, with the width found without ``import shutil`` (a few ms of
    every start: argparse makes a formatter for each argument it registers)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """The parser of every command (subparsers are made of the parent's class)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command``, only the module that registers it is imported."""
    parser = _Parser(
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
    as_program = argv is None  # the console script / `python -m codeloop`, not a caller in-process
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
        code = int(handler(args) or 0)
    except CliError as exc:
        print(f"codeloop: error: {exc}", file=sys.stderr)
        code = exc.code
    except KeyboardInterrupt:
        print("codeloop: interrupted", file=sys.stderr)
        code = 130
    except BrokenPipeError:
        code = 0
    if as_program and getattr(args, "exit_now", False):
        exit_now(code)
    return code


def exit_now(code: int) -> NoReturn:
    """End the process without the interpreter's teardown (10-15 ms of CPU once a command
    has loaded its modules): output flushed and atexit handlers run first, as at a normal
    exit. For commands whose handler leaves no non-daemon thread behind (``exit_now`` set
    in their parser's defaults)."""
    import atexit
    import contextlib
    import os

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    atexit._run_exitfuncs()  # CPython's hook for the handlers a normal exit runs
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())
