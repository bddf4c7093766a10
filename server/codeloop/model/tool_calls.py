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

:meth:`ToolSupport.persistent` also keeps the answers in the user cache
(``$XDG_CACHE_HOME/codeloop/tool_support.json``, keyed by the endpoint without credentials
and the model), so ``codeloop ask`` and a new editor session do not ask again. An answer is
trusted for :data:`TTL` (a served model can change under the same name: a new chat
template, a server flag), and the agent asks again at once when a model remembered as
tool-capable refuses a request with tools. An unreadable file counts as empty.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from codeloop.fileio import atomic_write
from codeloop.model.errors import ModelError
from codeloop.model.turns import AssistantTurn, ToolCall, Usage
from codeloop.user_dirs import user_cache_dir

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


TTL = 7 * 24 * 3600.0  # seconds a remembered answer is trusted
log = logging.getLogger("codeloop.llm")


def tool_support_path() -> Path:
    """Where :meth:`ToolSupport.persistent` keeps its answers (the user cache)."""
    return user_cache_dir() / "tool_support.json"


class ToolSupport:
    """Whether each (endpoint, model) calls tools: learnt once per process, and with a
    ``path`` kept there across processes for ``ttl`` seconds."""

    def __init__(self, path: Path | None = None, ttl: float = TTL) -> None:
        self._known: dict[tuple[str, str], bool] = {}
        self._lock = threading.Lock()
        self.path = path
        self.ttl = ttl

    @classmethod
    def persistent(cls) -> ToolSupport:
        return cls(tool_support_path())

    @staticmethod
    def key(llm: Any) -> tuple[str, str]:
        # endpoint: the base URL without user:password@ (nothing secret goes to the file)
        return (str(getattr(llm, "endpoint", "")), str(getattr(llm, "chat_model", "") or ""))

    def known(self, llm: Any) -> bool | None:
        key = self.key(llm)
        with self._lock:
            if key in self._known:
                return self._known[key]
            entry = self._load().get(_file_key(key))
            if isinstance(entry, dict) and isinstance(entry.get("tools"), bool) and \
                    isinstance(entry.get("checked"), (int, float)) and 0 <= time.time() - entry["checked"] < self.ttl:
                self._known[key] = entry["tools"]
                return entry["tools"]
            return None

    def remember(self, llm: Any, capable: bool) -> None:
        key = self.key(llm)
        with self._lock:
            self._known[key] = capable
            self._store(key, {"tools": capable, "checked": time.time()})

    def forget(self, llm: Any) -> None:
        """Ask again next time (here and in the file)."""
        key = self.key(llm)
        with self._lock:
            self._known.pop(key, None)
            self._store(key, None)

    def _load(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("tool support cache %s unreadable (%s); asking the models again", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def _store(self, key: tuple[str, str], entry: dict[str, Any] | None) -> None:
        if self.path is None:
            return
        data = self._load()  # another process may have added models meanwhile
        if entry is None:
            data.pop(_file_key(key), None)
        else:
            data[_file_key(key)] = entry
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")
        except OSError as exc:  # a read-only cache: remembered for this process only
            log.warning("cannot write the tool support cache %s: %s", self.path, exc)


def _file_key(key: tuple[str, str]) -> str:
    return f"{key[0]} {key[1]}"


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


__all__ = ["TTL", "AssistantTurn", "ToolCall", "ToolSupport", "Usage", "supports_tools", "tool_support_path",
           "tool_turn"]
