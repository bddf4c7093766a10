"""The LLM client: any OpenAI-compatible endpoint through the official ``openai`` SDK.

One synchronous client serves both the CLI and the (async) language server:

* :meth:`LLMClient.chat` — non-streaming chat completion with ``n`` candidates (endpoints
  that ignore ``n`` are asked again until ``n`` answers are in);
* :meth:`LLMClient.stream_chat` — a :class:`ChatStream` of text deltas, iterable with
  ``for`` (sync) or ``async for`` (async); cancellable through a ``threading.Event``, its
  :meth:`ChatStream.cancel`, or asyncio cancellation of the consuming task. The HTTP
  read runs in a helper thread, so a cancel stops the output at once even while the
  socket is blocked waiting for the next chunk;
* :meth:`LLMClient.complete` — fill-in-the-middle through ``/v1/completions`` with a
  ``suffix``; falls back to chat when the endpoint rejects it (remembered).

From async code, :func:`in_worker` runs one of these blocking calls in a single worker
thread that makes the HTTP requests itself (one thread hand-off each way); the awaiting
task returns as soon as the call is cancelled and leaves the thread to finish on its own.

Retries are ours, not the SDK's (it gets ``max_retries=0``): exponential backoff with
jitter on 5xx, timeouts and connection errors; 429 waits for ``Retry-After`` when it is
at most ``retry_after_cap`` seconds (else fails at once); no retry on other 4xx. Backoff
waits are cancellable.

Every failure is a :class:`ModelError` ``(kind, message)`` with a one-line message.
The API key (from the ``api_key`` argument, ``settings.api_key`` or the environment
variable named by ``settings.api_key_env``) is never logged, never put in a prompt
(message contents are scrubbed before sending) and never appears in an exception's
message. No pygls here.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import queue
import random
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import openai

log = logging.getLogger("codeloop.llm")

DEFAULT_BASE_URL = "https://api.openai.com/v1"

KINDS = (
    "not_configured",
    "auth",
    "unknown_model",
    "connection_refused",
    "timeout",
    "rate_limited",
    "server_error",
    "truncated_stream",
    "malformed",
    "empty",
    "bad_request",  # any other 4xx (context too long, bad parameter, wrong URL path)
)

NOT_CONFIGURED = (
    "no model configured: set codeloop.model.name and codeloop.model.baseUrl "
    "(or the environment variables CODELOOP_MODEL, OPENAI_BASE_URL and OPENAI_API_KEY); "
    "see docs/models.md"
)

# How often a blocked consumer re-checks a threading.Event it was given.
_POLL = 0.01
_MAX_DETAIL = 160


class ModelError(Exception):
    """A model call failed. ``kind`` is one of :data:`KINDS`; ``message`` is one line."""

    def __init__(self, kind: str, message: str, *, status: int | None = None) -> None:
        message = " ".join(str(message).split())
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status

    def __repr__(self) -> str:
        return f"ModelError({self.kind!r}, {self.message!r})"


class Cancelled(Exception):
    """The caller cancelled the call (not an error of the model)."""


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

    @property
    def configured(self) -> bool:
        return bool(self.name or self.chat_model or self.completion_model)


@dataclass
class Candidate:
    """One answer: its text, why it ended (``stop``, ``length``, ...), and how it was made."""

    text: str
    finish_reason: str | None = "stop"
    via: str = "chat"  # "chat" or "fim"


# --- secrets ------------------------------------------------------------------------------

_KEYLIKE = re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-]{8,}")


class Scrubber:
    """Removes the API key (and anything shaped like one) from text."""

    def __init__(self, secrets: Sequence[str | None] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _KEYLIKE.sub(r"\1-[redacted]", text)


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


# --- the client ---------------------------------------------------------------------------


class LLMClient:
    """A client for one configured endpoint. Thread-safe for concurrent calls."""

    def __init__(
        self,
        settings: ModelSettingsLike,
        *,
        api_key: str | None = None,
        environ: Mapping[str, str] | None = None,
        retry_after_cap: float = 30.0,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
    ) -> None:
        self.settings = settings
        env = os.environ if environ is None else environ
        key = api_key or getattr(settings, "api_key", None) or env.get(settings.api_key_env or "OPENAI_API_KEY")
        self._api_key: str | None = key or None
        self.scrub = Scrubber([self._api_key])
        self.base_url = (settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.endpoint = display_url(self.base_url)
        self.timeout = float(settings.timeout)
        self.max_retries = max(0, int(settings.max_retries))
        self.retry_after_cap = retry_after_cap
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.fim_supported: bool | None = None  # learnt on the first FIM call
        self._sdk: openai.OpenAI | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the key
        return f"LLMClient(endpoint={self.endpoint!r}, chat_model={self.chat_model!r})"

    # -- configuration ---------------------------------------------------------------
    @property
    def configured(self) -> bool:
        return bool(self.settings.configured)

    @property
    def has_key(self) -> bool:
        return self._api_key is not None

    @property
    def chat_model(self) -> str | None:
        return self.settings.chat_model or self.settings.name or self.settings.completion_model

    @property
    def completion_model(self) -> str | None:
        return self.settings.completion_model or self.settings.name or self.settings.chat_model

    def _client(self) -> openai.OpenAI:
        if not self.configured:
            raise ModelError("not_configured", NOT_CONFIGURED)
        with self._lock:
            if self._sdk is None:
                self._sdk = openai.OpenAI(
                    # Local servers (Ollama, llama.cpp, vLLM) accept any key; the SDK needs one.
                    api_key=self._api_key or "no-key",
                    base_url=self.base_url,
                    timeout=openai.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
                    max_retries=0,  # retries are ours (cancellable, capped Retry-After)
                )
            return self._sdk

    def close(self) -> None:
        with self._lock:
            if self._sdk is not None:
                self._sdk.close()
                self._sdk = None

    # -- public calls ----------------------------------------------------------------
    def chat(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        n: int | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        model: str | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Candidate]:
        """``n`` (default ``settings.candidates``) answers to ``messages``, non-streaming.

        Raises :class:`ModelError` (``empty`` when no answer has content) or
        :class:`Cancelled`.
        """
        client = self._client()
        want = max(1, int(n if n is not None else self.settings.candidates))
        model = model or self.chat_model
        kwargs = self._kwargs(model, temperature, max_tokens)
        kwargs["messages"] = self._clean_messages(messages)
        out: list[Candidate] = []
        calls = 0
        while len(out) < want and calls < want:
            missing = want - len(out)
            calls += 1
            try:
                response = self._with_retries(
                    lambda: client.chat.completions.create(**kwargs, **({"n": missing} if missing > 1 else {})),
                    cancel,
                    model,
                )
            except ModelError:
                if out:  # keep what we have from earlier calls
                    log.warning("model call for more candidates failed; keeping %d", len(out))
                    break
                raise
            choices = getattr(response, "choices", None)
            if choices is None:
                raise ModelError("malformed", f"the model endpoint {self.endpoint} sent a response without choices")
            got = 0
            for choice in choices:
                message = getattr(choice, "message", None)
                content = getattr(message, "content", None) if message is not None else None
                if isinstance(content, str) and content.strip():
                    out.append(Candidate(content, getattr(choice, "finish_reason", None), "chat"))
                    got += 1
            if got == 0:
                break
        if not out:
            raise ModelError("empty", f"the model {model!r} returned no answer (empty choices or content)")
        return out[:want]

    async def achat(self, messages: Sequence[Mapping[str, str]], **kwargs: Any) -> list[Candidate]:
        """:meth:`chat` in a worker thread; cancelling the awaiting task cancels the call."""
        return await in_worker(self.chat, messages, **kwargs)

    def stream_chat(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        model: str | None = None,
        cancel: threading.Event | None = None,
    ) -> ChatStream:
        """A :class:`ChatStream` of the answer's text deltas (starts when iterated)."""
        client = self._client()
        model = model or self.chat_model
        kwargs = self._kwargs(model, temperature, max_tokens)
        kwargs["messages"] = self._clean_messages(messages)
        kwargs["stream"] = True
        return ChatStream(self, lambda: client.chat.completions.create(**kwargs), model, "chat", cancel)

    def complete(
        self,
        prefix: str,
        suffix: str = "",
        *,
        max_tokens: int = 256,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
        model: str | None = None,
        cancel: threading.Event | None = None,
    ) -> Candidate:
        """Fill in the middle between ``prefix`` and ``suffix``.

        Uses ``/v1/completions`` with ``suffix``; when the endpoint rejects that (4xx other
        than auth/unknown model, or 501), asks the chat model instead and remembers it.
        An empty completion is a valid answer (nothing to insert).
        """
        client = self._client()
        model = model or self.completion_model
        if self.fim_supported is not False:
            kwargs = self._kwargs(model, temperature, max_tokens)
            kwargs["prompt"] = self.scrub(prefix)
            if suffix:
                kwargs["suffix"] = self.scrub(suffix)
            if stop:
                kwargs["stop"] = list(stop)
            try:
                response = self._with_retries(lambda: client.completions.create(**kwargs), cancel, model)
            except ModelError as exc:
                if exc.kind == "bad_request":  # 400/404 route/405/422/501: no FIM here
                    log.info("FIM through /completions not available (%s); using chat", exc.message)
                    self.fim_supported = False
                else:
                    raise
            else:
                self.fim_supported = True
                choices = getattr(response, "choices", None)
                if choices is None:
                    raise ModelError("malformed", f"the model endpoint {self.endpoint} sent a response without choices")
                if not choices:
                    raise ModelError("empty", f"the model {model!r} returned no completion (empty choices)")
                text = getattr(choices[0], "text", None) or ""
                return Candidate(text, getattr(choices[0], "finish_reason", None), "fim")
        return self._fim_by_chat(prefix, suffix, max_tokens, temperature, cancel)

    def list_models(self, cancel: threading.Event | None = None) -> list[str]:
        """Model ids the endpoint serves (``GET /models``)."""
        client = self._client()
        page = self._with_retries(lambda: client.models.list(), cancel, None)
        return [m.id for m in getattr(page, "data", None) or []]

    # -- internals -------------------------------------------------------------------
    def _kwargs(self, model: str | None, temperature: float | None, max_tokens: int | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": model,
            "temperature": float(self.settings.temperature if temperature is None else temperature),
        }
        if max_tokens is not None:
            kwargs["max_tokens"] = int(max_tokens)
        return kwargs

    def _clean_messages(self, messages: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
        return [{"role": str(m["role"]), "content": self.scrub(str(m.get("content") or ""))} for m in messages]

    def _fim_by_chat(self, prefix: str, suffix: str, max_tokens: int, temperature: float | None,
                     cancel: threading.Event | None) -> Candidate:
        messages = [
            {"role": "system", "content": (
                "You complete Python code. Reply with only the code that belongs at <CURSOR>: "
                "no explanation, no repetition of the surrounding code, no Markdown fences.")},
            {"role": "user", "content": f"{prefix[-6000:]}<CURSOR>{suffix[:2000]}"},
        ]
        candidates = self.chat(messages, n=1, temperature=temperature, max_tokens=max_tokens,
                               model=self.completion_model, cancel=cancel)
        first = candidates[0]
        return Candidate(strip_fences(first.text), first.finish_reason, "chat")

    def _with_retries(self, call: Callable[[], Any], cancel: threading.Event | None, model: str | None) -> Any:
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            try:
                return _run_cancellable(call, cancel)
            except Cancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below, re-raised as ModelError
                error, retryable, wait = self._classify(exc, model, attempt + 1)
            if not retryable or attempt == attempts - 1:
                raise error
            if wait is None:
                wait = min(self.backoff_max, self.backoff_base * (2**attempt)) * random.uniform(0.75, 1.25)
            log.info("model call failed (%s: %s); retry %d of %d in %.1f s",
                     error.kind, error.message, attempt + 1, self.max_retries, wait)
            if cancel is not None:
                if cancel.wait(wait):
                    raise Cancelled()
            else:
                time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _classify(self, exc: BaseException, model: str | None, attempts: int) -> tuple[ModelError, bool, float | None]:
        """(error, retryable, wait-before-retry or None for backoff)."""
        where = self.endpoint
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if isinstance(exc, ModelError):
            return exc, False, None
        if isinstance(exc, json.JSONDecodeError):
            return ModelError("malformed", f"the model endpoint {where} sent a malformed (non-JSON) response"), False, None
        if isinstance(exc, openai.APITimeoutError):
            return ModelError("timeout", f"the model endpoint {where} did not answer within {self.timeout:g} s"
                              f"{tries} (setting codeloop.model.timeout)"), True, None
        if isinstance(exc, openai.APIConnectionError):
            return ModelError("connection_refused", f"cannot connect to the model endpoint {where}{tries}: "
                              f"{_connection_reason(exc)}; is the server running? check codeloop.model.baseUrl"), True, None
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            detail = self._detail(exc)
            if status == 429:
                retry_after = _retry_after(exc.response.headers)
                if retry_after is not None and retry_after > self.retry_after_cap:
                    return ModelError("rate_limited", f"rate limited by the model endpoint {where} (HTTP 429); it asks "
                                      f"to wait {retry_after:.0f} s, try again later", status=429), False, None
                return ModelError("rate_limited", f"rate limited by the model endpoint {where} (HTTP 429){tries}; "
                                  "try again later", status=429), True, retry_after
            if status in (401, 403):
                if self._api_key is None:
                    msg = (f"the model endpoint {where} needs an API key (HTTP {status}) and none is set: put it in "
                           f"${self.settings.api_key_env} or use the command 'codeloop: Set API Key'")
                else:
                    msg = (f"the model endpoint {where} rejected the API key (HTTP {status}): check "
                           f"${self.settings.api_key_env} or the key set with 'codeloop: Set API Key'")
                return ModelError("auth", msg, status=status), False, None
            if _is_unknown_model(exc):
                return ModelError("unknown_model", f"unknown model {model!r} at {where}: check codeloop.model.name "
                                  f"(GET {where}/models lists the served models)", status=status), False, None
            if status == 404:
                return ModelError("bad_request", f"the model endpoint {where} has no such route (HTTP 404): check "
                                  "codeloop.model.baseUrl (it usually ends in /v1)", status=404), False, None
            if status == 501:
                return ModelError("bad_request", f"the model endpoint {where} does not support this request (HTTP 501)"
                                  f"{': ' + detail if detail else ''}", status=501), False, None
            if status >= 500:
                return ModelError("server_error", f"the model endpoint {where} failed with HTTP {status}{tries}"
                                  f"{': ' + detail if detail else ''}", status=status), True, None
            return ModelError("bad_request", f"the model endpoint {where} refused the request (HTTP {status})"
                              f"{': ' + detail if detail else ''}", status=status), False, None
        if isinstance(exc, openai.APIResponseValidationError):
            return ModelError("malformed", f"the model endpoint {where} sent a response of the wrong shape"), False, None
        if isinstance(exc, openai.APIError):
            detail = self._detail(exc)
            return ModelError("server_error", f"the model endpoint {where} reported an error"
                              f"{': ' + detail if detail else ''}"), False, None
        if isinstance(exc, openai.OpenAIError):
            return ModelError("server_error", f"model call failed: {self._short(str(exc))}"), False, None
        raise exc

    def _detail(self, exc: openai.APIError) -> str:
        message = ""
        body = getattr(exc, "body", None)
        if isinstance(body, Mapping):
            err = body.get("error", body)
            if isinstance(err, Mapping):
                message = str(err.get("message") or "")
            elif isinstance(err, str):
                message = err
        return self._short(message)

    def _short(self, text: str) -> str:
        text = " ".join(self.scrub(text).split())
        return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


# --- streaming ----------------------------------------------------------------------------

_DELTA, _END, _ERROR = "delta", "end", "error"


class ClientCache:
    """One :class:`LLMClient` for the current model settings (and key), replaced when they
    change, so a long-lived server keeps its connections warm between requests."""

    def __init__(self) -> None:
        self._client: LLMClient | None = None
        self._key: Any = None
        self._lock = threading.Lock()

    def get(self, model_settings: Any) -> LLMClient:
        key = (model_settings, getattr(model_settings, "api_key", None))
        with self._lock:
            if self._client is None or self._key != key:
                if self._client is not None:
                    self._client.close()
                self._client = LLMClient(model_settings)
                self._key = key
            return self._client


class ChatStream:
    """The deltas of one streamed answer.

    Iterate it once, with ``for`` or ``async for``. After the iteration ``text`` holds the
    whole answer and ``finish_reason`` is ``"stop"``, ``"length"``, ... or ``"cancelled"``.
    Failures raise :class:`ModelError` from the iteration (``truncated_stream`` when the
    stream was cut or ended without a finish reason); a cancel just ends the iteration.
    """

    def __init__(self, llm: LLMClient, open_stream: Callable[[], Any], model: str | None, kind: str,
                 cancel: threading.Event | None) -> None:
        self._llm = llm
        self._open = open_stream
        self._model = model
        self._kind = kind
        self._external = cancel
        self._stop = threading.Event()  # set when the consumer is gone or cancelled
        self._sink: Callable[[tuple[str, Any]], None] | None = None
        self._started = False
        self.text = ""
        self.finish_reason: str | None = None
        self.error: ModelError | None = None

    @property
    def cancelled(self) -> bool:
        return self.finish_reason == "cancelled"

    def cancel(self) -> None:
        """Stop now: no delta is yielded after this returns. Safe from any thread."""
        self._stop.set()
        sink = self._sink
        if sink is not None:
            sink(("cancel", None))

    def _is_cancelled(self) -> bool:
        return self._stop.is_set() or (self._external is not None and self._external.is_set())

    # -- the reader thread -----------------------------------------------------------
    def _start(self, sink: Callable[[tuple[str, Any]], None]) -> None:
        if self._started:
            raise RuntimeError("a ChatStream can be iterated only once")
        self._started = True
        self._sink = sink
        threading.Thread(target=self._read, args=(sink,), name="codeloop-llm-stream", daemon=True).start()

    def _read(self, sink: Callable[[tuple[str, Any]], None]) -> None:
        llm = self._llm
        stream = None
        try:
            stream = llm._with_retries(self._open, self._stop, self._model)
            finish: str | None = None
            got_text = saw_choice = False
            for chunk in stream:
                if self._is_cancelled():
                    return
                choices = getattr(chunk, "choices", None) or []
                if not choices:
                    continue
                saw_choice = True
                choice = choices[0]
                if self._kind == "chat":
                    delta = getattr(getattr(choice, "delta", None), "content", None)
                else:
                    delta = getattr(choice, "text", None)
                if delta:
                    got_text = True
                    sink((_DELTA, delta))
                if getattr(choice, "finish_reason", None):
                    finish = choice.finish_reason
            if self._is_cancelled():
                return
            if not saw_choice and not got_text:
                sink((_ERROR, ModelError("empty", f"the model {self._model!r} returned no answer (empty choices)")))
            elif finish is None:
                sink((_ERROR, ModelError("truncated_stream", f"the answer from {self._model!r} ended without a "
                                         "finish reason (the stream was truncated)")))
            elif not got_text:
                sink((_ERROR, ModelError("empty", f"the model {self._model!r} returned an empty answer")))
            else:
                sink((_END, finish))
        except Cancelled:
            return
        except Exception as exc:  # noqa: BLE001 - becomes a ModelError for the consumer
            if self._is_cancelled():
                return
            if stream is not None and isinstance(exc, openai.APIConnectionError) and not isinstance(
                    exc, openai.APITimeoutError):
                error = ModelError("truncated_stream", f"the answer from {self._model!r} was cut off mid-way "
                                   "(the connection closed before it finished)")
            elif stream is not None and isinstance(exc, openai.APITimeoutError):
                error = ModelError("timeout", f"the model endpoint {llm.endpoint} stopped sending for more than "
                                   f"{llm.timeout:g} s mid-answer (setting codeloop.model.timeout)")
            else:
                try:
                    error = llm._classify(exc, self._model, 1)[0]
                except Exception as other:  # noqa: BLE001 - an unexpected bug: still one line
                    error = ModelError("server_error", f"model call failed: {llm._short(repr(other))}")
            sink((_ERROR, error))
        finally:
            if stream is not None:
                try:
                    stream.close()
                except Exception:  # noqa: BLE001
                    pass

    # -- consumers -------------------------------------------------------------------
    # Both iterators (sync and async) share the checks below and differ only in how they
    # wait for the reader thread's next item.
    def _stopped(self) -> bool:
        """True (with ``finish_reason`` "cancelled") once the stream has been cancelled."""
        if self._is_cancelled():
            self.finish_reason = "cancelled"
            return True
        return False

    def _take(self, item: tuple[str, Any]) -> str | None:
        """Apply one item from the reader: the delta to yield, or None when the stream is
        over (ended or cancelled); a failure raises its ModelError."""
        if self._stopped():
            return None
        tag, value = item
        if tag == _DELTA:
            self.text += value
            return value
        if tag == _ERROR:
            self.finish_reason = "error"
            self.error = value
            raise value
        self.finish_reason = value if tag == _END else "cancelled"
        return None

    def __iter__(self) -> Iterator[str]:
        q: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._start(q.put)
        try:
            while not self._stopped():
                try:
                    item = q.get(timeout=_POLL) if self._external is not None else q.get()
                except queue.Empty:
                    continue
                delta = self._take(item)
                if delta is None:
                    return
                yield delta
        finally:
            self._stop.set()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        q: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def sink(item: tuple[str, Any]) -> None:
            try:
                loop.call_soon_threadsafe(q.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening
                self._stop.set()

        self._start(sink)
        getter: asyncio.Future[tuple[str, Any]] | None = None
        try:
            while not self._stopped():
                if getter is None:
                    getter = asyncio.ensure_future(q.get())
                # With an external threading.Event, wake up now and then to look at it.
                done, _ = await asyncio.wait({getter}, timeout=_POLL * 5 if self._external is not None else None)
                if not done:
                    continue
                item = getter.result()
                getter = None
                delta = self._take(item)
                if delta is None:
                    return
                yield delta
        except asyncio.CancelledError:
            self.finish_reason = "cancelled"
            raise
        finally:
            self._stop.set()
            if getter is not None:
                getter.cancel()


# --- helpers ------------------------------------------------------------------------------


# Set in the threads of :data:`_WORKERS`: their awaiting task already returns at once on a
# cancel, so a call there runs in the thread itself rather than in a helper thread.
_ABANDONABLE = threading.local()


class _Workers:
    """Daemon threads for :func:`in_worker`: an idle one takes the next call, a new one
    starts when none is idle, and one idle for ``idle_exit`` s ends. Not a
    ThreadPoolExecutor: its threads are joined at exit, and an abandoned call can hang
    until its timeout. (Starting a thread per call measured slower under load.)"""

    def __init__(self, idle_exit: float = 60.0) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()
        self._idle_exit = idle_exit

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:  # a job is queued only for a worker counted idle, under the lock
            if self._idle:
                self._idle -= 1
                self._jobs.put(job)
                return
        threading.Thread(target=self._run, args=(job,), name="codeloop-llm-call", daemon=True).start()

    def _run(self, job: Callable[[], None]) -> None:
        _ABANDONABLE.on = True
        while True:
            job()
            with self._lock:
                self._idle += 1
            while True:
                try:
                    job = self._jobs.get(timeout=self._idle_exit)
                    break
                except queue.Empty:
                    with self._lock:
                        if self._jobs.empty():  # nobody counted on this worker
                            self._idle -= 1
                            return


_WORKERS = _Workers()


async def in_worker(fn: Callable[..., Any], *args: Any, cancel: threading.Event | None = None, **kwargs: Any) -> Any:
    """``fn(*args, cancel=cancel, **kwargs)`` (a blocking call of :class:`LLMClient`, or a
    function around one) in one worker thread that makes the HTTP requests itself.

    The await raises :class:`Cancelled` within ``_POLL`` s of ``cancel`` being set, and
    :class:`asyncio.CancelledError` at once when the awaiting task is cancelled (which sets
    ``cancel``); either way the thread is abandoned: it finishes (or times out) on its own
    and its result is dropped. Retries, backoff and errors are the call's own, unchanged.
    """
    loop = asyncio.get_running_loop()
    cancel = threading.Event() if cancel is None else cancel
    future: asyncio.Future[Any] = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if not future.done():
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)

    def target() -> None:
        value, error = None, None
        try:
            value = fn(*args, cancel=cancel, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            error = exc
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:  # the loop is closed: nobody is waiting
            pass

    def watch() -> None:  # a timer, not asyncio.wait: that would add a loop round to every answer
        if future.done():
            return
        if cancel.is_set():
            future.set_exception(Cancelled())
        else:
            loop.call_later(_POLL, watch)

    _WORKERS.submit(target)
    loop.call_later(_POLL, watch)
    try:
        return await future
    except asyncio.CancelledError:
        cancel.set()
        raise


def _run_cancellable(call: Callable[[], Any], cancel: threading.Event | None) -> Any:
    """Run ``call``; with a cancel event, in a helper thread so a cancel returns at once
    (in a thread of :func:`in_worker`, right there: its awaiting task does not wait for it)."""
    if cancel is None or getattr(_ABANDONABLE, "on", False):
        return call()
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="codeloop-llm-call", daemon=True).start()
    while not done.wait(_POLL):
        if cancel.is_set():
            raise Cancelled()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date)."""
    try:
        if headers.get("retry-after-ms"):
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
    except ValueError:
        pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - time.time())


def _is_unknown_model(exc: openai.APIStatusError) -> bool:
    body = getattr(exc, "body", None)
    err = body.get("error", body) if isinstance(body, Mapping) else body
    code = str(err.get("code") or "") if isinstance(err, Mapping) else ""
    message = str(err.get("message") or "") if isinstance(err, Mapping) else str(err or "")
    if code == "model_not_found":
        return True
    if exc.status_code in (400, 404) and re.search(r"model", message, re.I) and re.search(
            r"not (be )?found|does not exist|unknown|no such|not available|try pulling", message, re.I):
        return True
    return False


def _connection_reason(exc: BaseException) -> str:
    seen = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ConnectionRefusedError):
            return "connection refused"
        text = str(cur).lower()
        if "refused" in text:
            return "connection refused"
        if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
            return "unknown host"
        cur = cur.__cause__ or cur.__context__
    return "connection failed"


_FENCE = re.compile(r"^\s*```[\w+-]*[ \t]*\n(.*?)\n?```\s*$", re.S)


def strip_fences(text: str) -> str:
    """The code inside a single Markdown fence, or the text as it is."""
    match = _FENCE.match(text)
    return match.group(1) if match else text
