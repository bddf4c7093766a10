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
import os
import sys
from collections.abc import Iterable
from dataclasses import asdict

from codeloop.cli import CliError
from codeloop.job import Job
from codeloop.services.intents import FileIntents, IntentsInputError, IntentsOutcome, IntentsRequest, find_intents
from codeloop.workspace.model import Finding, Intent, Span
from codeloop.workspace.testindex import find_workspace_root


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


# -- --run-tests: tests in the sandbox ------------------------------------------------------


def run_for_paths(paths: Iterable[str]) -> list:
    """One run (:func:`codeloop.services.run_tests.run_tests`) per workspace root: test files
    and directories run as given, other files run the tests that import them."""
    from codeloop.services.run_tests import RunTestsRequest, run_tests
    from codeloop.workspace.testfiles import is_test_file

    groups: dict[str, RunTestsRequest] = {}
    for p in paths:
        ap = os.path.abspath(p)
        root = str(find_workspace_root(ap))
        request = groups.setdefault(root, RunTestsRequest(root))
        if os.path.isdir(ap) or is_test_file(ap):
            request.targets.append(os.path.relpath(ap, root))
        else:
            request.current_files.append(ap)
    return [run_tests(request).summary for request in groups.values()]


def shown(path: str, cwd: str | None = None) -> str:
    cwd = os.path.abspath(cwd or os.getcwd())
    rel = os.path.relpath(path, cwd)
    return path if rel.startswith("..") else rel


def check_run_tests(paths: Iterable[str]) -> list[Finding]:
    """``codeloop check --run-tests``: the run's findings as check findings.

    Raises CliError (exit 126) when no sandbox is available at an allowed level.
    """
    from codeloop_sandbox import SandboxUnavailable

    try:
        summaries = run_for_paths(list(paths))
    except SandboxUnavailable as exc:
        raise CliError(f"cannot run tests: {exc}", code=126) from None
    out = []
    for s in summaries:
        for f in s.all_findings():
            severity = {"information": "info"}.get(f.severity, f.severity)
            message = f.message.replace("\n", " | ")
            if f.related:
                r = f.related[0]
                message += f" (see {shown(r.path)}:{r.line})"
            out.append(Finding(shown(f.path), Span(f.line - 1, 0, f.line - 1, 0), severity, message))
    return out


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
    if getattr(args, "run_tests", False):  # tests in the sandbox (codeloop.services.run_tests)
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
