"""What a sandboxed test run found, as findings per file (core, no LSP).

:mod:`codeloop.verify.runtests` runs the selected tests (a file, a test id, or the tests
that import the current file); this module turns the outcome into what editors
and the CLI show:

* a failing test becomes an **error at its failing line in the test file** (the deepest
  traceback frame inside that test file) with the failure message, plus a finding at the
  line of the **code under test where the exception surfaced** (the deepest frame in a
  workspace file that is not a test file or a conftest), each pointing at the other;
* a collection error becomes an error at the line pytest names (``path:N: in <module>``
  or ``File "path", line N``), else line 1 of the file;
* a run stopped by a limit becomes a warning.

Every finding carries an *origin* (the test id, or the test file for collection errors):
a later run replaces exactly the findings whose origin it covered (:meth:`RunSummary.covers`),
so fixing the code and re-running one test clears that test's findings everywhere.
:class:`RunSummary` also carries the counts, branch coverage per file, duration and
sandbox level. :mod:`codeloop.services.run_tests` selects, runs and summarizes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from codeloop.text import first_line
from codeloop.verify.runtests import TestRunReport
from codeloop.workspace.testfiles import is_test_support

# Diagnostic codes (the LSP layer adds source "codeloop-tests").
CODE_FAILED = "codeloop.testFailed"
CODE_ERROR = "codeloop.testError"
CODE_RAISED_HERE = "codeloop.raisedHere"
CODE_COLLECTION = "codeloop.collectionError"
CODE_STOPPED = "codeloop.testRunStopped"

MAX_MESSAGE = 2000


@dataclass(frozen=True)
class Related:
    path: str
    line: int  # 1-based
    message: str


@dataclass(frozen=True)
class Finding:
    path: str  # absolute
    line: int  # 1-based
    severity: str  # "error" | "warning" | "information"
    code: str
    message: str
    origin: str  # test id or test file (relative to the root) whose next run replaces it
    related: tuple[Related, ...] = ()


@dataclass
class RunSummary:
    root: str
    selected: list[str]
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    collected: int = 0
    duration: float = 0.0
    level: str | None = None
    cancelled: bool = False
    limit: str | None = None
    note: str | None = None
    collection_errors: list[str] = field(default_factory=list)
    coverage: dict[str, float] = field(default_factory=dict)  # absolute path -> percent covered
    findings: dict[str, list[Finding]] = field(default_factory=dict)  # absolute path -> findings
    ran: set[str] = field(default_factory=set)  # test ids that ran
    executed: bool = False  # pytest ran (False: nothing selected, or no result)

    @property
    def ok(self) -> bool:
        return not (self.failed or self.errors or self.collection_errors or self.cancelled or self.limit)

    def all_findings(self) -> list[Finding]:
        return [f for path in sorted(self.findings) for f in self.findings[path]]

    def text(self) -> str:
        """``3 passed, 1 failed (0.8 s)``; ``cancelled`` / ``no tests`` when nothing ran."""
        if self.cancelled:
            return "cancelled"
        parts = [f"{n} {word}" for n, word in ((self.passed, "passed"), (self.failed, "failed"),
                                                 (self.errors, "errors" if self.errors > 1 else "error"),
                                                 (self.skipped, "skipped")) if n]
        if self.collection_errors:
            n = len(self.collection_errors)
            parts.append(f"{n} collection error{'s' if n > 1 else ''}")
        if self.limit:
            parts.append(f"stopped by the {self.limit} limit")
        if not parts:
            parts.append(self.note or "no tests ran")
        return ", ".join(parts) + (f" ({self.duration:.1f} s)" if self.duration else "")

    def covers(self, origin: str) -> bool:
        """Does this run replace findings of ``origin`` (a test id or a test file)?"""
        if self.cancelled or not self.executed:
            return False
        if origin in self.ran:
            return True
        for sel in self.selected or [""]:
            if "::" in sel:
                if origin == sel or origin.startswith(sel + "::") or origin.startswith(sel + "["):
                    return True
                continue
            prefix = sel.rstrip("/")
            if prefix in ("", "."):
                return True  # the whole suite ran
            if origin == prefix or origin.startswith(prefix + "::") or origin.startswith(prefix + "/"):
                return True
        return False

    def to_json(self) -> dict[str, Any]:
        return {
            "selected": self.selected,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "skipped": self.skipped,
            "collected": self.collected,
            "collectionErrors": self.collection_errors,
            "duration": round(self.duration, 3),
            "level": self.level,
            "cancelled": self.cancelled,
            "limit": self.limit,
            "note": self.note,
            "coverage": {p: round(v, 1) for p, v in sorted(self.coverage.items())},
            "summary": self.text(),
        }


# -- frames -> findings ---------------------------------------------------------------------


def _under(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([os.path.abspath(path), root]) == root
    except ValueError:
        return False


def _clip(text: str, limit: int = MAX_MESSAGE) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def failing_test_location(test: Any) -> tuple[str, int]:
    """(test file, 1-based line): the deepest frame inside the test's own file, else its
    definition (``TestOutcome.line``: the sandbox runner already made pytest's 0-based
    line 1-based)."""
    frames = list(getattr(test, "frames", None) or [])
    path = test.path or (frames[0].path if frames else "")
    inside = [f for f in frames if f.path == path]
    if inside:
        return path, inside[-1].line
    return path, test.line or 1


def code_location(test: Any, root: str) -> tuple[str, int] | None:
    """(file, 1-based line) of the deepest frame in a workspace file that is not test
    support (:func:`is_test_support`): where the exception surfaced in the code under test."""
    root = os.path.abspath(root)
    for f in reversed(list(getattr(test, "frames", None) or [])):
        if f.path == test.path or not _under(f.path, root) or is_test_support(f.path, root):
            continue
        return f.path, f.line
    return None


def failure_findings(test: Any, root: str) -> list[Finding]:
    """The findings of one failed or erroring test (error in the test, info in the code)."""
    name = test.nodeid.rsplit("::", 1)[-1]
    message = _clip(test.message) or test.outcome
    tpath, tline = failing_test_location(test)
    code = code_location(test, root)
    verb = "failed" if test.outcome == "failed" else "errored"
    related: tuple[Related, ...] = ()
    out: list[Finding] = []
    if code is not None:
        cpath, cline = code
        related = (Related(cpath, cline, f"raised here: {first_line(message, 200)}"),)
        out.append(Finding(cpath, cline, "information", CODE_RAISED_HERE,
                           f"{name} {verb} here: {first_line(message, 500)}", test.nodeid,
                           (Related(tpath, tline, f"failing test {test.nodeid}"),)))
    out.insert(0, Finding(tpath, tline, "error", CODE_FAILED if test.outcome == "failed" else CODE_ERROR,
                          f"{test.nodeid} {verb}: {message}", test.nodeid, related))
    return out


_AT_LINE = re.compile(r'^(?P<path>[^\s:][^:\n]*\.py):(?P<line>\d+): in ', re.M)
_FILE_LINE = re.compile(r'File "(?P<path>[^"]+\.py)", line (?P<line>\d+)')
_E_LINE = re.compile(r"^E\s+(?P<text>\S.*)$", re.M)


def collection_error_finding(error: str, root: str) -> Finding | None:
    """A collection error (``"<file>: <pytest text>"``) as an error at the line pytest names."""
    nodeid, _, text = error.partition(": ")
    nodeid = nodeid.strip()
    if not nodeid.endswith(".py"):
        # e.g. "coverage: ..." or "pytest is not installed": not about a file
        return None
    path = os.path.join(root, nodeid)
    line = 1
    for rx in (_AT_LINE, _FILE_LINE):
        for m in rx.finditer(text):
            p = m.group("path")
            if os.path.normpath(os.path.join(root, p)) == os.path.normpath(path):
                line = int(m.group("line"))  # the last mention is the deepest
    last_e = [m.group("text").strip() for m in _E_LINE.finditer(text)]
    reason = [t for t in last_e if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b", t)]
    message = reason[-1] if reason else (last_e[-1] if last_e else first_line(text, 300))
    return Finding(path, line, "error", CODE_COLLECTION, f"collection error: {_clip(message, 500)}", nodeid)


def summarize(report: TestRunReport, root: str) -> RunSummary:
    """Counts, coverage per file and findings per file of a finished run."""
    root = os.path.abspath(root)
    summary = RunSummary(root, list(report.selected), note=report.note)
    pres = report.pytest
    if pres is None:
        return summary
    res = pres.result
    summary.executed = True
    summary.duration, summary.level = res.duration, res.level
    summary.cancelled, summary.limit = bool(res.cancelled), (None if res.cancelled else res.limit)
    summary.collected = pres.collected
    findings: list[Finding] = []
    for t in pres.tests:
        summary.ran.add(t.nodeid)
        if t.outcome == "passed":
            summary.passed += 1
        elif t.outcome == "failed":
            summary.failed += 1
        elif t.outcome == "error":
            summary.errors += 1
        else:
            summary.skipped += 1
        if t.outcome in ("failed", "error"):
            findings.extend(failure_findings(t, root))
    for err in pres.errors:
        finding = collection_error_finding(err, root)
        if finding is not None:
            summary.collection_errors.append(err)
            findings.append(finding)
    if summary.limit and not summary.cancelled:
        where = next((f.path for f in findings), None) or next(
            (os.path.join(root, s.split("::", 1)[0]) for s in summary.selected if s.split("::", 1)[0].endswith(".py")),
            None)
        if where:
            findings.append(Finding(where, 1, "warning", CODE_STOPPED, f"test run stopped: {summary.limit} limit",
                                    os.path.relpath(where, root)))
    for f in findings:
        summary.findings.setdefault(f.path, []).append(f)
    for path, data in ((pres.coverage or {}).get("files") or {}).items():
        pct = (data.get("summary") or {}).get("percent_covered")
        if isinstance(pct, (int, float)):
            summary.coverage[path] = float(pct)
    return summary


class ProgressCounter:
    """Counts per-test outcome letters in pytest's ``-q`` output as it streams."""

    LETTERS = {".": "passed", "F": "failed", "E": "error", "s": "skipped", "x": "xfailed", "X": "xpassed"}

    def __init__(self) -> None:
        self.done = 0
        self.failed = 0
        self._in_progress_line = True

    def feed(self, text: str) -> bool:
        """True when the chunk advanced the count."""
        before = self.done
        for ch in text:
            if not self._in_progress_line:
                continue
            if ch in self.LETTERS:
                self.done += 1
                self.failed += ch in "FE"
            elif ch == "[":
                continue
            elif ch in "=_":
                self._in_progress_line = False  # the report section has started
        return self.done != before

    def message(self) -> str:
        return f"{self.done} test{'s' if self.done != 1 else ''} run" + (f", {self.failed} failed" if self.failed else "")


__all__ = [
    "CODE_COLLECTION", "CODE_ERROR", "CODE_FAILED", "CODE_RAISED_HERE", "CODE_STOPPED",
    "Finding", "ProgressCounter", "Related", "RunSummary", "code_location",
    "collection_error_finding", "failure_findings", "summarize", "failing_test_location",
]
