"""Fixtures shared by the whole suite (the helpers are the package tests/support, importable as
``support`` because pytest puts tests/ on ``sys.path``: ``pythonpath`` in pyproject.toml)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from support.fake_openai import FakeOpenAI


@pytest.fixture(scope="session", autouse=True)
def _own_user_dirs(tmp_path_factory):
    """The suite never writes into the user's cache and data directories (implement and
    gen-tests index every workspace they run in; the reward log lives in the data dir).
    Tests that need their own set these again."""
    saved = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "XDG_DATA_HOME")}
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def fake_openai():
    """A scriptable fake OpenAI-compatible server on 127.0.0.1 (see tests/support/fake_openai.py)."""
    with FakeOpenAI() as server:
        yield server


SHOP = Path(__file__).resolve().parent / "fixtures" / "testgen" / "sample"


@pytest.fixture
def shop(tmp_path):
    """A fresh copy of the shop sample project (tests/fixtures/testgen/sample); skipped
    without a level-A sandbox, which every test that runs its tests needs."""
    from support.gen_tests import require_level_a

    require_level_a()
    return Path(shutil.copytree(SHOP, tmp_path / "shop_project"))


def bwrap_skip_reason() -> str | None:
    """Why bubblewrap cannot run candidates here (sandbox level A or B), or None."""
    from codeloop_sandbox import probe

    st = probe()
    if st.level in ("A", "B"):
        return None
    return f"bubblewrap cannot run here: {st.detail} (fix: {st.fix})"


@pytest.fixture(scope="session")
def bwrap_sandbox():
    """Skip unless bubblewrap can run candidates here (sandbox level A or B)."""
    reason = bwrap_skip_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def needs_bwrap():
    """Skip unless bubblewrap can run here; the probe's status otherwise."""
    from codeloop_sandbox import probe

    reason = bwrap_skip_reason()
    if reason:
        pytest.skip(reason)
    return probe()


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


@pytest.fixture
def make_project(tmp_path):
    """``make_project(name, {relative path: text})``: a project directory under tmp_path."""

    def make(name: str, files: dict[str, str]) -> Path:
        return _write_tree(tmp_path / name, files)

    return make
