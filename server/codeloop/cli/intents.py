"""`codeloop intents` and `codeloop check`: the workspace layer from the command line.

``codeloop intents PATH... [--json]``
    one line per intent: ``file:line:col: kind: name: summary`` (1-based).
``codeloop check PATH...``
    ``file:line:col: severity: message`` for every finding of every check in
    :data:`CHECKS`; exit 1 when an error was printed, else 0.

All files are read before anything is printed, so bad input (a missing path, a
directory without Python files, a binary or undecodable file, no permission)
gives one line on stderr and exit 2, and never a half-written report.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from codeloop.cli import CliError
from codeloop.workspace.document import Document, DocumentLoadError, DocumentStore
from codeloop.workspace.intents import find_intents, syntax_issues
from codeloop.workspace.model import Intent, Span
from codeloop.workspace.testindex import TestIndex, find_workspace_root, is_skipped_dir

# -- collecting files ---------------------------------------------------------------------


def iter_python_files(directory: str) -> Iterator[str]:
    """``*.py`` files under ``directory``, sorted, skipping VCS, venv and build dirs."""
    for dirpath, dirnames, filenames in os.walk(directory, onerror=_walk_error):
        dirnames[:] = sorted(d for d in dirnames if not is_skipped_dir(d))
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield os.path.join(dirpath, name)


def _walk_error(exc: OSError) -> None:
    if isinstance(exc, PermissionError):
        raise CliError(f"permission denied: {exc.filename}")
    raise CliError(f"cannot read {exc.filename}: {exc.strerror or exc}")


def collect_files(paths: Iterable[str]) -> list[str]:
    """Expand the command's PATH arguments into Python files; CliError on bad input."""
    files: list[str] = []
    for p in paths:
        if not os.path.exists(p):
            raise CliError(f"no such file or directory: {p}")
        if os.path.isdir(p):
            if not os.access(p, os.R_OK | os.X_OK):
                raise CliError(f"permission denied: {p}")
            found = list(iter_python_files(p))
            if not found:
                raise CliError(f"no Python files in directory: {p}")
            files.extend(found)
        else:
            files.append(p)
    seen: set[str] = set()
    unique = []
    for f in files:
        key = os.path.abspath(f)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


@dataclass
class Workspace:
    """Loaded documents and the test index of each one's workspace root."""

    store: DocumentStore
    docs: list[tuple[str, Document]]  # (path as shown, document)
    indexes: dict[Path, TestIndex]

    def tested_names(self, shown_path: str) -> frozenset[str]:
        root = find_workspace_root(shown_path)
        index = self.indexes.get(root)
        if index is None:
            index = self.indexes[root] = TestIndex(root)
        return index.tested_names()


def load_workspace(paths: Iterable[str]) -> Workspace:
    store = DocumentStore()
    docs = []
    for f in collect_files(paths):
        try:
            docs.append((f, store.get_or_load(f)))
        except DocumentLoadError as exc:
            raise CliError(str(exc)) from None
    return Workspace(store, docs, {})


# -- checks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One line of `codeloop check` output."""

    path: str
    span: Span
    severity: str  # "error" | "warning" | "info"
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.span.start_line + 1}:{self.span.start_col + 1}: {self.severity}: {self.message}"


Check = Callable[[Workspace, str, Document], Iterable[Finding]]


def check_syntax(ws: Workspace, path: str, doc: Document) -> Iterable[Finding]:
    for issue in syntax_issues(doc):
        yield Finding(path, issue.span, "error", issue.message)


def check_intents(ws: Workspace, path: str, doc: Document) -> Iterable[Finding]:
    for it in find_intents(doc, ws.tested_names(path)):
        yield Finding(path, it.span, "info", f"{it.kind}: {it.name}: {it.summary}")


# The checks `codeloop check` runs, in order; later issues append theirs
# (e.g. test results behind --run-tests).
CHECKS: list[Check] = [check_syntax, check_intents]


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
    data["path"] = path
    data["line"] = it.span.start_line + 1
    data["col"] = it.span.start_col + 1
    return data


def run_intents(args: argparse.Namespace) -> int:
    ws = load_workspace(args.paths)
    results = [(path, it) for path, doc in ws.docs for it in find_intents(doc, ws.tested_names(path))]
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
    ws = load_workspace(args.paths)
    findings: list[Finding] = []
    for path, doc in ws.docs:
        per_file: list[Finding] = []
        for check in CHECKS:
            per_file.extend(check(ws, path, doc))
        per_file.sort(key=lambda f: (f.span.start_line, f.span.start_col))
        findings.extend(per_file)
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
    c.set_defaults(handler=run_check, checks=CHECKS)
