"""Fixtures shared by the whole suite."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

# tests/ has no __init__.py: make the helper modules next to this file importable.
_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from fake_openai import FakeOpenAI  # noqa: E402


@pytest.fixture
def fake_openai():
    """A scriptable fake OpenAI-compatible server on 127.0.0.1 (see tests/fake_openai.py)."""
    with FakeOpenAI() as server:
        yield server


SHOP = Path(__file__).resolve().parent / "fixtures" / "testgen" / "sample"


@pytest.fixture
def shop(tmp_path):
    """A fresh copy of the shop sample project (tests/fixtures/testgen/sample); skipped
    without a level-A sandbox, which every test that runs its tests needs."""
    from codeloop_sandbox import probe

    status = probe()
    if status.level != "A":
        pytest.skip(f"no level-A sandbox here: {status.detail}")
    return Path(shutil.copytree(SHOP, tmp_path / "shop_project"))


@pytest.fixture(scope="session")
def bwrap_sandbox():
    """Skip unless bubblewrap can run candidates here (sandbox level A or B)."""
    from codeloop_sandbox import probe

    status = probe()
    if status.level not in ("A", "B"):
        pytest.skip(f"bubblewrap cannot run here: {status.detail}")


@pytest.fixture
def make_project(tmp_path):
    """``make_project(name, {relative path: text})``: a project directory under tmp_path."""

    def make(name: str, files: dict[str, str]) -> Path:
        root = tmp_path / name
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        return root

    return make
