"""Fixtures of the tests over the calc project (support.agent_project): each test's workspace
index in a cache folder of its own, and the project itself. A conftest imports them."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.agent_project import calc_project


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory, monkeypatch):
    """The workspace index (and the reward log) of each test in folders of its own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))


@pytest.fixture
def calc(tmp_path) -> Path:
    return calc_project(tmp_path / "calc_project")
