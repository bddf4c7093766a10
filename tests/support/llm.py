"""An OpenAIClient on the fake OpenAI server, shared by the model and chat tests."""

from __future__ import annotations

from codeloop.model.openai_client import OpenAIClient
from codeloop.model.settings import ModelConfig

CANARY = "sk-canary-0123456789abcdefDONOTLEAK"  # the key: must never show in messages or logs


def make(fake, **kw) -> OpenAIClient:
    """A client for ``fake``: ModelConfig fields and OpenAIClient options (api_key,
    retry_after_cap, backoff_base, environ) as keywords; no SDK retries, short backoff."""
    opts = dict(base_url=fake.base_url, name="fake-model", timeout=5.0, max_retries=0)
    client_opts = {k: kw.pop(k) for k in ("api_key", "retry_after_cap", "backoff_base", "environ") if k in kw}
    opts.update(kw)
    client_opts.setdefault("api_key", CANARY)
    client_opts.setdefault("backoff_base", 0.01)
    return OpenAIClient(ModelConfig(**opts), **client_opts)
