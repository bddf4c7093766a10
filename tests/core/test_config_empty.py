"""Empty strings for the optional string settings mean "unset" (VS Code sends "" for them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeloop.config import Settings, Source, describe, load_settings, settings_for_workspace

# The optional string settings: what VS Code's client sends when the user has not set them.
VSCODE_UNSET = {"model": {"baseUrl": "", "name": "", "chatModel": "", "completionModel": ""}}
ENV = {"CODELOOP_MODEL": "env-model", "OPENAI_BASE_URL": "http://127.0.0.1:8000/v1"}


def test_empty_editor_strings_leave_the_environment_in_effect():
    settings, warnings = load_settings(
        Source("initializationOptions", VSCODE_UNSET, allow_api_key=True),
        Source("workspace/configuration", VSCODE_UNSET),
        environ=ENV,
    )
    assert warnings == []
    m = settings.model
    assert (m.name, m.chat_model, m.completion_model) == ("env-model",) * 3
    assert m.base_url == "http://127.0.0.1:8000/v1"
    assert (m.configured, settings.engine) == (True, "llm")


@pytest.mark.parametrize("blank", ["", "   ", "\t\n", None])
def test_blank_or_null_counts_as_unset(blank):
    values = {"model": {"name": blank, "baseUrl": blank}}
    settings, warnings = load_settings(values, environ=ENV)
    assert warnings == []
    assert (settings.model.name, settings.model.base_url) == ("env-model", "http://127.0.0.1:8000/v1")


def test_empty_strings_without_environment_give_the_defaults():
    settings, warnings = load_settings(VSCODE_UNSET, environ={})
    assert warnings == []
    assert settings == Settings()
    assert not settings.model.configured
    assert settings.engine == "offline"


def test_empty_editor_string_keeps_a_lower_source_value():
    settings, warnings = load_settings(
        Source("pyproject.toml [tool.codeloop]", {"model": {"name": "project-model", "base_url": "http://10.0.0.2/v1"}}),
        Source("workspace/configuration", VSCODE_UNSET),
        environ=ENV,
    )
    assert warnings == []
    assert settings.model.name == "project-model"  # a set value below still wins over the environment
    assert settings.model.base_url == "http://10.0.0.2/v1"


def test_per_use_models_fall_back_to_the_name_when_empty():
    settings, _ = load_settings({"model": {"name": "general", "chatModel": "", "completionModel": "coder"}}, environ={})
    assert settings.model.chat_model == "general"
    assert settings.model.completion_model == "coder"


def test_a_set_editor_value_still_wins_over_the_environment():
    settings, _ = load_settings({"model": {"name": " editor-model ", "baseUrl": "https://api.example.com/v1"}}, environ=ENV)
    assert settings.model.name == "editor-model"
    assert settings.model.base_url == "https://api.example.com/v1"


def test_other_empty_strings_are_still_invalid_values():
    # "Empty means unset" is only for the optional strings: an empty number or name still warns.
    settings, warnings = load_settings({"model": {"apiKeyEnv": "", "timeout": ""}, "logLevel": ""}, environ={})
    assert settings == Settings()
    assert len(warnings) == 3
    assert any(w.startswith('codeloop.model.api_key_env: expected an environment variable name, got ""') for w in warnings)
    assert any(w.startswith('codeloop.model.timeout: expected a positive number, got ""') for w in warnings)
    assert any(w.startswith('codeloop.log_level: expected one of') for w in warnings)


def test_a_bad_url_still_warns_and_keeps_the_environment():
    for environ, expected in ((ENV, "http://127.0.0.1:8000/v1"), ({}, None)):
        settings, warnings = load_settings({"model": {"baseUrl": "localhost:8000"}}, environ=environ)
        assert settings.model.base_url == expected
        assert len(warnings) == 1 and "expected an http(s) URL" in warnings[0]


def test_the_whole_vscode_initialization_options(tmp_path: Path):
    # What the VS Code client sends with every setting at its default (vscode-client/src/common/settings.ts).
    options = {
        "model": {"baseUrl": "", "name": "", "chatModel": "", "completionModel": "", "apiKeyEnv": "OPENAI_API_KEY",
                  "temperature": 0.2, "candidates": 4, "timeout": 60},
        "sandbox": {"timeout": 30, "memoryMib": 2048, "allowLevels": ["A"]},
        "tests": {"runOnSave": False},
        "generate": {"budget": 20},
        "inlineCompletion": {"enabled": True},
        "learn": {"enabled": True},
        "logLevel": "info",
        "interpreter": [],
        "serverArgs": [],
        "installSource": "codeloop",
    }
    settings, warnings = settings_for_workspace(tmp_path, options, {"codeloop": options}, environ=ENV)
    assert warnings == []
    assert settings.model.name == "env-model"
    assert settings.model.base_url == "http://127.0.0.1:8000/v1"


def test_the_configuration_docs_say_empty_means_unset():
    docs = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    text = docs.read_text(encoding="utf-8")
    assert "empty string" in text.lower()
    optional = [row[0] for row in describe() if row[2] is None and row[0].startswith("codeloop.model.")]
    assert optional == ["codeloop.model.baseUrl", "codeloop.model.name", "codeloop.model.chatModel",
                        "codeloop.model.completionModel"]
