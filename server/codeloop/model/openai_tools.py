"""Tool calling through the ``openai`` SDK for :class:`~codeloop.model.openai_client.OpenAIClient`.

Kept apart from the client: one non-streamed request per assistant turn (the usage is in
every answer, and a turn that calls tools has nothing to show as it streams), every
message's text and every tool call's arguments scrubbed of secrets, retries of what the
client's own classification calls retryable, and a cancel that returns at once.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from codeloop.model import workers
from codeloop.model.errors import Cancelled, ModelError
from codeloop.model.turns import AssistantTurn, ToolCall, Usage


def _clean(messages: Sequence[Mapping[str, Any]], scrub: Callable[[str], str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        msg: dict[str, Any] = {"role": str(m["role"])}
        content = m.get("content")
        msg["content"] = scrub(str(content)) if content is not None else None
        if m.get("tool_calls"):
            msg["tool_calls"] = [{"id": c["id"], "type": "function", "function": {
                "name": c["function"]["name"], "arguments": scrub(c["function"]["arguments"] or "{}")}}
                for c in m["tool_calls"]]
        if m.get("tool_call_id"):
            msg["tool_call_id"] = m["tool_call_id"]
        if msg["content"] is None and msg["role"] != "assistant":
            msg["content"] = ""
        out.append(msg)
    return out


def _turn(response: Any, endpoint: str) -> AssistantTurn:
    choices = getattr(response, "choices", None)
    if not choices:
        raise ModelError("malformed" if choices is None else "empty",
                         f"the model endpoint {endpoint} sent a response without choices")
    choice = choices[0]
    message = getattr(choice, "message", None)
    calls: list[ToolCall] = []
    for i, call in enumerate(getattr(message, "tool_calls", None) or []):
        function = getattr(call, "function", None)
        name = getattr(function, "name", None)
        if not name:
            continue
        calls.append(ToolCall(getattr(call, "id", None) or f"call_{i}", name, getattr(function, "arguments", "") or ""))
    usage = getattr(response, "usage", None)
    return AssistantTurn(
        content=getattr(message, "content", None) or "",
        tool_calls=calls,
        finish_reason=getattr(choice, "finish_reason", None),
        usage=Usage(1, int(getattr(usage, "prompt_tokens", 0) or 0), int(getattr(usage, "completion_tokens", 0) or 0)),
    )


def openai_tool_turn(client: Any, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None,
                     *, max_tokens: int | None = None, temperature: float | None = None,
                     cancel: threading.Event | None = None, tool_choice: str | None = None,
                     on_delta: Callable[[str], None] | None = None) -> AssistantTurn:
    sdk = client._client()
    model = client.chat_model
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": _clean(messages, client.scrub),
        "temperature": float(client.settings.temperature if temperature is None else temperature),
    }
    if tools:
        kwargs["tools"] = list(tools)
        if tool_choice:
            kwargs["tool_choice"] = tool_choice
    if max_tokens is not None:
        kwargs["max_tokens"] = int(max_tokens)
    attempts = max(0, int(getattr(client.settings, "max_retries", 0))) + 1
    for attempt in range(attempts):
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        try:
            response = workers.run_cancellable(lambda: sdk.chat.completions.create(**kwargs), cancel)
            turn = _turn(response, client.endpoint)
            if on_delta is not None and turn.content:
                on_delta(turn.content)
            return turn
        except (Cancelled, ModelError):
            raise
        except Exception as exc:  # noqa: BLE001 - classified by the client, re-raised as ModelError
            error, retryable, wait = client._classify(exc, model, attempt + 1)
        if not retryable or attempt == attempts - 1:
            raise error
        wait = wait if wait is not None else min(8.0, 0.5 * 2 ** attempt) * random.uniform(0.75, 1.25)
        if cancel is not None and cancel.wait(wait):
            raise Cancelled()
        if cancel is None:
            threading.Event().wait(wait)
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["openai_tool_turn"]
