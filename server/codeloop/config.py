"""Typed settings for codeloop, merged from every place a user can set them.

Sources, lowest to highest precedence:

1. the defaults declared on the dataclasses below;
2. ``[tool.codeloop]`` in the workspace's ``pyproject.toml`` (snake_case keys);
3. the LSP ``initializationOptions`` (camelCase keys, snake_case accepted);
4. the LSP ``workspace/configuration`` section ``codeloop``.

The environment fills in what no setting gives, as users of the ``openai`` SDK
expect: ``OPENAI_BASE_URL`` -> ``model.base_url``, ``CODELOOP_MODEL`` ->
``model.name``. The API key is never a setting read from files: it comes from the
environment variable named by ``model.api_key_env`` or, in memory only, from the
editor's ``initializationOptions.apiKey``; ``repr`` never shows it.

An invalid value produces one warning naming the setting and the value in effect
before it (the default, or a lower source's value) is kept; unknown keys warn too.
Everything here is pure: no LSP import, no I/O except :func:`read_pyproject`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

SECTION = "codeloop"
ENV_BASE_URL = "OPENAI_BASE_URL"
ENV_MODEL = "CODELOOP_MODEL"
LOG_LEVELS = ("debug", "info", "warning", "error")
ENGINES = ("auto", "offline", "llm")
SANDBOX_LEVELS = ("A", "B", "C")


class Invalid(ValueError):
    """A value failed validation; the message says what was expected."""


# --- validators: each takes the raw value and returns the typed one or raises Invalid ---


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise Invalid("expected a number")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise Invalid("expected a number") from None
    else:
        raise Invalid("expected a number")
    if not math.isfinite(number):
        raise Invalid("expected a finite number")
    return number


def positive_number(value: Any) -> float:
    try:
        number = _number(value)
    except Invalid:
        raise Invalid("expected a positive number") from None
    if number <= 0:
        raise Invalid("expected a positive number")
    return number


def _integer(value: Any, what: str) -> int:
    try:
        number = _number(value)
    except Invalid:
        raise Invalid(f"expected {what}") from None
    if number != int(number):
        raise Invalid(f"expected {what}")
    return int(number)


def positive_int(value: Any) -> int:
    number = _integer(value, "a positive integer")
    if number <= 0:
        raise Invalid("expected a positive integer")
    return number


def non_negative_int(value: Any) -> int:
    number = _integer(value, "an integer >= 0")
    if number < 0:
        raise Invalid("expected an integer >= 0")
    return number


def temperature(value: Any) -> float:
    try:
        number = _number(value)
    except Invalid:
        raise Invalid("expected a number between 0 and 2") from None
    if not 0 <= number <= 2:
        raise Invalid("expected a number between 0 and 2")
    return number


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise Invalid("expected true or false")


def optional_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("expected a string")
    return value.strip() or None


def url(value: Any) -> str | None:
    text = optional_text(value)
    if text is not None and not re.match(r"^https?://[^\s/]+", text):
        raise Invalid("expected an http(s) URL")
    return text


def provider_name(value: Any) -> str:
    """A model provider's name (checked against the registry when a client is made)."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.\-]*", value.strip()):
        raise Invalid("expected a provider name such as \"openai\"")
    return value.strip().lower()


def env_name(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value.strip()):
        raise Invalid("expected an environment variable name")
    return value.strip()


def env_names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise Invalid("expected a list of environment variable names")
    try:
        return tuple(env_name(item) for item in value)
    except Invalid:
        raise Invalid("expected a list of environment variable names") from None


def sandbox_levels(value: Any) -> tuple[str, ...]:
    expected = "expected a list of sandbox levels from " + ", ".join(SANDBOX_LEVELS)
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise Invalid(expected)
    levels = []
    for item in value:
        if not isinstance(item, str) or item.strip().upper() not in SANDBOX_LEVELS:
            raise Invalid(expected)
        levels.append(item.strip().upper())
    return tuple(dict.fromkeys(levels))


def one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        raise Invalid("expected one of " + ", ".join(f'"{c}"' for c in choices))

    return check


def setting(default: Any, check: Callable[[Any], Any], doc: str, **kwargs: Any) -> Any:
    """A dataclass field carrying its validator and one line of documentation."""
    return field(default=default, metadata={"check": check, "doc": doc}, **kwargs)


