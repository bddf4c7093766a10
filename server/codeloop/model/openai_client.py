"""The ``openai`` provider: any OpenAI-compatible endpoint through the official SDK.

One synchronous client serves both the CLI and the (async) language server:

* :meth:`OpenAIClient.chat` — non-streaming chat completion with ``n`` candidates
  (endpoints that ignore ``n`` are asked again until ``n`` answers are in);
* :meth:`OpenAIClient.stream_chat` — a :class:`~codeloop.model.openai_stream.ChatStream`
  of text deltas, iterable with ``for`` (sync) or ``async for`` (async); cancellable
  through a ``threading.Event``, its ``cancel()``, or asyncio cancellation of the
  consuming task;
* :meth:`OpenAIClient.complete` — fill-in-the-middle through ``/v1/completions`` with a
  ``suffix``; falls back to chat when the endpoint rejects it (remembered);
* :meth:`OpenAIClient.embed` — ``/v1/embeddings``.

One deadline per call: ``settings.timeout`` seconds from the start bound the whole
call, its retries, their waits and (for :meth:`chat`) the extra requests for missing
candidates; for a stream they bound the wait for the first token, then each gap between
tokens (a gap that long ends the stream as truncated, the text so far kept).

Retries are ours, not the SDK's (it gets ``max_retries=0``), at most
``settings.max_retries``, and only of what may pass and fits before the deadline: a 5xx
and a connection reset (exponential backoff with jitter), a 429 (after its
``Retry-After``, when that is at most ``retry_after_cap`` seconds). A timeout is never
retried (the deadline is spent); nor is a refused connection, an unknown host or another
4xx. Waits are cancellable.

Every failure is a :class:`~codeloop.model.errors.ModelError` with a one-line message.
The API key (from the ``api_key`` argument, ``settings.api_key`` or the environment
variable named by ``settings.api_key_env``) is never logged, never put in a prompt
(message contents go through :func:`codeloop.secrets.scrub`) and never appears in an
exception's message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import openai

from codeloop import secrets
from codeloop.model import workers
from codeloop.model.client import Candidate
from codeloop.model.errors import NOT_CONFIGURED, Cancelled, ModelError
from codeloop.model.fences import strip_fences
from codeloop.model.loop_http import LoopHttp
from codeloop.model.openai_errors import RESET, connection_reason, is_unknown_model, retry_after
from codeloop.model.openai_stream import ChatStream
from codeloop.model.settings import DEFAULT_BASE_URL, ModelSettingsLike, display_url

log = logging.getLogger("codeloop.llm")

_MAX_DETAIL = 160


class OpenAIClient:
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
        self._secrets: tuple[str, ...] = (self._api_key,) if self._api_key else ()
        self.base_url = (settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.endpoint = display_url(self.base_url)
        self.timeout = float(settings.timeout)
        self.max_retries = max(0, int(settings.max_retries))
        self.retry_after_cap = retry_after_cap
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.fim_supported: bool | None = None  # learnt on the first FIM call
        self.stream_usage: bool | None = None  # False once the endpoint refused stream_options (tool turns)
        self._sdk: openai.OpenAI | None = None
        self._http: LoopHttp | None | bool = False  # False: not made yet
        self._environ = env
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the key
        return f"OpenAIClient(endpoint={self.endpoint!r}, chat_model={self.chat_model!r})"

    def scrub(self, text: str) -> str:
        """``text`` without the key in use, registered secrets or key-like strings."""
        return secrets.scrub(text, self._secrets)

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
        return self._chat(messages, n, temperature, max_tokens, model, cancel, self._deadline())

    def _chat(self, messages: Sequence[Mapping[str, str]], n: int | None, temperature: float | None,
              max_tokens: int | None, model: str | None, cancel: threading.Event | None,
              deadline: float) -> list[Candidate]:
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
                    lambda timeout, missing=missing: client.chat.completions.create(
                        **kwargs, **({"n": missing} if missing > 1 else {}), timeout=timeout),
                    cancel, model, deadline)
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
        return await workers.in_worker(self.chat, messages, **kwargs)

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
        # The SDK's per-read timeout stays settings.timeout: the stream's own clock ends a
        # wait for a token (the time left would cut a long answer's later gaps short).
        return ChatStream(self, lambda _timeout: client.chat.completions.create(**kwargs), model, "chat", cancel)

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
        model = model or self.completion_model
        return self._complete(prefix, suffix, max_tokens, temperature, stop, model, cancel=cancel)

    def _complete(self, prefix: str, suffix: str, max_tokens: int, temperature: float | None,
                  stop: Sequence[str] | None, model: str | None, *, cancel: threading.Event | None,
                  deadline: float | None = None, attempts: int = 0) -> Candidate:
        """:meth:`complete` within ``deadline``, ``attempts`` of its tries already spent."""
        client = self._client()
        deadline = self._deadline() if deadline is None else deadline
        if self.fim_supported is not False:
            body = self._fim_body(prefix, suffix, max_tokens, temperature, stop, model)
            # The SDK's generic POST (its auth, base URL, timeouts and status errors), the answer
            # as text (every 1.x SDK returns ``cast_to=str`` as is): completions.create() spent a
            # third of an inline completion's CPU checking arguments and building typed objects
            # (bench/lsp/session8-inline.md).
            try:
                content = self._with_retries(
                    lambda timeout: client.post("/completions", cast_to=str, body=body, options={"timeout": timeout}),
                    cancel, model, deadline, attempts)
            except ModelError as exc:
                if exc.kind != "bad_request":
                    raise
                self._no_fim(exc)
            else:
                self.fim_supported = True
                return self._fim_candidate(content, model)
        return self._fim_by_chat(prefix, suffix, max_tokens, temperature, cancel, deadline)

    async def acomplete(self, prefix: str, suffix: str = "", *, max_tokens: int = 256,
                        temperature: float | None = None, stop: Sequence[str] | None = None,
                        model: str | None = None, cancel: threading.Event | None = None) -> Candidate:
        """:meth:`complete` from async code. Its first try runs on the running loop itself when
        the endpoint allows (:mod:`codeloop.model.loop_http`: plain http, no proxy); what
        follows a failed try (the retries, the chat fallback) and every other endpoint, in
        a worker thread. The deadline, the retry rules and the errors are :meth:`complete`'s."""
        model = model or self.completion_model
        http = self._loop_http() if self.fim_supported is not False else None
        deadline = self._deadline()
        args = (prefix, suffix, max_tokens, temperature, stop, model)
        if http is None:
            return await workers.in_worker(self._complete, *args, deadline=deadline, cancel=cancel)
        body = json.dumps(self._fim_body(*args)).encode()
        try:
            answer = await workers.bounded(http.post("/completions", body, self._headers()), cancel, deadline)
        except TimeoutError:
            raise self._timed_out(1) from None
        except OSError as exc:
            failure = self._connection_failure(connection_reason(exc), 1)
        else:
            if answer.status == 200:
                self.fim_supported = True
                return self._fim_candidate(answer.body.decode("utf-8", "replace"), model)
            failure = self._status_failure(answer.status, answer.headers, _json_or_none(answer.body), model, 1)
            if failure[0].kind == "bad_request":
                self._no_fim(failure[0])
                return await workers.in_worker(self._complete, *args, deadline=deadline, cancel=cancel)
        wait = self._retry_wait(failure, 1, deadline)
        await workers.bounded(asyncio.sleep(wait), cancel, deadline)
        return await workers.in_worker(self._complete, *args, deadline=deadline, attempts=1, cancel=cancel)

    def _loop_http(self) -> LoopHttp | None:
        """The on-loop transport for this endpoint (None: the SDK's), made once."""
        if not self.configured:
            raise ModelError("not_configured", NOT_CONFIGURED)
        if self._http is False:  # a header value outside printable ASCII: the SDK's to refuse or send
            usable = all(value.isascii() and value.isprintable() for value in self._headers().values())
            self._http = (LoopHttp.for_base_url(self.base_url, self._environ) if usable else None) or None
        return self._http

    def _headers(self) -> dict[str, str]:
        """What the SDK sends besides the body's own headers: the key, the organisation and project."""
        headers = {"Authorization": f"Bearer {self._api_key or 'no-key'}", "User-Agent": "codeloop"}
        for header, variable in (("OpenAI-Organization", "OPENAI_ORG_ID"), ("OpenAI-Project", "OPENAI_PROJECT_ID")):
            if self._environ.get(variable):
                headers[header] = self._environ[variable]
        return headers

    def _fim_body(self, prefix: str, suffix: str, max_tokens: int, temperature: float | None,
                  stop: Sequence[str] | None, model: str | None) -> dict[str, Any]:
        body = self._kwargs(model, temperature, max_tokens)
        body["prompt"] = self.scrub(prefix)
        if suffix:
            body["suffix"] = self.scrub(suffix)
        if stop:
            body["stop"] = list(stop)
        return body

    def _no_fim(self, exc: ModelError) -> None:
        """The endpoint refused a FIM request (400/404 route/405/422/501): chat from now on."""
        log.info("FIM through /completions not available (%s); using chat", exc.message)
        self.fim_supported = False

    def _fim_candidate(self, content: str, model: str | None) -> Candidate:
        """The first choice of a ``/completions`` answer."""
        try:
            data = json.loads(content)
        except ValueError:
            raise ModelError("malformed", f"the model endpoint {self.endpoint} sent a malformed (non-JSON) response") from None
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list):
            raise ModelError("malformed", f"the model endpoint {self.endpoint} sent a response without choices")
        if not choices:
            raise ModelError("empty", f"the model {model!r} returned no completion (empty choices)")
        first = choices[0] if isinstance(choices[0], dict) else {}
        text = first.get("text")
        return Candidate(text if isinstance(text, str) else "", first.get("finish_reason"), "fim")

    def embed(self, texts: Sequence[str], *, model: str | None = None,
              cancel: threading.Event | None = None) -> list[list[float]]:
        """One embedding vector per text (``/v1/embeddings``), in order."""
        client = self._client()
        model = model or self.settings.name or self.chat_model
        inputs = [self.scrub(t) for t in texts]
        response = self._with_retries(lambda timeout: client.embeddings.create(model=model, input=inputs, timeout=timeout),
                                      cancel, model, self._deadline())
        data = getattr(response, "data", None)
        if data is None:
            raise ModelError("malformed", f"the model endpoint {self.endpoint} sent a response without data")
        return [list(item.embedding) for item in sorted(data, key=lambda item: item.index)]

    def list_models(self, cancel: threading.Event | None = None) -> list[str]:
        """Model ids the endpoint serves (``GET /models``)."""
        client = self._client()
        page = self._with_retries(lambda timeout: client.models.list(timeout=timeout), cancel, None, self._deadline())
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
                     cancel: threading.Event | None, deadline: float) -> Candidate:
        messages = [
            {"role": "system", "content": (
                "You complete Python code. Reply with only the code that belongs at <CURSOR>: "
                "no explanation, no repetition of the surrounding code, no Markdown fences.")},
            {"role": "user", "content": f"{prefix[-6000:]}<CURSOR>{suffix[:2000]}"},
        ]
        candidates = self._chat(messages, 1, temperature, max_tokens, self.completion_model, cancel, deadline)
        first = candidates[0]
        return Candidate(strip_fences(first.text), first.finish_reason, "chat")

    def _deadline(self) -> float:
        """When a call starting now must be over (``time.monotonic()``)."""
        return time.monotonic() + self.timeout

    def _with_retries(self, call: Callable[[openai.Timeout], Any], cancel: threading.Event | None,
                      model: str | None, deadline: float, attempt: int = 0) -> Any:
        """``call(timeout)`` until it answers, fails in a way not worth retrying, has been
        retried ``max_retries`` times, or would run past ``deadline``. ``timeout`` is the
        time left, for the SDK (per connect and per read). ``attempt``: tries already spent."""
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            left = deadline - time.monotonic()
            if left <= 0:  # only after a wait that ate the last of the time
                raise self._timed_out(attempt)
            attempt += 1
            budget = openai.Timeout(left, connect=min(left, 10.0))
            try:
                return workers.run_cancellable(lambda budget=budget: call(budget), cancel, deadline)
            except Cancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below, re-raised as ModelError
                failure = self._classify(exc, model, attempt)
            wait = self._retry_wait(failure, attempt, deadline)
            if cancel is not None:
                if cancel.wait(wait):
                    raise Cancelled()
            else:
                time.sleep(wait)

    def _retry_wait(self, failure: tuple[ModelError, bool, float | None], attempt: int, deadline: float) -> float:
        """How long to wait before trying again after ``attempt`` tries ended in ``failure``
        (:meth:`_classify`); raises its error when it is not worth another try."""
        error, retryable, wait = failure
        if not retryable or attempt > self.max_retries:
            raise error
        asked = wait is not None  # the endpoint's Retry-After
        if wait is None:
            wait = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1))) * random.uniform(0.75, 1.25)
        if wait >= deadline - time.monotonic():  # no time to wait and ask again
            if asked:
                raise ModelError("rate_limited", f"rate limited by the model endpoint {self.endpoint} (HTTP 429); "
                                 f"it asks to wait {wait:.0f} s, past this request's {self.timeout:g} s (setting "
                                 "codeloop.model.timeout); try again later", status=429)
            raise error
        log.info("model call failed (%s: %s); retry %d of %d in %.1f s",
                 error.kind, error.message, attempt, self.max_retries, wait)
        return wait

    def _timed_out(self, attempts: int) -> ModelError:
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        return ModelError("timeout", f"the model endpoint {self.endpoint} did not answer within {self.timeout:g} s"
                          f"{tries} (setting codeloop.model.timeout)")

    def _classify(self, exc: BaseException, model: str | None, attempts: int) -> tuple[ModelError, bool, float | None]:
        """(error, retryable, wait-before-retry or None for backoff)."""
        where = self.endpoint
        if isinstance(exc, ModelError):
            return exc, False, None
        if isinstance(exc, json.JSONDecodeError):
            return ModelError("malformed", f"the model endpoint {where} sent a malformed (non-JSON) response"), False, None
        if isinstance(exc, (openai.APITimeoutError, workers.Overdue)):  # the deadline is spent: no retry
            return self._timed_out(attempts), False, None
        if isinstance(exc, openai.APIConnectionError):
            return self._connection_failure(connection_reason(exc), attempts)
        if isinstance(exc, openai.APIStatusError):
            return self._status_failure(exc.status_code, exc.response.headers, exc.body, model, attempts)
        if isinstance(exc, openai.APIResponseValidationError):
            return ModelError("malformed", f"the model endpoint {where} sent a response of the wrong shape"), False, None
        if isinstance(exc, openai.APIError):
            detail = self._detail(getattr(exc, "body", None))
            return ModelError("server_error", f"the model endpoint {where} reported an error"
                              f"{': ' + detail if detail else ''}"), False, None
        if isinstance(exc, openai.OpenAIError):
            return ModelError("server_error", f"model call failed: {self._short(str(exc))}"), False, None
        raise exc

    def _connection_failure(self, reason: str, attempts: int) -> tuple[ModelError, bool, float | None]:
        """A connection that failed for ``reason`` (:func:`connection_reason`): only a reset is retried."""
        where = self.endpoint
        if reason == RESET:
            tries = f" after {attempts} attempts" if attempts > 1 else ""
            return ModelError("connection_reset", f"the model endpoint {where} closed the connection without an "
                              f"answer{tries} (connection reset)"), True, None
        return ModelError("connection_refused", f"cannot connect to the model endpoint {where}: {reason}; is the "
                          "server running? check codeloop.model.baseUrl"), False, None

    def _status_failure(self, status: int, headers: Mapping[str, str], body: object, model: str | None,
                        attempts: int) -> tuple[ModelError, bool, float | None]:
        """An answer with an error status (``body``: its JSON, or the ``error`` object in it)."""
        where = self.endpoint
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        detail = self._detail(body)
        if status == 429:
            wait = retry_after(headers)
            if wait is not None and wait > self.retry_after_cap:
                return ModelError("rate_limited", f"rate limited by the model endpoint {where} (HTTP 429); it asks "
                                  f"to wait {wait:.0f} s, try again later", status=429), False, None
            return ModelError("rate_limited", f"rate limited by the model endpoint {where} (HTTP 429){tries}; "
                              "try again later", status=429), True, wait
        if status in (401, 403):
            if self._api_key is None:
                msg = (f"the model endpoint {where} needs an API key (HTTP {status}) and none is set: put it in "
                       f"${self.settings.api_key_env} or use the command 'codeloop: Set API Key'")
            else:
                msg = (f"the model endpoint {where} rejected the API key (HTTP {status}): check "
                       f"${self.settings.api_key_env} or the key set with 'codeloop: Set API Key'")
            return ModelError("auth", msg, status=status), False, None
        if is_unknown_model(status, body):
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

    def _detail(self, body: object) -> str:
        """The error message in an answer's JSON body, short and scrubbed."""
        message = ""
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


def _json_or_none(data: bytes) -> object:
    """An error answer's JSON (what the SDK keeps of it), or None."""
    try:
        return json.loads(data)
    except ValueError:
        return None
