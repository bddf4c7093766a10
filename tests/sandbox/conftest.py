"""Shared fixtures for the sandbox tests: skip only where bubblewrap cannot run at all."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from codeloop_sandbox import probe


def bwrap_skip_reason() -> str | None:
    st = probe()
    if st.level in ("A", "B"):
        return None
    return f"bubblewrap cannot run here: {st.detail} (fix: {st.fix})"


@pytest.fixture
def needs_bwrap():
    reason = bwrap_skip_reason()
    if reason:
        pytest.skip(reason)
    return probe()


@pytest.fixture
def policy_any():
    """A policy that accepts level A and B (B = root without a pids cgroup)."""
    from codeloop_sandbox import Policy

    return Policy(timeout=10, allow_levels=("A", "B"))


def _write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def write_tree():
    """``write_tree(root, {relative path: text})``: a small project on disk; returns ``root``."""
    return _write_tree
