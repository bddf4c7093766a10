"""Settings: defaults, precedence, key styles, validation warnings, environment, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeloop.config import (
    Settings,
    Source,
    describe,
    load_settings,
    read_pyproject,
    settings_for_workspace,
)


def test_defaults():
    settings, warnings = load_settings(environ={})
    assert warnings == []
    assert settings == Settings()
    assert settings.model.base_url is None
    assert settings.model.name is None
    assert settings.model.api_key_env == "OPENAI_API_KEY"
    assert settings.model.temperature == 0.2
    assert settings.model.candidates == 4
    assert settings.model.timeout == 60.0
    assert settings.model.max_retries == 2
    assert settings.sandbox.timeout == 30.0
    assert settings.sandbox.memory_mib == 2048
    assert settings.sandbox.max_processes == 128
    assert settings.sandbox.max_output_kib == 1024
    assert settings.sandbox.allow_env == ()
    assert settings.sandbox.allow_levels == ("A",)
    assert settings.tests.run_on_save is False
    assert settings.tests.debounce_ms == 500
    assert settings.generate.budget == 20.0
    assert settings.generate.engine == "auto"
    assert settings.generate.repair_rounds == 2
    assert settings.inline_completion.enabled is True
    assert settings.inline_completion.debounce_ms == 250
    assert settings.learn.enabled is True
    assert settings.log_level == "info"
    assert not settings.model.configured
    assert settings.engine == "offline"


def test_precedence_lowest_to_highest():
    settings, warnings = load_settings(
        Source("pyproject", {"sandbox": {"timeout": 10, "memory_mib": 512}, "log_level": "debug"}),
        Source("init", {"sandbox": {"timeout": 20}}),
        Source("client", {"sandbox": {"timeout": 40}}),
        environ={},
    )
    assert warnings == []
    assert settings.sandbox.timeout == 40
    assert settings.sandbox.memory_mib == 512
    assert settings.log_level == "debug"


def test_camel_snake_kebab_and_dotted_keys():
    settings, warnings = load_settings(
        {
            "model": {"baseUrl": "http://localhost:8000/v1", "max_retries": 0},
            "inlineCompletion": {"debounceMs": 100},
            "inline_completion": {"enabled": False},
            "tests.run-on-save": True,
            "logLevel": "WARNING",
        },
        environ={},
    )
    assert warnings == []
    assert settings.model.base_url == "http://localhost:8000/v1"
    assert settings.model.max_retries == 0
    assert settings.inline_completion.debounce_ms == 100
    assert settings.inline_completion.enabled is False
    assert settings.tests.run_on_save is True
    assert settings.log_level == "warning"


def test_section_wrapper_is_unwrapped():
    settings, warnings = load_settings({"codeloop": {"learn": {"enabled": False}}}, environ={})
    assert warnings == []
    assert settings.learn.enabled is False


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"sandbox": {"timeout": "abc"}}, 'codeloop.sandbox.timeout: expected a positive number, got "abc"; using 30'),
        ({"sandbox": {"timeout": -1}}, "codeloop.sandbox.timeout: expected a positive number, got -1; using 30"),
        ({"model": {"candidates": 2.5}}, "codeloop.model.candidates: expected a positive integer, got 2.5; using 4"),
        ({"model": {"temperature": 3}}, "codeloop.model.temperature: expected a number between 0 and 2, got 3; using 0.2"),
        ({"model": {"baseUrl": "localhost"}}, 'codeloop.model.base_url: expected an http(s) URL, got "localhost"; using null'),
        ({"tests": {"runOnSave": "yes"}}, 'codeloop.tests.run_on_save: expected true or false, got "yes"; using false'),
        ({"generate": {"engine": "gpt"}}, 'codeloop.generate.engine: expected one of "auto", "offline", "llm", got "gpt"; using "auto"'),
        ({"sandbox": {"allowLevels": ["A", "Z"]}}, 'codeloop.sandbox.allow_levels: expected a list of sandbox levels from A, B, C, got ["A", "Z"]; using ["A"]'),
        ({"sandbox": {"allowEnv": "HOME"}}, 'codeloop.sandbox.allow_env: expected a list of environment variable names, got "HOME"; using []'),
        ({"logLevel": "loud"}, 'codeloop.log_level: expected one of "debug", "info", "warning", "error", got "loud"; using "info"'),
        ({"sandbox": 5}, "codeloop.sandbox: expected a table, got 5; ignored"),
        ({"frobnicate": 1}, "codeloop.frobnicate: unknown setting; ignored"),
        ({"model": {"colour": "red"}}, "codeloop.model.colour: unknown setting; ignored"),
    ],
)
def test_invalid_value_warns_and_keeps_default(values, expected):
    settings, warnings = load_settings(values, environ={})
    assert len(warnings) == 1
    assert warnings[0].startswith(expected), warnings[0]
    assert settings == Settings()


def test_invalid_value_keeps_lower_source_value():
    settings, warnings = load_settings(
        Source("pyproject.toml", {"sandbox": {"timeout": 12}}),
        Source("client", {"sandbox": {"timeout": "soon"}}),
        environ={},
    )
    assert settings.sandbox.timeout == 12
    assert warnings == ['codeloop.sandbox.timeout: expected a positive number, got "soon"; using 12 (client)']


def test_environment_fills_model_when_no_setting():
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "CODELOOP_MODEL": "small"}
    settings, warnings = load_settings(environ=env)
    assert warnings == []
    assert settings.model.base_url == "http://127.0.0.1:9/v1"
    assert settings.model.name == "small"
    assert settings.model.chat_model == "small"
    assert settings.model.completion_model == "small"
    assert settings.model.configured
    assert settings.engine == "llm"


def test_settings_win_over_environment():
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "CODELOOP_MODEL": "small"}
    settings, _ = load_settings(
        {"model": {"baseUrl": "http://example.test/v1", "name": "big", "chatModel": "chatty"}}, environ=env
    )
    assert settings.model.base_url == "http://example.test/v1"
    assert settings.model.name == "big"
    assert settings.model.chat_model == "chatty"
    assert settings.model.completion_model == "big"


def test_engine_explicit_offline_even_with_model():
    settings, _ = load_settings({"generate": {"engine": "offline"}, "model": {"name": "m"}}, environ={})
    assert settings.engine == "offline"


def test_api_key_only_from_init_options_and_hidden():
    settings, warnings = load_settings(
        Source("initializationOptions", {"apiKey": "sk-topsecret123456"}, allow_api_key=True), environ={}
    )
    assert warnings == []
    assert settings.model.api_key == "sk-topsecret123456"
    assert settings.model.resolve_api_key({}) == "sk-topsecret123456"
    assert "sk-topsecret" not in repr(settings)
    assert "sk-topsecret" not in str(settings.to_dict())
    assert settings.to_dict()["model"]["api_key_set"] is True


def test_api_key_in_files_is_refused():
    settings, warnings = load_settings(
        Source("pyproject.toml", {"model": {"api_key": "sk-leaked"}}), environ={}
    )
    assert settings.model.api_key is None
    assert len(warnings) == 1
    assert "sk-leaked" not in warnings[0]
    assert warnings[0].startswith("codeloop.model.api_key: API keys are not read from pyproject.toml")


def test_api_key_from_environment_variable():
    settings, _ = load_settings({"model": {"apiKeyEnv": "MY_KEY"}}, environ={})
    assert settings.model.resolve_api_key({"MY_KEY": "k1", "OPENAI_API_KEY": "k2"}) == "k1"
    assert load_settings(environ={})[0].model.resolve_api_key({"OPENAI_API_KEY": "k2"}) == "k2"


def test_non_mapping_source_warns():
    settings, warnings = load_settings(Source("workspace/configuration", ["x"]), environ={})
    assert settings == Settings()
    assert len(warnings) == 1


def test_none_sources_are_skipped():
    assert load_settings(None, Source("x", None), environ={}) == (Settings(), [])


def test_read_pyproject(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.codeloop]\nlog_level = "debug"\n\n'
        '[tool.codeloop.sandbox]\ntimeout = "abc"\nallow-env = ["LANG"]\n',
        encoding="utf-8",
    )
    source, warnings = read_pyproject(tmp_path)
    assert warnings == []
    settings, warnings = load_settings(source, environ={})
    assert settings.log_level == "debug"
    assert settings.sandbox.allow_env == ("LANG",)
    assert warnings == [
        'codeloop.sandbox.timeout: expected a positive number, got "abc"; using 30 '
        "(pyproject.toml [tool.codeloop])"
    ]


def test_read_pyproject_missing_or_broken(tmp_path: Path):
    assert read_pyproject(tmp_path) == (None, [])
    assert read_pyproject(None) == (None, [])
    (tmp_path / "pyproject.toml").write_text("[project]\nname = \n", encoding="utf-8")
    source, warnings = read_pyproject(tmp_path)
    assert source is None
    assert len(warnings) == 1 and "cannot read" in warnings[0]


def test_settings_for_workspace_order(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.codeloop.model]\nname = \"toml\"\ncandidates = 2\n")
    settings, warnings = settings_for_workspace(
        tmp_path,
        init_options={"model": {"name": "init"}, "apiKey": "sk-abc"},
        client={"model": {"candidates": 3}},
        environ={"CODELOOP_MODEL": "env"},
    )
    assert warnings == []
    assert settings.model.name == "init"
    assert settings.model.candidates == 3
    assert settings.model.api_key == "sk-abc"


def test_describe_covers_every_setting_and_docs():
    rows = describe()
    names = {row[0] for row in rows}
    assert "codeloop.sandbox.timeout" in names and "codeloop.logLevel" in names
    assert len(rows) == 35  # + generate.extra_samples (issue 12), agent.* (issue 14), generate.context_tokens and index.* (issue 13)
    docs = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    if docs.exists():
        text = docs.read_text(encoding="utf-8")
        missing = [row[0] for row in rows if f"`{row[0]}`" not in text]
        assert missing == []


def test_editor_only_keys_are_accepted_silently():
    settings, warnings = load_settings(
        {"interpreter": ["/usr/bin/python3"], "serverArgs": ["--log-level", "debug"], "installSource": "pypi",
         "trace": {"server": "verbose"}},
        environ={},
    )
    assert warnings == []
    assert settings == Settings()
