"""The RUN TESTS capability: select a workspace's tests, run them in the sandbox, summarize.

:func:`run_tests` is the one sequence behind ``codeloop.runTests`` (the language server)
and ``codeloop check --run-tests`` (the CLI): pick the tests (test ids, test files or
directories as given; for other files the tests that import them), run them all in one
pytest process in the sandbox (branch coverage on; through a warm pool when the caller
owns one), and turn the result into a :class:`codeloop.verify.run_summary.RunSummary`
(counts, coverage, findings per file). Progress reports count the finished tests from
pytest's streamed output. ``codeloop_sandbox.SandboxUnavailable`` propagates: no sandbox
at an allowed level is for the adapter to tell the user.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeloop.job import Job
from codeloop.verify.run_summary import ProgressCounter, RunSummary, summarize
from codeloop.verify.runtests import TestRunReport, run_selected
from codeloop.workspace.testindex import select_tests

log = logging.getLogger("codeloop.run_tests")


@dataclass
class RunTestsRequest:
    """What to run. Nothing in ``targets`` and ``current_files``: the whole suite of ``root``."""

    root: str
    # test ids (``tests/test_x.py::test_y``), test files or directories, relative to root or absolute
    targets: list[str] = field(default_factory=list)
    # files whose tests should run (the tests that import them, directly or through other modules)
    current_files: list[str] = field(default_factory=list)
    policy: Any = None  # codeloop_sandbox.Policy; None: the sandbox settings of the workspace
    pool: Any = None  # a codeloop_sandbox.WarmPool the caller owns (and closes)
    coverage: bool = True
    on_output: Callable[[str, str], None] | None = None  # (stream, text) as pytest writes it


@dataclass
class RunTestsOutcome:
    summary: RunSummary

    @property
    def ok(self) -> bool:
        return self.summary.ok


def workspace_policy(root: str) -> Any:
    """The sandbox policy of the workspace's settings (``[tool.codeloop]`` and the environment),
    with pytest's environment variables let in (the user's own tests run)."""
    from codeloop.config import settings_for_workspace
    from codeloop.verify.sandbox_policy import sandbox_policy, user_tests_policy

    settings, _warnings = settings_for_workspace(root)
    return user_tests_policy(sandbox_policy(settings.sandbox))


def selection(request: RunTestsRequest) -> list[str]:
    """The pytest arguments of ``request`` (relative to its root), without duplicates."""
    root = os.path.abspath(request.root)
    selected = [s for t in request.targets for s in select_tests(root, t)]
    for current in request.current_files:
        selected.extend(select_tests(root, None, current))
    return list(dict.fromkeys(selected))


def run_tests(request: RunTestsRequest, job: Job | None = None) -> RunTestsOutcome:
    """Select, run (sandbox, branch coverage) and summarize; SandboxUnavailable propagates."""
    job = job or Job()
    root = os.path.abspath(request.root)
    selected = selection(request)
    if not selected and request.current_files and not request.targets:
        note = "no tests import " + ", ".join(os.path.relpath(c, root) for c in request.current_files)
        return RunTestsOutcome(summarize(TestRunReport(selected, None, note=note), root))
    counter = ProgressCounter()

    def on_output(stream: str, text: str) -> None:
        if request.on_output is not None:
            request.on_output(stream, text)
        if stream == "stdout" and counter.feed(text):
            job.report(counter.message(), 0.0)

    policy = request.policy if request.policy is not None else workspace_policy(root)
    report = run_selected(root, selected, policy, job.cancel, on_output, request.pool, request.coverage)
    if report.pytest is not None and report.pytest.coverage:
        record_coverage(root, report.pytest.coverage)
    return RunTestsOutcome(summarize(report, root))


def record_coverage(root: str, coverage: dict, db_path: Path | None = None) -> None:
    """Keep which test ran which lines in the workspace's index, when it has one (a run does
    not create an index); the index's "tests for a function" reads it."""
    from codeloop.index.coverage import record
    from codeloop.index.location import database_path
    from codeloop.index.schema import IndexUnavailable
    from codeloop.index.workspace_index import WorkspaceIndex

    path = db_path or database_path(Path(root))
    if not path.exists():
        return
    try:
        with WorkspaceIndex(root, path) as index:
            record(index.conn, coverage, index.root)
    except (IndexUnavailable, sqlite3.Error) as exc:  # the index is a cache: the run's result stands
        log.warning("coverage not kept in the index: %s", exc)


__all__ = ["RunTestsOutcome", "RunTestsRequest", "record_coverage", "run_tests", "selection", "workspace_policy"]
