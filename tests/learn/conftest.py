"""Run `codeloop` subcommands of this package in isolation from the other registered ones."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def only_learn_subcommands(monkeypatch):
    import codeloop.cli

    monkeypatch.setattr(codeloop.cli, "SUBCOMMAND_MODULES", ["codeloop.learn.cli_learn"])
