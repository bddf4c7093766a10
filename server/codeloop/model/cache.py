"""One model client for the current settings, shared by every feature of a server."""

from __future__ import annotations

import threading
from typing import Any

from codeloop.model.client import ModelClient
from codeloop.model.providers import create_client


class ClientCache:
    """One client for the current model settings (and key), replaced when they change,
    so a long-lived server keeps its connections warm between requests."""

    def __init__(self) -> None:
        self._client: ModelClient | None = None
        self._key: Any = None
        self._lock = threading.Lock()

    def get(self, model_settings: Any) -> ModelClient:
        key = (model_settings, getattr(model_settings, "api_key", None))
        with self._lock:
            if self._client is None or self._key != key:
                if self._client is not None:
                    self._client.close()
                self._client = create_client(model_settings)
                self._key = key
            return self._client

    def configured(self, model_settings: Any) -> ModelClient | None:
        """The client, or None when no model is configured (features then work offline)."""
        if model_settings is None or not getattr(model_settings, "configured", False):
            return None
        return self.get(model_settings)
