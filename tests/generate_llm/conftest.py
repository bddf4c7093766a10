"""Fixtures for the LLM test-generation engine: a copy of the shop project, settings for the fake model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from codeloop.config import GenerateSettings, ModelSettings, Settings
from codeloop_sandbox import probe

from genllm_support import KEY

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "testgen" / "sample"


@pytest.fixture
def shop(tmp_path):
    """A fresh copy of the shop sample project; skipped without a level-A sandbox."""
    status = probe()
    if status.level != "A":
        pytest.skip(f"no level-A sandbox here: {status.detail}")
    return Path(shutil.copytree(FIXTURE, tmp_path / "shop_project"))


@pytest.fixture
def llm_settings(fake_openai, monkeypatch):
    """LLM engine settings against the fake server; the API key is in the environment only."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    model = ModelSettings(base_url=fake_openai.base_url, name="fake-model", max_retries=0, timeout=5.0)
    return Settings(model=model, generate=GenerateSettings(engine="llm"))
