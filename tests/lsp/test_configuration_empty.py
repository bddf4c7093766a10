"""Over LSP, as VS Code sends them: empty model strings leave CODELOOP_MODEL / OPENAI_BASE_URL in effect."""

from __future__ import annotations

import sys

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from lsp_helpers import SERVER_ENV, install_raw_spy, make_initialize_params, request_raw, wait_for

ENV = {**SERVER_ENV, "CODELOOP_MODEL": "env-model", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
CONFIG = ClientServerConfig(server_command=[sys.executable, "-m", "codeloop", "serve", "--no-log-file"], server_env=ENV)
VSCODE_UNSET = {"model": {"baseUrl": "", "name": "", "chatModel": "", "completionModel": ""}, "interpreter": []}


@pytest_lsp.fixture(config=CONFIG)
async def env_client(lsp_client: LanguageClient):
    lsp_client.statuses = []  # type: ignore[attr-defined]

    @lsp_client.feature("codeloop/status")
    def status(params):  # noqa: ANN001 - a pygls Object
        lsp_client.statuses.append(params)  # type: ignore[attr-defined]

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        return None

    install_raw_spy(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_empty_editor_strings_keep_the_environment_model(env_client, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n', encoding="utf-8")
    pulls: list[int] = []  # len(statuses) when the server pulled the configuration

    env_client.set_configuration(VSCODE_UNSET, section="codeloop")
    answer = env_client.get_configuration

    def configuration(*args, **kwargs):  # pytest-lsp answers workspace/configuration with this
        pulls.append(len(env_client.statuses))
        return answer(*args, **kwargs)

    env_client.get_configuration = configuration

    await env_client.initialize_session(make_initialize_params(tmp_path, VSCODE_UNSET))
    # The pulled configuration (also all "") is applied once a status follows the pull.
    await wait_for(lambda: pulls and len(env_client.statuses) > pulls[0], what="a status after the configuration pull")
    response = await request_raw(env_client, "codeloop/settings", None)
    model = response["result"]["settings"]["model"]
    assert response["result"]["warnings"] == []
    assert (model["name"], model["chat_model"], model["base_url"]) == ("env-model", "env-model", "http://127.0.0.1:9/v1")
    assert env_client.statuses[-1].model == "env-model"
