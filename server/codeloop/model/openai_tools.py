"""Tool calling through the ``openai`` SDK for :class:`~codeloop.model.openai_client.OpenAIClient`.

Kept apart from the client: one request per assistant turn, every message's text and
every tool call's arguments scrubbed of secrets. The deadline, the retries and the
classification of failures are the client's own, not a copy:

* a whole turn (the tool-support probe) goes through the client's ``_with_retries``:
  ``model.timeout`` bounds the request, its retries and their waits;
* a streamed turn (the caller takes deltas) is a :class:`ChatStream` like any streamed
  chat: opening it is retried under the same rules, the first token (text or a tool
  call's delta) is due ``model.timeout`` s after the start, each next one as long after
  the last; a stream cut or stalled mid-way is an error, never retried (what the user saw
  would repeat). Text deltas go out as they come, tool-call deltas are put together in
  the reader thread. The usage is asked for with ``stream_options``; an endpoint that
  refuses it (HTTP 400 naming it) is asked again without, under the same deadline, and
  the client remembers that for its later turns.

A cancel returns at once, with no delta after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from codeloop.model.errors import Cancelled, ModelError
from codeloop.model.openai_stream import ChatStream
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
    """A streamed turn put together chunk by chunk (in the stream's reader thread)."""

    def __init__(self) -> None:
        self.calls: dict[int, dict[str, str]] = {}
        self.finish: str | None = None
        self.usage = Usage(1)

    def take(self, chunk: Any) -> bool:
        """Read the tool-call deltas, finish reason and usage of ``chunk``; True when it
        carried a tool call's delta (a token for the stream's clock)."""
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = Usage(1, int(getattr(usage, "prompt_tokens", 0) or 0),
                               int(getattr(usage, "completion_tokens", 0) or 0))
        carried = False
        for choice in getattr(chunk, "choices", None) or []:
            delta = getattr(choice, "delta", None)
            for call in (getattr(delta, "tool_calls", None) or []) if delta is not None else []:
                carried = True
                slot = self.calls.setdefault(int(getattr(call, "index", 0) or 0), {"id": "", "name": "", "arguments": ""})
                slot["id"] = getattr(call, "id", None) or slot["id"]
                function = getattr(call, "function", None)
                if function is not None:
                    slot["name"] += getattr(function, "name", None) or ""
                    slot["arguments"] += getattr(function, "arguments", None) or ""
            if getattr(choice, "finish_reason", None):
                self.finish = choice.finish_reason
        return carried

    def turn(self, text: str, finish: str | None) -> AssistantTurn:
        calls = [ToolCall(c["id"] or f"call_{i}", c["name"], c["arguments"])
                 for i, c in sorted(self.calls.items()) if c["name"]]
        return AssistantTurn(text, calls, finish or self.finish, self.usage)


def _refuses_usage(error: ModelError) -> bool:
    return error.kind == "bad_request" and "stream_options" in error.message


def _streamed(client: Any, sdk: Any, kwargs: dict[str, Any], on_delta: Callable[[str], None],
              cancel: threading.Event | None, due: float) -> AssistantTurn:
    collected = _Collected()
    # The SDK's per-read timeout stays model.timeout (as for a streamed chat): the stream's
    # own clock ends a wait for a token.
    stream = ChatStream(client, lambda _timeout: sdk.chat.completions.create(**kwargs), kwargs["model"], "chat",
                        cancel, on_chunk=collected.take, due=due)
    for delta in stream:
        on_delta(delta)
    if stream.cancelled:
        raise Cancelled()
    return collected.turn(stream.text, stream.finish_reason)


def openai_tool_turn(client: Any, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None,
                     *, max_tokens: int | None = None, temperature: float | None = None,
                     cancel: threading.Event | None = None, tool_choice: str | None = None,
                     on_delta: Callable[[str], None] | None = None) -> AssistantTurn:
    sdk = client._client()
    model = client.chat_model
    deadline = client._deadline()
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
    if on_delta is None:
        response = client._with_retries(lambda timeout: sdk.chat.completions.create(**kwargs, timeout=timeout),
                                        cancel, model, deadline)
        return _turn(response, client.endpoint)
    kwargs["stream"] = True
    if getattr(client, "stream_usage", None) is not False:
        kwargs["stream_options"] = {"include_usage": True}
    try:
        return _streamed(client, sdk, kwargs, on_delta, cancel, deadline)
    except ModelError as exc:
        if "stream_options" not in kwargs or not _refuses_usage(exc):
            raise
    client.stream_usage = False  # an endpoint without usage in streams: the agent counts characters
    del kwargs["stream_options"]
    return _streamed(client, sdk, kwargs, on_delta, cancel, deadline)


__all__ = ["openai_tool_turn"]
