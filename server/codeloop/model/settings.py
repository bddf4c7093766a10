"""What a model client reads from the settings, and a plain settings object for tests
and scripts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_PROVIDER = "openai"


class ModelSettingsLike(Protocol):
    """What the client reads from settings (:class:`codeloop.config.ModelSettings` fits)."""

    base_url: str | None
    name: str | None
    chat_model: str | None
    completion_model: str | None
    api_key_env: str
    temperature: float
    candidates: int
    timeout: float
    max_retries: int

    @property
    def configured(self) -> bool: ...


@dataclass(frozen=True)
class ModelConfig:
    """A plain settings object with the same fields as ``codeloop.config.ModelSettings``."""

    base_url: str | None = None
    name: str | None = None
    chat_model: str | None = None
    completion_model: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.2
    candidates: int = 4
    timeout: float = 60.0
    max_retries: int = 2
    provider: str = DEFAULT_PROVIDER

    @property
    def configured(self) -> bool:
        return bool(self.name or self.chat_model or self.completion_model)




def display_url(url: str) -> str:
    """The URL without user:password@ (never show credentials embedded in a base URL)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))

