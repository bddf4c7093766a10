"""Fixtures for tests/inline: a session on `codeloop serve` and the fake OpenAI server, with
and without a model configured (the session is tests/support/inline.py)."""

from __future__ import annotations

import pytest

from support.inline import start


@pytest.fixture
async def lsp(tmp_path, fake_openai):
    session = await start(tmp_path, fake_openai)
    yield session
    await session.client.shutdown_session()
    await session.client.stop()


@pytest.fixture
async def lsp_no_model(tmp_path, fake_openai):
    session = await start(tmp_path, fake_openai, model=None)
    yield session
    await session.client.shutdown_session()
    await session.client.stop()
