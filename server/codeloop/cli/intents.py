"""`codeloop intents` and `codeloop check`: the workspace layer from the command line.

``codeloop intents PATH... [--json]``
    one line per intent: ``file:line:col: kind: name: summary`` (1-based).
``codeloop check PATH...``
    ``file:line:col: severity: message`` for every syntax error (error) and intent
    (info), and with ``--run-tests`` every test finding; exit 1 when an error was
    printed, else 0.

Both call the intents service (:mod:`codeloop.services.intents`).

All files are read before anything is printed, so bad input (a missing path, a
directory without Python files, a binary or undecodable file, no permission)
gives one line on stderr and exit 2, and never a half-written report.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from codeloop.cli import CliError
from codeloop.job import Job
from codeloop.services.intents import FileIntents, IntentsInputError, IntentsOutcome, IntentsRequest, find_intents
from codeloop.workspace.model import Finding, Intent


def _find(paths: list[str], syntax: bool = False) -> IntentsOutcome:
    try:
        return find_intents(IntentsRequest(paths=list(paths), syntax=syntax), Job())
    except IntentsInputError as exc:
        raise CliError(str(exc)) from None


def check_findings(file: FileIntents) -> list[Finding]:
    """A file's `codeloop check` lines: syntax errors, then one info line per intent, by position."""
    found = list(file.syntax)
    found += [Finding(file.path, it.span, "info", f"{it.kind}: {it.name}: {it.summary}") for it in file.intents]
    found.sort(key=lambda f: (f.span.start_line, f.span.start_col))
    return found


# -- commands -----------------------------------------------------------------------------


def intent_line(path: str, it: Intent) -> str:
    return f"{path}:{it.span.start_line + 1}:{it.span.start_col + 1}: {it.kind}: {it.name}: {it.summary}"


def intent_json(path: str, it: Intent) -> dict:
    data = asdict(it)
    for example in data["examples"]:
        del example["setup"]  # doctest setup: filled only by the offline test generator
    data["path"] = path
    data["line"] = it.span.start_line + 1
    data["col"] = it.span.start_col + 1
    return data


def run_intents(args: argparse.Namespace) -> int:
    results = _find(args.paths).intents
    out = sys.stdout
    if args.json:
        json.dump([intent_json(p, it) for p, it in results], out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        for path, it in results:
            out.write(intent_line(path, it) + "\n")
    out.flush()
    return 0


def run_check(args: argparse.Namespace) -> int:
    findings: list[Finding] = []
    for file in _find(args.paths, syntax=True).files:
        findings.extend(check_findings(file))
    if getattr(args, "run_tests", False):  # tests in the sandbox (codeloop.verify.run_summary)
        from codeloop.verify.run_summary import check_run_tests

        findings.extend(check_run_tests(args.paths))
    for f in findings:
        sys.stdout.write(f.format() + "\n")
    sys.stdout.flush()
    return 1 if any(f.severity == "error" for f in findings) else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "intents",
        help="list the intents found in Python files",
        description="List intents (stubs to implement, comments describing code, functions "
        "to test, TODOs) as file:line:col: kind: name: summary.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="Python files or directories")
    p.add_argument("--json", action="store_true", help="print a JSON array with all fields")
    p.set_defaults(handler=run_intents)

    c = subparsers.add_parser(
        "check",
        help="report syntax errors and intents; exit 1 on errors",
        description="Print file:line:col: severity: message for each finding; exit 1 when "
        "an error was printed.",
    )
    c.add_argument("paths", nargs="+", metavar="PATH", help="Python files or directories")
    c.add_argument("--run-tests", action="store_true",
                   help="also run the tests of PATH (test files, directories, or the tests importing a module) "
                   "in the sandbox and report failures")
    c.set_defaults(handler=run_check)
