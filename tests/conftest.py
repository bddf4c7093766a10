"""Fixtures shared by the whole suite."""

from __future__ import annotations

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
