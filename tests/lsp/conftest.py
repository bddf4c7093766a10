"""Fixtures for end-to-end tests: the real `codeloop serve` over stdio, driven by pytest-lsp."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsp_helpers import SERVER_ENV, install_raw_spy, make_initialize_params
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER_COMMAND = [sys.executable, "-m", "codeloop", "serve", "--no-log-file"]
CONFIG = ClientServerConfig(server_command=SERVER_COMMAND, server_env=SERVER_ENV)


def _instrument(lsp_client: LanguageClient) -> None:
    lsp_client.statuses = []  # type: ignore[attr-defined]

    @lsp_client.feature("codeloop/status")
    def status(params):  # noqa: ANN001 - a pygls Object
        lsp_client.statuses.append(params)  # type: ignore[attr-defined]

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        return None

    install_raw_spy(lsp_client)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty project directory (with a pyproject.toml marking the root)."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n', encoding="utf-8")
    return root


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient, workspace: Path):
    """A server initialized on ``workspace`` as VS Code would."""
    _instrument(lsp_client)
    lsp_client.init_result = await lsp_client.initialize_session(make_initialize_params(workspace))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def fresh_client(lsp_client: LanguageClient):
    """A started server the test initializes itself (custom options, capabilities)."""
    _instrument(lsp_client)
    yield
    await lsp_client.shutdown_session()
