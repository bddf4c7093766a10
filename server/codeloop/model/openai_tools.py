"""Tool calling through the ``openai`` SDK for :class:`~codeloop.model.openai_client.OpenAIClient`.

Kept apart from the client: one request per assistant turn, streamed when the caller
takes deltas (text deltas go out as they come, tool-call deltas are put together; the
usage is asked for with ``stream_options`` and that option is dropped for an endpoint
that refuses it), every message's text and every tool call's arguments scrubbed of
secrets, retries of what the client's own classification calls retryable (never after a
delta went out), and a cancel that returns at once (no delta after it).
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


class _Collected:
    """A streamed turn put together chunk by chunk."""

    def __init__(self) -> None:
        self.content: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.finish: str | None = None
        self.usage = Usage(1)
        self.emitted = False

    def take(self, chunk: Any, on_delta: Callable[[str], None], cancel: threading.Event | None) -> None:
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = Usage(1, int(getattr(usage, "prompt_tokens", 0) or 0),
                               int(getattr(usage, "completion_tokens", 0) or 0))
        for choice in getattr(chunk, "choices", None) or []:
            delta = getattr(choice, "delta", None)
            text = getattr(delta, "content", None) if delta is not None else None
            if text:
                self.content.append(text)
                if cancel is None or not cancel.is_set():
                    self.emitted = True
                    on_delta(text)
            for call in (getattr(delta, "tool_calls", None) or []) if delta is not None else []:
                slot = self.calls.setdefault(int(getattr(call, "index", 0) or 0), {"id": "", "name": "", "arguments": ""})
                slot["id"] = getattr(call, "id", None) or slot["id"]
                function = getattr(call, "function", None)
                if function is not None:
                    slot["name"] += getattr(function, "name", None) or ""
                    slot["arguments"] += getattr(function, "arguments", None) or ""
            if getattr(choice, "finish_reason", None):
                self.finish = choice.finish_reason

    def turn(self) -> AssistantTurn:
        calls = [ToolCall(c["id"] or f"call_{i}", c["name"], c["arguments"])
                 for i, c in sorted(self.calls.items()) if c["name"]]
        return AssistantTurn("".join(self.content), calls, self.finish, self.usage)


def _streamed(sdk: Any, kwargs: dict[str, Any], on_delta: Callable[[str], None], cancel: threading.Event | None,
              collected: _Collected) -> AssistantTurn:
    stream = sdk.chat.completions.create(**kwargs)
    try:
        for chunk in stream:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            collected.take(chunk, on_delta, cancel)
    finally:
        close = getattr(stream, "close", None)
        if callable(close):
            close()
    return collected.turn()


def _refuses_usage(error: ModelError) -> bool:
    return error.kind == "bad_request" and "stream_options" in error.message


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
    if on_delta is not None:
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
    attempts = max(0, int(getattr(client.settings, "max_retries", 0))) + 1
    attempt = 0
    while True:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        collected = _Collected()
        try:
            if on_delta is not None:
                return workers.run_cancellable(lambda c=collected: _streamed(sdk, kwargs, on_delta, cancel, c), cancel)
            response = workers.run_cancellable(lambda: sdk.chat.completions.create(**kwargs), cancel)
            return _turn(response, client.endpoint)
        except (Cancelled, ModelError):
            raise
        except Exception as exc:  # noqa: BLE001 - classified by the client, re-raised as ModelError
            error, retryable, wait = client._classify(exc, model, attempt + 1)
        if collected.emitted:  # a retry would repeat what the user saw
            raise error
        if "stream_options" in kwargs and _refuses_usage(error):
            del kwargs["stream_options"]  # an endpoint without usage in streams: the agent counts characters
            continue
        attempt += 1
        if not retryable or attempt >= attempts:
            raise error
        wait = wait if wait is not None else min(8.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.75, 1.25)
        if cancel is not None and cancel.wait(wait):
            raise Cancelled()
        if cancel is None:
            threading.Event().wait(wait)


__all__ = ["openai_tool_turn"]
