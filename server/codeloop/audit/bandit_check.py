"""Run bandit as a library on one piece of code.

bandit is given a temporary copy of the code (its public API scans files), with
``# nosec`` comments ignored: a candidate must not be able to silence its own audit.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import tempfile
import warnings
from collections.abc import Collection, Iterator

from codeloop.audit.findings import Finding

# Tests that only make noise on generated functions: asserts are normal in code.
DEFAULT_SKIP = frozenset({"B101"})

@contextlib.contextmanager
def _no_deprecation_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@contextlib.contextmanager
def _log_level(name: str, level: int) -> Iterator[None]:
    """Raise logger ``name``'s level for the block (noise, not errors, for codeloop's user)."""
    logger = logging.getLogger(name)
    old = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(old)


@functools.lru_cache(maxsize=1)
def _bandit_config():
    """bandit's default configuration (read-only once built, so shared)."""
    with _no_deprecation_warnings():
        from bandit.core import config as b_config

        return b_config.BanditConfig()


def bandit_findings(code: str, *, skip: Collection[str] = DEFAULT_SKIP, reject_at: str = "high") -> list[Finding]:
    """bandit's findings for ``code``; those at ``reject_at`` severity or above block.

    When bandit itself cannot scan the code (it does not parse), one low finding
    says so; the parse check elsewhere rejects such code.
    """
    # stevedore's deprecation warnings and its log lines about optional formatter plugins
    # (e.g. "Could not load 'sarif'") are noise here: codeloop uses no bandit formatter.
    with _log_level("stevedore", logging.CRITICAL), _no_deprecation_warnings():
        from bandit.core import manager as b_manager

    order = {"low": 0, "medium": 1, "high": 2}
    threshold = order[reject_at]
    # bandit logs at WARNING when it skips a file; keep that out of the user's stderr.
    with _log_level("bandit", logging.ERROR):
        with _no_deprecation_warnings():
            mgr = b_manager.BanditManager(_bandit_config(), "file", ignore_nosec=True, quiet=True)
        with tempfile.TemporaryDirectory(prefix="codeloop-audit-") as tmp:
            path = os.path.join(tmp, "candidate.py")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(code)
            mgr.discover_files([path])
            mgr.run_tests()
            issues = list(mgr.get_issue_list())
            skipped = list(mgr.skipped)
    findings: list[Finding] = []
    for issue in issues:
        if issue.test_id in skip:
            continue
        severity = str(issue.severity).lower()
        findings.append(
            Finding(
                check=issue.test_id,
                severity=severity if severity in order else "low",
                line=int(issue.lineno or 0),
                message=" ".join(str(issue.text).split()),
                blocking=order.get(severity, 0) >= threshold,
            )
        )
    for _, why in skipped:
        findings.append(Finding(check="bandit", severity="low", line=0, message=f"bandit could not scan the code: {why}"))
    return findings
