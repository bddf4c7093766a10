"""The chat service: answer a question about Python code, streamed.

:func:`start` returns a :class:`ChatAnswer`, an iterable (``for`` or ``async for``) of
text deltas that never raises a model error: when it ends, ``finish_reason`` is
``"stop"``, ``"length"``, ``"cancelled"``, ``"error"`` (with a one-line ``error``) or
``"no_model"`` (the answer then explains how to configure a model and what works
offline). :func:`chat` is the blocking entry for a :class:`~codeloop.job.Job`;
:class:`ChatSessions` tracks the answers in flight by id for a long-lived front end.
The prompt is :mod:`codeloop.generate.chat_prompt`.
"""

from __future__ import annotations

import collections
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from codeloop.generate.chat_prompt import DEFAULT_BUDGET, ChatContext, Turn, build_messages
from codeloop.job import Job
from codeloop.model.client import ModelClient, TextStream
from codeloop.model.errors import ModelError

NO_MODEL_ANSWER = """\
No model is configured, so I cannot answer questions yet.

**To use a model**, set `codeloop.model.name` and `codeloop.model.baseUrl` (in the editor's \
settings or under `[tool.codeloop]` in `pyproject.toml`), or the environment variables \
`CODELOOP_MODEL`, `OPENAI_BASE_URL` and `OPENAI_API_KEY` before the server starts. In VS Code \
the key can be stored with **codeloop: Set API Key**. Any OpenAI-compatible endpoint works: \
OpenAI, Ollama, vLLM, llama.cpp server, LM Studio (examples in `docs/models.md`).

**What works offline, without a model:**
- intents and code actions: stubs, `TODO` comments and untested functions are found as you type;
- **Generate Tests** with the offline engine (inputs from type hints, docstrings and doctest \
examples, checked for coverage);
- **Run Tests** in the sandbox, with failures shown as diagnostics.
"""

EMPTY_QUESTION = "Ask a question about your code, or select some code and ask about it.\n"


# --- the answer ---------------------------------------------------------------------------


@dataclass
class ChatAnswer:
    """The streamed answer to one question. Iterate once (``for`` or ``async for``)."""

    stream: TextStream | None = None  # None: a canned answer (``canned``)
    canned: str = ""
    canned_reason: str = "stop"
    text: str = ""
    finish_reason: str | None = None
    error: str | None = None
    error_kind: str | None = None
    _cancel: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        """Stop the answer now (no further delta); ``finish_reason`` becomes ``cancelled``."""
        self._cancel.set()
        if self.stream is not None:
            self.stream.cancel()

    def _fail(self, exc: ModelError) -> None:
        self.finish_reason = "error"
        self.error = exc.message
        self.error_kind = exc.kind

    def _end(self) -> None:
        if self.stream is not None:
            self.finish_reason = self.stream.finish_reason or ("cancelled" if self._cancel.is_set() else "stop")
            if self.finish_reason == "error" and self.error is None:
                self.error = "the model call failed"
        if self._cancel.is_set():
            self.finish_reason = "cancelled"

    def _before_stream(self) -> Iterator[str] | None:
        """What to yield instead of the model's stream (None: stream it): nothing when the
        answer failed before streaming or was iterated already, else the canned answer."""
        if self.finish_reason is not None:
            return iter(())
        if self.stream is None:
            return self._canned_answer()
        return None

    def _canned_answer(self) -> Iterator[str]:
        for piece in re.findall(r"[^\n]*\n|[^\n]+", self.canned):  # a line at a time
            if self._cancel.is_set():
                self.finish_reason = "cancelled"
                return
            self.text += piece
            yield piece
        self.finish_reason = self.canned_reason

    def _take(self, delta: str) -> bool:
        """Record one streamed delta; False when cancelled (drop it and stop)."""
        if self._cancel.is_set():
            return False
        self.text += delta
        return True

    @contextmanager
    def _streaming(self) -> Iterator[None]:
        """Around the stream's iteration: a ModelError ends the answer as an error, a normal
        end sets ``finish_reason``; a consumer that stops early leaves it unset."""
        try:
            yield
        except ModelError as exc:
            self._fail(exc)
        else:
            self._end()

    def __iter__(self) -> Iterator[str]:
        pre = self._before_stream()
        if pre is not None:
            yield from pre
            return
        with self._streaming():
            for delta in self.stream:
                if not self._take(delta):
                    break
                yield delta

    async def __aiter__(self) -> AsyncIterator[str]:
        pre = self._before_stream()
        if pre is not None:
            for piece in pre:
                yield piece
            return
        with self._streaming():
            async for delta in self.stream:
                if not self._take(delta):
                    break
                yield delta


