"""Fixtures for end-to-end tests: the real `codeloop serve` over stdio, driven by pytest-lsp."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from pytest_lsp import LanguageClient

from support.lsp_client import client_fixture, instrument, server_config

CONFIG = server_config()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty project directory (with a pyproject.toml marking the root)."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n', encoding="utf-8")
    return root


# A server initialized on ``workspace`` as VS Code would.
client = client_fixture(CONFIG, root="workspace")


@pytest_lsp.fixture(config=CONFIG)
async def fresh_client(lsp_client: LanguageClient):
    """A started server the test initializes itself (custom options, capabilities)."""
    instrument(lsp_client)
    yield
    await lsp_client.shutdown_session()
