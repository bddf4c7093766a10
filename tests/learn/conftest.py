"""Fixtures of the learn tests: `codeloop` subcommands of this package in isolation from the
other registered ones, and a fresh reward log."""

from __future__ import annotations

import pytest

from codeloop.learn import RewardLog


@pytest.fixture(autouse=True)
def only_learn_subcommands(monkeypatch):
    import codeloop.cli

    monkeypatch.setattr(codeloop.cli, "SUBCOMMAND_MODULES", ["codeloop.cli.learn"])


@pytest.fixture
def log(tmp_path):
    """A fresh reward log (real SQLite) in tmp_path."""
    with RewardLog(tmp_path / "rewards.sqlite3") as log:
        yield log
