"""Run a workspace's tests in the sandbox (core, no LSP).

What to run is chosen by :mod:`codeloop.services.run_tests` (through
:func:`codeloop.workspace.testindex.select_tests`); :func:`run_selected` runs it with
``codeloop_sandbox.run_pytest`` (branch coverage on) and returns a :class:`TestRunReport`;
:mod:`codeloop.verify.run_summary` turns that into findings (the one place that does).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

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

