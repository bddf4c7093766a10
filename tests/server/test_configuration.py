"""Settings over LSP: initializationOptions, workspace/configuration, [tool.codeloop], warnings."""

from __future__ import annotations

import sys
from pathlib import Path

from lsprotocol import types
from pytest_lsp import ClientServerConfig

from support.lsp_client import SERVER_ENV, install_raw_spy, make_initialize_params, request_raw, wait_for


async def settings_of(client) -> dict:
    response = await request_raw(client, "codeloop/settings", None)
    assert "result" in response, response
    return response["result"]


async def test_initialization_options(fresh_client, workspace):
    options = {"model": {"name": "tiny", "baseUrl": "http://127.0.0.1:9/v1"}, "sandbox": {"timeout": 5}}
    await fresh_client.initialize_session(make_initialize_params(workspace, options, configuration=False))
    result = await settings_of(fresh_client)
    assert result["warnings"] == []
    assert result["settings"]["model"]["name"] == "tiny"
    assert result["settings"]["model"]["base_url"] == "http://127.0.0.1:9/v1"
    assert result["settings"]["sandbox"]["timeout"] == 5
    await wait_for(lambda: fresh_client.statuses and fresh_client.statuses[-1].model == "tiny", what="status")


async def test_workspace_configuration_wins_and_is_pulled_again(fresh_client, workspace):
    fresh_client.set_configuration({"model": {"name": "from-client"}, "logLevel": "warning"}, section="codeloop")
    options = {"model": {"name": "from-init", "candidates": 2}}
    await fresh_client.initialize_session(make_initialize_params(workspace, options))
    await wait_for(
        lambda: fresh_client.statuses and fresh_client.statuses[-1].model == "from-client", what="pulled settings"
    )
    result = await settings_of(fresh_client)
    assert result["settings"]["model"]["candidates"] == 2  # from initializationOptions
    assert result["settings"]["log_level"] == "warning"

    fresh_client.set_configuration({"model": {"name": "changed"}}, section="codeloop")
    fresh_client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await wait_for(
        lambda: fresh_client.statuses and fresh_client.statuses[-1].model == "changed", what="re-pulled settings"
    )


async def test_pyproject_bad_value_warns_once_and_uses_default(fresh_client, workspace):
    (workspace / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[tool.codeloop.sandbox]\ntimeout = "abc"\nmemory_mib = 512\n',
        encoding="utf-8",
    )
    fresh_client.set_configuration({"tests": {"debounceMs": -5}, "colour": "red"}, section="codeloop")
    await fresh_client.initialize_session(make_initialize_params(workspace))
    expected = [
        'codeloop: codeloop.sandbox.timeout: expected a positive number, got "abc"; using 30',
        "codeloop: codeloop.tests.debounce_ms: expected an integer >= 0, got -5; using 500",
        "codeloop: codeloop.colour: unknown setting; ignored",
    ]

    def shown() -> list[str]:
        return [m.message for m in fresh_client.messages if m.type == types.MessageType.Warning]

    await wait_for(lambda: all(any(s.startswith(e) for s in shown()) for e in expected), what=f"warnings {shown()}")
    result = await settings_of(fresh_client)
    assert result["settings"]["sandbox"]["timeout"] == 30
    assert result["settings"]["sandbox"]["memory_mib"] == 512
    assert result["settings"]["tests"]["debounce_ms"] == 500
    # Pulling the configuration again does not repeat warnings already shown.
    fresh_client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await settings_of(fresh_client)
    for e in expected:
        assert sum(s.startswith(e) for s in shown()) == 1


async def test_push_model_without_workspace_configuration(fresh_client, workspace):
    await fresh_client.initialize_session(make_initialize_params(workspace, configuration=False))
    fresh_client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"codeloop": {"model": {"name": "pushed"}}})
    )
    await wait_for(lambda: fresh_client.statuses and fresh_client.statuses[-1].model == "pushed", what="status")


async def test_api_key_is_kept_out_of_logs_and_replies(tmp_path: Path, workspace):
    log_file = tmp_path / "server.log"
    secret = "sk-test-0123456789abcdefSECRET"
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "codeloop", "serve", "--log-file", str(log_file), "--log-level", "debug"],
        server_env=SERVER_ENV,
    )
    client = await config.start()
    install_raw_spy(client)
    try:
        await client.initialize_session(make_initialize_params(workspace, {"apiKey": secret, "model": {"name": "m"}}))
        result = await settings_of(client)
        assert secret not in str(result)
        assert result["settings"]["model"]["api_key_set"] is True
        await client.shutdown_session()
    finally:
        await client.stop()
    text = log_file.read_text(encoding="utf-8")
    assert "initialize" in text  # debug logging did record the initialize params ...
    assert secret not in text  # ... without the key
    assert "[redacted]" in text


async def test_initialization_options_that_are_not_an_object(fresh_client, workspace):
    await fresh_client.initialize_session(make_initialize_params(workspace, ["not", "an", "object"], configuration=False))
    result = await settings_of(fresh_client)
    assert len(result["warnings"]) == 1
    assert "initializationOptions" in result["warnings"][0]
    assert result["settings"]["log_level"] == "info"


async def test_pyproject_change_on_disk_reloads_settings(client, workspace):
    assert (await settings_of(client))["settings"]["sandbox"]["timeout"] == 30
    pyproject = workspace / "pyproject.toml"
    pyproject.write_text('[project]\nname = "demo"\n\n[tool.codeloop.sandbox]\ntimeout = 7\n', encoding="utf-8")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    await settings_of(client)  # notifications are handled in order: the reload happened
    assert (await settings_of(client))["settings"]["sandbox"]["timeout"] == 7
