"""Tool calling: one assistant turn that may ask for tools, and whether a model can.

:func:`tool_turn` sends messages (``system``/``user``/``assistant`` with ``tool_calls``/
``tool``) and tool schemas (OpenAI's ``{"type": "function", "function": {...}}``) and
returns an :class:`AssistantTurn`: the text, the tool calls asked for, why it ended and the
tokens used. A provider that has its own ``tool_turn`` method is called through it; the
``openai`` provider through :mod:`codeloop.model.openai_tools`; any other raises a
``ModelError`` (the agent then uses its text protocol).

:class:`ToolSupport` remembers, per endpoint and model, whether the model calls tools:
:func:`supports_tools` asks once with a tiny request. A model is tool-capable unless that
request is refused with a 4xx or answered without any tool call (a call of any name
counts); other failures (timeouts, 5xx) are raised and not remembered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from codeloop.model.errors import ModelError
from codeloop.model.turns import AssistantTurn, ToolCall, Usage

Message = Mapping[str, Any]


def tool_turn(llm: Any, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]] | None, *,
              max_tokens: int | None = None, temperature: float | None = None,
              cancel: threading.Event | None = None, tool_choice: str | None = None,
              on_delta: Callable[[str], None] | None = None) -> AssistantTurn:
    """One turn of ``llm`` with ``tools`` offered (None or empty: none)."""
    own = getattr(llm, "tool_turn", None)
    if callable(own):
        return own(messages, tools, max_tokens=max_tokens, temperature=temperature, cancel=cancel,
                   tool_choice=tool_choice, on_delta=on_delta)
    from codeloop.model.openai_client import OpenAIClient

    if isinstance(llm, OpenAIClient):
        from codeloop.model.openai_tools import openai_tool_turn

        return openai_tool_turn(llm, messages, tools, max_tokens=max_tokens, temperature=temperature,
                                cancel=cancel, tool_choice=tool_choice, on_delta=on_delta)
    raise ModelError("bad_request", f"the model provider {type(llm).__name__} has no tool calling")


PROBE_TOOL = {"type": "function", "function": {
    "name": "ping", "description": "Answer the user's ping.", "parameters": {"type": "object", "properties": {}}}}
PROBE_MESSAGES = [
    {"role": "system", "content": "You are testing tool calls. Call the tool ping; write nothing else."},
    {"role": "user", "content": "ping"},
]


class ToolSupport:
    """Whether each (endpoint, model) calls tools, learnt once per process (or seeded)."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], bool] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(llm: Any) -> tuple[str, str]:
        return (str(getattr(llm, "endpoint", "")), str(getattr(llm, "chat_model", "") or ""))

    def known(self, llm: Any) -> bool | None:
        with self._lock:
            return self._known.get(self.key(llm))

    def remember(self, llm: Any, capable: bool) -> None:
        with self._lock:
            self._known[self.key(llm)] = capable


def supports_tools(llm: Any, support: ToolSupport, cancel: threading.Event | None = None) -> tuple[bool, Usage]:
    """Whether ``llm`` calls tools (asked once per model, then remembered), and what asking cost."""
    known = support.known(llm)
    if known is not None:
        return known, Usage()
    try:
        turn = tool_turn(llm, PROBE_MESSAGES, [PROBE_TOOL], max_tokens=64, temperature=0.0, cancel=cancel)
    except ModelError as exc:
        if exc.status is not None and 400 <= exc.status < 500 and exc.kind not in ("auth", "rate_limited"):
            support.remember(llm, False)
            return False, Usage(requests=1)
        if exc.kind == "bad_request" and exc.status is None:  # a provider without tool calling
            support.remember(llm, False)
            return False, Usage()
        raise
    capable = bool(turn.tool_calls)
    support.remember(llm, capable)
    return capable, turn.usage


__all__ = ["AssistantTurn", "ToolCall", "ToolSupport", "Usage", "supports_tools", "tool_turn"]
