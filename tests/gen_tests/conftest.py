"""Fixtures for the LLM test-generation engine: settings for the fake model (the shop project
copy is the suite-wide ``shop`` fixture in tests/conftest.py)."""

from __future__ import annotations

import pytest

from codeloop.config import GenerateSettings, ModelSettings, Settings
from support.gen_tests import KEY


@pytest.fixture
def llm_settings(fake_openai, monkeypatch):
    """LLM engine settings against the fake server; the API key is in the environment only."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    model = ModelSettings(base_url=fake_openai.base_url, name="fake-model", max_retries=0, timeout=5.0)
    return Settings(model=model, generate=GenerateSettings(engine="llm"))