def answer(
    llm: ModelClient | None,
    message: str,
    history: Sequence[Turn] = (),
    context: ChatContext | None = None,
    *,
    budget: int = DEFAULT_BUDGET,
    max_tokens: int | None = None,
    cancel: threading.Event | None = None,
) -> ChatAnswer:
    """Start answering ``message``; iterate the result for the deltas.

    With no configured model the answer is :data:`NO_MODEL_ANSWER` (``no_model``). Model
    errors end the iteration with ``finish_reason == "error"`` and a one-line ``error``.
    ``cancel`` (e.g. a job's) stops the answer like :meth:`ChatAnswer.cancel`.
    """
    out = ChatAnswer() if cancel is None else ChatAnswer(_cancel=cancel)
    if llm is None or not llm.configured:
        out.canned, out.canned_reason = NO_MODEL_ANSWER, "no_model"
        return out
    if not message or not message.strip():
        out.canned = EMPTY_QUESTION
        return out
    if context is not None:  # an open .env or key is not sent (the agent's rule, codeloop.index.exclude)
        from codeloop.services.agent_context import without_excluded

        context = without_excluded(context, None)[0]
    messages = build_messages(message, history, context, budget=budget)
    try:
        out.stream = llm.stream_chat(messages, max_tokens=max_tokens, cancel=out._cancel)
    except ModelError as exc:
        out._fail(exc)
    return out


# --- the service entry --------------------------------------------------------------------


@dataclass
class ChatRequest:
    """One question: the message, the earlier turns and the editor's file/selection."""

    message: str
    history: list[Turn] = field(default_factory=list)
    context: ChatContext | None = None
    budget: int = DEFAULT_BUDGET
    max_tokens: int | None = None


@dataclass
class ChatOutcome:
    """How the answer ended: its whole text, ``finish_reason`` (``stop``, ``length``,
    ``cancelled``, ``error``, ``no_model``) and, for ``error``, a one-line message."""

    text: str
    finish_reason: str
    error: str | None = None
    error_kind: str | None = None


def start(request: ChatRequest, llm: ModelClient | None, cancel: threading.Event | None = None) -> ChatAnswer:
    """The streamed answer to ``request`` (``llm`` None: the no-model answer)."""
    return answer(llm, request.message, request.history, request.context, budget=request.budget,
                  max_tokens=request.max_tokens, cancel=cancel)


def outcome(ans: ChatAnswer) -> ChatOutcome:
    """The outcome of an answer that has been iterated (or stopped)."""
    reason = ans.finish_reason or "stop"
    error = (ans.error or "the model call failed") if reason == "error" else None
    return ChatOutcome(ans.text, reason, error, ans.error_kind if reason == "error" else None)


def chat(request: ChatRequest, job: Job, llm: ModelClient | None,
         on_delta: Callable[[str], None] | None = None) -> ChatOutcome:
    """Answer ``request`` (blocking), passing each delta to ``on_delta``; ``job.cancel``
    stops the answer, which then ends ``cancelled`` with what was said so far."""
    ans = start(request, llm, cancel=job.cancel)
    job.report("answering", 0.0)
    for delta in ans:
        if on_delta is not None:
            on_delta(delta)
    return outcome(ans)


class ChatSessions:
    """The answers in flight by chat id, for a front end that serves many chats: a new
    question with the same id replaces (cancels) the old answer, and a cancel that
    arrives before its question (a notification can overtake a request) still applies."""

    EARLY_CANCELS = 64

    def __init__(self) -> None:
        self.active: dict[str, ChatAnswer] = {}
        self.early_cancels: collections.OrderedDict[str, None] = collections.OrderedDict()

    def begin(self, chat_id: str, ans: ChatAnswer) -> None:
        previous = self.active.pop(chat_id, None)
        if previous is not None:
            previous.cancel()
        self.active[chat_id] = ans
        if chat_id in self.early_cancels:
            del self.early_cancels[chat_id]
            ans.cancel()

    def end(self, chat_id: str, ans: ChatAnswer) -> None:
        if self.active.get(chat_id) is ans:
            del self.active[chat_id]

    def cancel(self, chat_id: str) -> bool:
        """Cancel the answer ``chat_id``; False when it has not started (yet)."""
        ans = self.active.get(chat_id)
        if ans is None:
            self.early_cancels[chat_id] = None
            while len(self.early_cancels) > self.EARLY_CANCELS:
                self.early_cancels.popitem(last=False)
            return False
        ans.cancel()
        return True
