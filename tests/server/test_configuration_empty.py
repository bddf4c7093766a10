"""Over LSP, as VS Code sends them: empty model strings are unset and override nothing."""

from __future__ import annotations

import copy

from support.lsp_client import make_initialize_params, request_raw, wait_for

# VS Code's client sends every setting, "" for the string ones the user has not set.
VSCODE_UNSET = {"model": {"baseUrl": "", "name": "", "chatModel": "", "completionModel": ""}, "interpreter": []}
# What workspace/configuration answers: the same "" strings, plus one value that only this
# source sets, so the test can tell that the pulled configuration was applied (not merely
# that the server went on with its initializationOptions, which are the same "" strings).
PULLED = copy.deepcopy(VSCODE_UNSET)
PULLED["model"]["temperature"] = 0.7

# How long to wait for the server's initialized sequence (registerCapability, the
# configuration pull, the status). Not a speed check: a generous bound so that a loaded
# machine only makes the test slower, never red; pytest-timeout still bounds the test.
SETTLE_S = 120.0


async def test_empty_editor_strings_keep_the_project_model(fresh_client, workspace):
    (workspace / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[tool.codeloop.model]\nname = "project-model"\nbase_url = "http://127.0.0.1:9/v1"\n',
        encoding="utf-8",
    )
    fresh_client.set_configuration(PULLED, section="codeloop")
    pulls: list[int] = []  # len(statuses) when the server pulled workspace/configuration
    answer = fresh_client.get_configuration

    def configuration(*args, **kwargs):  # pytest-lsp answers workspace/configuration with this
        pulls.append(len(fresh_client.statuses))
        return answer(*args, **kwargs)

    fresh_client.get_configuration = configuration
    await fresh_client.initialize_session(make_initialize_params(workspace, VSCODE_UNSET))
    # The server applies the pulled configuration, then sends a status (initialized handler);
    # the pull is recorded before that status arrives, since both travel on one stream in order.
    await wait_for(
        lambda: pulls and len(fresh_client.statuses) > pulls[0],
        timeout=SETTLE_S,
        what="a status after the configuration pull",
    )
    assert len(pulls) == 1, pulls
    response = await request_raw(fresh_client, "codeloop/settings", None, timeout=SETTLE_S)
    model = response["result"]["settings"]["model"]
    assert response["result"]["warnings"] == []
    # The pull was applied (its own value is in effect) ...
    assert model["temperature"] == 0.7, "the pulled workspace/configuration was not applied"
    # ... and its "" strings, like the initializationOptions' ones, left the project's model alone.
    assert (model["name"], model["chat_model"], model["base_url"]) == (
        "project-model", "project-model", "http://127.0.0.1:9/v1")
    assert fresh_client.statuses[-1].model == "project-model"