# --- the settings -------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSettings:
    """The OpenAI-compatible endpoint used by the LLM engine."""

    base_url: str | None = setting(
        None, url, "OpenAI-compatible endpoint; env OPENAI_BASE_URL when unset"
    )
    name: str | None = setting(None, optional_text, "model name; env CODELOOP_MODEL when unset")
    chat_model: str | None = setting(None, optional_text, "model for chat (default: name)")
    completion_model: str | None = setting(
        None, optional_text, "model for code generation and inline completion (default: name)"
    )
    api_key_env: str = setting(
        "OPENAI_API_KEY", env_name, "environment variable that holds the API key"
    )
    temperature: float = setting(0.2, temperature, "sampling temperature (0-2)")
    candidates: int = setting(4, positive_int, "candidates generated per request")
    timeout: float = setting(60.0, positive_number, "deadline in seconds of one model call, retries included (streams: per token gap)")
    max_retries: int = setting(2, non_negative_int, "retries of a 5xx, a connection reset or a 429 that fit before the deadline")
    provider: str = setting("openai", provider_name, "model client provider (see codeloop.model.providers)")
    # In memory only: sent by the editor in initializationOptions.apiKey, never read
    # from files, never logged, hidden from repr.
    api_key: str | None = field(default=None, repr=False, compare=False)

    @property
    def configured(self) -> bool:
        """True when a model name is set (by a setting or CODELOOP_MODEL)."""
        return bool(self.name or self.chat_model or self.completion_model)

    def resolve_api_key(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The key from the editor if it sent one, else from ``api_key_env``."""
        if self.api_key:
            return self.api_key
        env = os.environ if environ is None else environ
        return env.get(self.api_key_env) or None


@dataclass(frozen=True)
class SandboxSettings:
    timeout: float = setting(30.0, positive_number, "wall-clock seconds per sandboxed run")
    memory_mib: int = setting(2048, positive_int, "address-space limit per run, MiB")
    max_processes: int = setting(128, positive_int, "process limit per run")
    max_output_kib: int = setting(1024, positive_int, "captured output cap per run, KiB")
    allow_env: tuple[str, ...] = setting(
        (), env_names, "environment variables passed into the sandbox"
    )
    allow_levels: tuple[str, ...] = setting(
        ("A",), sandbox_levels, "sandbox levels at which generated code may run automatically"
    )


@dataclass(frozen=True)
class TestsSettings:
    __test__ = False  # not a pytest test class

    run_on_save: bool = setting(False, boolean, "run the tests of a file when it is saved")
    debounce_ms: int = setting(500, non_negative_int, "delay before a triggered test run, ms")


@dataclass(frozen=True)
class GenerateSettings:
    budget: float = setting(20.0, positive_number, "seconds a generation may take in total")
    engine: str = setting(
        "auto", one_of(*ENGINES), '"auto" (LLM when a model is configured, else offline), "offline" or "llm"'
    )
    repair_rounds: int = setting(2, non_negative_int, "repair attempts after a failing candidate")
    extra_samples: int = setting(
        4, non_negative_int, "candidates asked for once more while the top behaviours are close (0: never)"
    )
    context_tokens: int = setting(
        600, non_negative_int, "tokens of related definitions from the workspace index in model prompts (0: none)"
    )


@dataclass(frozen=True)
class InlineCompletionSettings:
    enabled: bool = setting(True, boolean, "offer verified inline completions")
    debounce_ms: int = setting(250, non_negative_int, "delay before an inline completion, ms")
    verify: bool = setting(True, boolean, "check inline completions in the sandbox in the background")


TOOL_POLICIES = ("auto", "ask", "off")
DEFAULT_TOOL_POLICIES = (("propose_edit", "ask"),)


def tool_policies(value: Any) -> tuple[tuple[str, str], ...]:
    """``{tool name: "auto" | "ask" | "off"}`` over the defaults, as sorted pairs."""
    expected = 'expected a table of tool names to "auto", "ask" or "off"'
    if not isinstance(value, Mapping):
        raise Invalid(expected)
    merged = dict(DEFAULT_TOOL_POLICIES)
    for name, policy in value.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) \
                or not isinstance(policy, str) or policy.strip().lower() not in TOOL_POLICIES:
            raise Invalid(expected)
        merged[name] = policy.strip().lower()
    return tuple(sorted(merged.items()))


@dataclass(frozen=True)
class AgentSettings:
    """The chat agent: which tools it may use and how far a conversation may go."""

    tools: tuple[tuple[str, str], ...] = setting(
        DEFAULT_TOOL_POLICIES, tool_policies,
        'policy per tool: "auto" runs, "ask" asks the user first, "off" is not offered (default: propose_edit ask)'
    )
    max_steps: int = setting(8, positive_int, "model turns with tool calls per question")
    max_tokens: int = setting(60_000, positive_int, "tokens a question may use over all its model requests")
    tool_timeout: float = setting(300.0, positive_number, "seconds one tool call may take")
    map_tokens: int = setting(1024, non_negative_int, "tokens of repo map sent with a question (0: none)")


@dataclass(frozen=True)
class IndexSettings:
    """The workspace index's optional semantic search."""

    embeddings: str = setting(
        "off", one_of("off", "auto"),
        '"auto": embed definitions through the model endpoint (/v1/embeddings) and fuse vector and text search; "off": text search only'
    )
    embeddings_model: str | None = setting(None, optional_text, "embeddings model (default: model.name)")


@dataclass(frozen=True)
class LearnSettings:
    enabled: bool = setting(True, boolean, "keep the local log of verified outcomes")


@dataclass(frozen=True)
class Settings:
    model: ModelSettings = field(default_factory=ModelSettings)
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    tests: TestsSettings = field(default_factory=TestsSettings)
    generate: GenerateSettings = field(default_factory=GenerateSettings)
    inline_completion: InlineCompletionSettings = field(default_factory=InlineCompletionSettings)
    learn: LearnSettings = field(default_factory=LearnSettings)
    agent: AgentSettings = field(default_factory=AgentSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    log_level: str = setting("info", one_of(*LOG_LEVELS), "server log level")

    @property
    def engine(self) -> str:
        """The engine in effect: ``generate.engine`` with "auto" resolved."""
        if self.generate.engine == "auto":
            return "llm" if self.model.configured else "offline"
        return self.generate.engine

    def to_dict(self) -> dict[str, Any]:
        """Plain data (snake_case) for logs and status; the API key is never included."""
        data = dataclasses.asdict(self)
        data["model"].pop("api_key", None)
        data["model"]["api_key_set"] = self.model.api_key is not None
        return data


@dataclass(frozen=True)
class Source:
    """One layer of settings: where it came from (for warnings) and its raw values."""

    origin: str
    values: Mapping[str, Any] | None
    # Only the editor's initializationOptions may carry the API key (kept in memory).
    allow_api_key: bool = False


# --- merging ------------------------------------------------------------------------------

_SECTION_CLASSES: dict[str, type] = {
    "model": ModelSettings,
    "sandbox": SandboxSettings,
    "tests": TestsSettings,
    "generate": GenerateSettings,
    "inline_completion": InlineCompletionSettings,
    "learn": LearnSettings,
    "agent": AgentSettings,
    "index": IndexSettings,
}
_API_KEY_NAMES = ("api_key", "apikey")
# Keys editors keep in the same section for themselves (the VS Code client's interpreter
# and server arguments, vscode-languageclient's ``trace.server``): accepted silently.
CLIENT_KEYS = frozenset({"interpreter", "server_args", "install_source", "trace"})
# Optional string settings: an empty string (or null) from any source means "not set".
UNSET_WHEN_BLANK = (optional_text, url)


def snake_case(key: str) -> str:
    """``maxRetries`` / ``max-retries`` / ``max_retries`` -> ``max_retries``."""
    key = key.strip().replace("-", "_")
    key = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key)
    return key.lower()


def camel_case(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    return str(value)


def _flatten(values: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """Yield (dotted snake_case path, value); nested mappings and dotted keys both work."""
    for raw_key, value in values.items():
        if not isinstance(raw_key, str):
            continue
        key = ".".join(snake_case(part) for part in raw_key.split("."))
        path = f"{prefix}{key}"
        head = path.split(".")[0]
        if isinstance(value, Mapping) and (head in _SECTION_CLASSES) and path.count(".") == 0:
            yield from _flatten(value, prefix=path + ".")
        else:
            yield path, value


def _unwrap(values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not values:
        return {}
    if not isinstance(values, Mapping):
        return {}
    if set(values) == {SECTION} and isinstance(values[SECTION], Mapping):
        return values[SECTION]
    return values


def load_settings(
    *sources: Source | Mapping[str, Any] | None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Settings, list[str]]:
    """Merge ``sources`` (lowest precedence first) over the defaults.

    Each source is a :class:`Source` or a plain mapping (then named ``settings``).
    Returns the settings and the warnings, one line each, naming the setting.
    ``environ`` defaults to ``os.environ``; it fills ``model.base_url`` and
    ``model.name`` when no source sets them.
    """
    env = os.environ if environ is None else environ
    current: dict[str, dict[str, Any]] = {
        name: {f.name: getattr(cls(), f.name) for f in dataclasses.fields(cls)}
        for name, cls in _SECTION_CLASSES.items()
    }
    top: dict[str, Any] = {"log_level": Settings().log_level}
    given: set[str] = set()
    warnings: list[str] = []

    for source in sources:
        if source is None:
            continue
        if not isinstance(source, Source):
            source = Source("settings", source)
        raw = source.values
        if raw is not None and not isinstance(raw, Mapping):
            warnings.append(f"{SECTION}: expected a table of settings in {source.origin}, got {_show(raw)}")
            continue
        for path, value in _flatten(_unwrap(raw)):
            parts = path.split(".")
            name = f"{SECTION}.{path}"
            if parts[-1] in _API_KEY_NAMES and len(parts) <= 2 and parts[0] in ("model", *_API_KEY_NAMES):
                if source.allow_api_key and isinstance(value, str) and value.strip():
                    current["model"]["api_key"] = value.strip()
                elif source.allow_api_key and value is None:
                    pass
                elif source.allow_api_key:
                    warnings.append(f"{SECTION}.apiKey: expected a string in {source.origin}; ignored")
                else:
                    warnings.append(
                        f"{SECTION}.model.api_key: API keys are not read from {source.origin}; "
                        f"ignored (set the environment variable named by model.api_key_env)"
                    )
                continue
            if parts[0] in CLIENT_KEYS:
                continue
            if len(parts) == 1 and parts[0] in top:
                target, key, cls = top, parts[0], Settings
            elif len(parts) == 2 and parts[0] in current and parts[1] in current[parts[0]] and parts[1] != "api_key":
                target, key, cls = current[parts[0]], parts[1], _SECTION_CLASSES[parts[0]]
            else:
                if len(parts) == 1 and parts[0] in _SECTION_CLASSES:
                    warnings.append(f"{name}: expected a table, got {_show(value)}; ignored ({source.origin})")
                else:
                    warnings.append(f"{name}: unknown setting; ignored ({source.origin})")
                continue
            check = next(f for f in dataclasses.fields(cls) if f.name == key).metadata["check"]
            if check in UNSET_WHEN_BLANK and (value is None or (isinstance(value, str) and not value.strip())):
                # Unset: VS Code sends "" for string settings the user never set; the
                # lower sources and the environment (OPENAI_BASE_URL, CODELOOP_MODEL) stay.
                continue
            try:
                target[key] = check(value)
            except Invalid as exc:
                warnings.append(
                    f"{name}: {exc}, got {_show(value)}; using {_show(target[key])} ({source.origin})"
                )
                continue
            given.add(path)

    model = current["model"]
    if "model.base_url" not in given and env.get(ENV_BASE_URL, "").strip():
        try:
            model["base_url"] = url(env[ENV_BASE_URL])
        except Invalid as exc:
            warnings.append(f"{ENV_BASE_URL}: {exc}, got {_show(env[ENV_BASE_URL])}; ignored")
    if "model.name" not in given and env.get(ENV_MODEL, "").strip():
        model["name"] = env[ENV_MODEL].strip()
    model["chat_model"] = model["chat_model"] or model["name"]
    model["completion_model"] = model["completion_model"] or model["name"]

    settings = Settings(
        **{name: cls(**current[name]) for name, cls in _SECTION_CLASSES.items()},
        log_level=top["log_level"],
    )
    return settings, warnings


# --- sources ------------------------------------------------------------------------------


def read_pyproject(root: str | os.PathLike[str] | None) -> tuple[Source | None, list[str]]:
    """``[tool.codeloop]`` of ``root/pyproject.toml`` as a source, plus read warnings.

    A missing file or table gives no source and no warning; an unreadable or
    invalid file gives one warning and no source.
    """
    if root is None:
        return None, []
    path = Path(root) / "pyproject.toml"
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return None, []
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [f"{path}: cannot read [tool.{SECTION}] ({exc}); using the other settings"]
    table = data.get("tool", {}).get(SECTION) if isinstance(data.get("tool"), dict) else None
    if table is None:
        return None, []
    if not isinstance(table, dict):
        return None, [f"{path}: [tool.{SECTION}] must be a table; ignored"]
    return Source(f"{path.name} [tool.{SECTION}]", table), []


def settings_for_workspace(
    root: str | os.PathLike[str] | None,
    init_options: Mapping[str, Any] | None = None,
    client: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Settings, list[str]]:
    """All sources for one workspace, in order: pyproject, initializationOptions, client."""
    pyproject, warnings = read_pyproject(root)
    settings, more = load_settings(
        pyproject,
        Source("initializationOptions", init_options, allow_api_key=True),
        Source("workspace/configuration", client),
        environ=environ,
    )
    return settings, warnings + more


def describe() -> list[tuple[str, str, Any, str]]:
    """(dotted camelCase name, snake_case TOML name, default, doc) for every setting."""
    rows: list[tuple[str, str, Any, str]] = []
    for section, cls in _SECTION_CLASSES.items():
        for f in dataclasses.fields(cls):
            if f.metadata:
                rows.append(
                    (
                        f"{SECTION}.{camel_case(section)}.{camel_case(f.name)}",
                        f"{section}.{f.name}",
                        f.default,
                        f.metadata["doc"],
                    )
                )
    log = next(f for f in dataclasses.fields(Settings) if f.name == "log_level")
    rows.append((f"{SECTION}.logLevel", "log_level", log.default, log.metadata["doc"]))
    return rows
