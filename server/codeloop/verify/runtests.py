"""Run a workspace's tests in the sandbox (core, no LSP).

What to run comes from :func:`codeloop.workspace.testindex.select_tests` (a test id, a
test file, or the tests affected by the current file); :func:`run_tests` runs it with
``codeloop_sandbox.run_pytest`` (branch coverage on) and returns a :class:`TestRunReport`;
:mod:`codeloop.verify.run_summary` turns that into findings (the one place that does).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from codeloop.workspace.testindex import select_tests
from codeloop_sandbox import Policy, PytestResult, WarmPool, run_pytest


@dataclass
class TestRunReport:
    """What ran and pytest's raw result; :func:`codeloop.verify.run_summary.summarize` turns
    it into counts and findings."""

    __test__ = False

    selected: list[str]
    pytest: PytestResult | None
    note: str | None = None  # e.g. "no tests import pkg/mod.py"

    @property
    def ok(self) -> bool:
        return self.pytest is not None and self.pytest.passed


def run_selected(
    root: str,
    selected: list[str],
    policy: Policy | None = None,
    cancel: threading.Event | None = None,
    on_output: Callable[[str, str], None] | None = None,
    pool: WarmPool | None = None,
    coverage: bool = True,
) -> TestRunReport:
    """One pytest run of ``selected`` (all tests when empty) in the sandbox."""
    pres = run_pytest(os.path.abspath(root), ["-q", *selected], policy or Policy(), coverage=coverage, cancel=cancel,
                      on_output=on_output, pool=pool)
    return TestRunReport(selected, pres)


def run_tests(
    root: str,
    target: str | None = None,
    current_file: str | None = None,
    policy: Policy | None = None,
    cancel: threading.Event | None = None,
    on_output: Callable[[str, str], None] | None = None,
    pool: WarmPool | None = None,
    coverage: bool = True,
) -> TestRunReport:
    """Select and run tests in the sandbox (raises SandboxUnavailable below the allowed level)."""
    root = os.path.abspath(root)
    selected = select_tests(root, target, current_file)
    if not selected and target is None and current_file is not None:
        return TestRunReport(selected, None, note=f"no tests import {os.path.relpath(current_file, root)}")
    return run_selected(root, selected, policy, cancel, on_output, pool, coverage)
