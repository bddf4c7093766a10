"""Over LSP, as VS Code sends them: empty model strings are unset and override nothing."""

from __future__ import annotations

from lsp_helpers import make_initialize_params, request_raw, wait_for

# VS Code's client sends every setting, "" for the string ones the user has not set.
VSCODE_UNSET = {"model": {"baseUrl": "", "name": "", "chatModel": "", "completionModel": ""}, "interpreter": []}


async def test_empty_editor_strings_keep_the_project_model(fresh_client, workspace):
    (workspace / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[tool.codeloop.model]\nname = "project-model"\nbase_url = "http://127.0.0.1:9/v1"\n',
        encoding="utf-8",
    )
    fresh_client.set_configuration(VSCODE_UNSET, section="codeloop")
    pulls: list[int] = []  # len(statuses) when the server pulled workspace/configuration
    answer = fresh_client.get_configuration

    def configuration(*args, **kwargs):  # pytest-lsp answers workspace/configuration with this
        pulls.append(len(fresh_client.statuses))
        return answer(*args, **kwargs)

    fresh_client.get_configuration = configuration
    await fresh_client.initialize_session(make_initialize_params(workspace, VSCODE_UNSET))
    # The pulled configuration (also all "") is applied once a status follows the pull.
    await wait_for(lambda: pulls and len(fresh_client.statuses) > pulls[0], what="a status after the configuration pull")
    response = await request_raw(fresh_client, "codeloop/settings", None)
    model = response["result"]["settings"]["model"]
    assert response["result"]["warnings"] == []
    assert (model["name"], model["chat_model"], model["base_url"]) == (
        "project-model", "project-model", "http://127.0.0.1:9/v1")
    assert fresh_client.statuses[-1].model == "project-model"
