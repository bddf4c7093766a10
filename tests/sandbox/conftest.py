"""Fixtures of the sandbox tests (``needs_bwrap`` and ``write_tree`` are suite-wide, in
tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def policy_any():
    """A policy that accepts level A and B (B = root without a pids cgroup)."""
    from codeloop_sandbox import Policy

    return Policy(timeout=10, allow_levels=("A", "B"))
