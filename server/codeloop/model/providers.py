"""Model providers by name: ``settings.provider`` (default ``openai``) picks the factory
that makes the :class:`~codeloop.model.client.ModelClient`.

A provider is a callable ``factory(settings) -> ModelClient``; :func:`register` adds one
(a plugin or a test can register its own). An unknown name is a ``ModelError`` of kind
``not_configured`` that lists the known ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from codeloop.model.client import ModelClient
from codeloop.model.errors import ModelError
from codeloop.model.settings import DEFAULT_PROVIDER

Factory = Callable[[Any], ModelClient]

_FACTORIES: dict[str, Factory] = {}
_lock = threading.Lock()


def register(name: str, factory: Factory) -> None:
    """Make ``factory`` the provider called ``name`` (case-insensitive)."""
    with _lock:
        _FACTORIES[name.strip().lower()] = factory


def names() -> list[str]:
    with _lock:
        return sorted(_FACTORIES)


def provider_name(settings: Any) -> str:
    """The provider the settings ask for (``openai`` when they name none)."""
    name = getattr(settings, "provider", None)
    return (name or DEFAULT_PROVIDER).strip().lower()


def create_client(settings: Any) -> ModelClient:
    """A new client for ``settings`` from the provider they name."""
    name = provider_name(settings)
    with _lock:
        factory = _FACTORIES.get(name)
    if factory is None:
        known = ", ".join(repr(n) for n in names()) or "none"
        raise ModelError("not_configured", f"unknown model provider {name!r} (setting codeloop.model.provider); "
                         f"known providers: {known}")
    return factory(settings)


def _openai(settings: Any) -> ModelClient:
    from codeloop.model.openai_client import OpenAIClient  # the SDK loads on first use

    return OpenAIClient(settings)


register("openai", _openai)
