"""The LLM client against the fake OpenAI-compatible server, through the real openai SDK."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest

from codeloop.model.client import Candidate
from codeloop.model.errors import ModelError
from codeloop.model.fences import strip_fences
from codeloop.model.openai_client import OpenAIClient
from codeloop.model.settings import ModelConfig
from support.fake_openai import Reply
from support.llm import CANARY, make

MSGS = [{"role": "user", "content": "Say hi."}]


def one_line(exc: ModelError) -> None:
    assert exc.message and "\n" not in exc.message and str(exc) == exc.message
    assert CANARY not in exc.message and CANARY not in repr(exc)


# --- success ------------------------------------------------------------------------------


def test_chat_returns_n_candidates(fake_openai):
    fake_openai.add_chat(Reply.text("a = 1", "a = 2", "a = 3"))
    got = make(fake_openai).chat(MSGS, n=3)
    assert [c.text for c in got] == ["a = 1", "a = 2", "a = 3"]
    assert all(c.finish_reason == "stop" and c.via == "chat" for c in got)
    (req,) = fake_openai.requests_to("/chat/completions")
    assert req.body["n"] == 3 and req.body["model"] == "fake-model" and req.body["messages"] == MSGS
    assert "stream" not in req.body or not req.body["stream"]


def test_chat_asks_again_when_the_endpoint_ignores_n(fake_openai):
    fake_openai.add_chat("one", "two", "three")  # each request answers with a single choice
    got = make(fake_openai).chat(MSGS, n=3)
    assert [c.text for c in got] == ["one", "two", "three"]
    assert [r.body.get("n") for r in fake_openai.requests_to("/chat/completions")] == [3, 2, None]


def test_chat_uses_settings_defaults(fake_openai):
    fake_openai.add_chat(Reply.text("x", "y"))
    got = make(fake_openai, candidates=2, temperature=0.7, chat_model="chatty").chat(MSGS)
    assert len(got) == 2
    body = fake_openai.requests_to("/chat/completions")[0].body
    assert body["temperature"] == 0.7 and body["model"] == "chatty"


def test_stream_yields_deltas_and_finish_reason(fake_openai):
    fake_openai.add_chat(Reply.text("Hello there, world", finish_reason="length"))
    stream = make(fake_openai).stream_chat(MSGS)
    deltas = list(stream)
    assert len(deltas) == 3 and "".join(deltas) == "Hello there, world"
    assert stream.text == "Hello there, world" and stream.finish_reason == "length"
    assert fake_openai.requests_to("/chat/completions")[0].body["stream"] is True


async def test_stream_async(fake_openai):
    fake_openai.add_chat("async answer here")
    stream = make(fake_openai).stream_chat(MSGS)
    deltas = [d async for d in stream]
    assert "".join(deltas) == "async answer here" and stream.finish_reason == "stop"


async def test_achat(fake_openai):
    fake_openai.add_chat(Reply.text("p", "q"))
    got = await make(fake_openai).achat(MSGS, n=2)
    assert [c.text for c in got] == ["p", "q"]


def test_fim_through_completions_with_suffix(fake_openai):
    fake_openai.add_completion("    return a + b\n")
    client = make(fake_openai, completion_model="coder")
    got = client.complete("def add(a, b):\n", "\nprint(add(1, 2))\n", max_tokens=64, stop=["\ndef "])
    assert got == Candidate("    return a + b\n", "stop", "fim") and client.fim_supported is True
    (req,) = fake_openai.requests_to("/v1/completions")
    assert req.body["prompt"] == "def add(a, b):\n" and req.body["suffix"] == "\nprint(add(1, 2))\n"
    assert req.body["model"] == "coder" and req.body["max_tokens"] == 64 and req.body["stop"] == ["\ndef "]


def test_fim_falls_back_to_chat_when_suffix_is_rejected(fake_openai):
    fake_openai.add_completion(Reply.error(400, "suffix is not supported"))
    fake_openai.add_chat("```python\n    return a + b\n```", "    return a * b")
    client = make(fake_openai)
    first = client.complete("def add(a, b):\n", "\n")
    assert first.via == "chat" and first.text == "    return a + b" and client.fim_supported is False
    second = client.complete("def mul(a, b):\n", "\n")  # straight to chat: remembered
    assert second.text == "    return a * b"
    assert len(fake_openai.requests_to("/v1/completions")) == 1
    prompt = fake_openai.requests_to("/chat/completions")[0].body["messages"][-1]["content"]
    assert "def add(a, b):\n<CURSOR>\n" in prompt


def test_fim_falls_back_on_501_without_retrying(fake_openai):
    fake_openai.add_completion(Reply.error(501, "not implemented"))
    fake_openai.add_chat("pass")
    got = make(fake_openai, max_retries=3).complete("def f():\n    ", "")
    assert got.via == "chat" and got.text == "pass"
    assert len(fake_openai.requests_to("/v1/completions")) == 1


def test_list_models(fake_openai):
    fake_openai.models = ["m1", "m2"]
    assert make(fake_openai).list_models() == ["m1", "m2"]


def test_strip_fences():
    assert strip_fences("```py\nx = 1\n```") == "x = 1"
    assert strip_fences("x = 1") == "x = 1"


# --- faults -------------------------------------------------------------------------------

FAULTS = [
    pytest.param(Reply.error(500, "boom"), "server_error", id="500"),
    pytest.param(Reply.unauthorized(), "auth", id="401"),
    pytest.param(Reply.error(403, "forbidden"), "auth", id="403"),
    pytest.param(Reply.unknown_model("fake-model"), "unknown_model", id="404-model"),
    pytest.param(Reply.error(404, "no route"), "bad_request", id="404-route"),
    pytest.param(Reply.error(400, "context length exceeded\nsecond line"), "bad_request", id="400"),
    pytest.param(Reply.rate_limited(retry_after=600), "rate_limited", id="429-long"),
    pytest.param(Reply.malformed(), "malformed", id="malformed"),
    pytest.param(Reply.empty_choices(), "empty", id="empty-choices"),
    pytest.param(Reply.text(""), "empty", id="empty-content"),
]


@pytest.mark.parametrize("reply,kind", FAULTS)
def test_chat_faults(fake_openai, reply, kind):
    fake_openai.add_chat(reply)
    with pytest.raises(ModelError) as info:
        make(fake_openai).chat(MSGS, n=1)
    assert info.value.kind == kind
    one_line(info.value)


STREAM_FAULTS = [
    *FAULTS[:7],
    pytest.param(Reply.cut(after=2), "truncated_stream", id="cut"),
    pytest.param(Reply.no_finish(), "truncated_stream", id="no-finish"),
    pytest.param(Reply.no_finish(done=True), "truncated_stream", id="no-finish-done"),
    pytest.param(Reply.malformed_stream(after=2), "malformed", id="malformed-stream"),
    pytest.param(Reply.empty_choices(), "empty", id="empty-choices"),
]


@pytest.mark.parametrize("reply,kind", STREAM_FAULTS)
def test_stream_faults(fake_openai, reply, kind):
    fake_openai.add_chat(reply)
    stream = make(fake_openai).stream_chat(MSGS)
    with pytest.raises(ModelError) as info:
        for _ in stream:
            pass
    assert info.value.kind == kind and stream.finish_reason == "error" and stream.error is info.value
    one_line(info.value)


def test_fim_unknown_model_does_not_fall_back(fake_openai):
    fake_openai.add_completion(Reply.unknown_model("coder"))
    with pytest.raises(ModelError) as info:
        make(fake_openai, completion_model="coder").complete("x = ", "")
    assert info.value.kind == "unknown_model" and "'coder'" in info.value.message
    assert not fake_openai.requests_to("/chat/completions")


def test_not_configured_says_how():
    client = OpenAIClient(ModelConfig(), environ={})
    assert not client.configured
    with pytest.raises(ModelError) as info:
        client.chat(MSGS)
    assert info.value.kind == "not_configured"
    for hint in ("codeloop.model.name", "codeloop.model.baseUrl", "CODELOOP_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        assert hint in info.value.message


def test_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = OpenAIClient(ModelConfig(base_url=f"http://127.0.0.1:{port}/v1", name="m", max_retries=0), api_key=CANARY)
    with pytest.raises(ModelError) as info:
        client.chat(MSGS)
    assert info.value.kind == "connection_refused" and "connection refused" in info.value.message
    assert f"127.0.0.1:{port}" in info.value.message
    one_line(info.value)


def test_hang_past_the_timeout(fake_openai):
    fake_openai.add_chat(Reply.hang(30))
    t0 = time.monotonic()
    with pytest.raises(ModelError) as info:
        make(fake_openai, timeout=0.5).chat(MSGS)
    assert info.value.kind == "timeout" and "0.5 s" in info.value.message
    assert time.monotonic() - t0 < 10
    one_line(info.value)


def test_stream_stalling_mid_answer_is_truncated(fake_openai):
    fake_openai.add_chat(Reply.slow("ab", chunk_delay=30))
    stream = make(fake_openai, timeout=0.5).stream_chat(MSGS)
    with pytest.raises(ModelError) as info:
        list(stream)
    assert info.value.kind == "truncated_stream" and stream.text == "a"


# --- retries ------------------------------------------------------------------------------


def test_retry_on_500_then_success(fake_openai):
    fake_openai.add_chat(Reply.error(500), Reply.error(502, "bad gateway"), "finally")
    got = make(fake_openai, max_retries=2).chat(MSGS, n=1)
    assert got[0].text == "finally"
    assert len(fake_openai.requests_to("/chat/completions")) == 3


def test_retries_exhausted_reports_attempts(fake_openai):
    fake_openai.add_chat(Reply.error(500, "boom"), Reply.error(500, "boom"))
    with pytest.raises(ModelError) as info:
        make(fake_openai, max_retries=1).chat(MSGS)
    assert info.value.kind == "server_error" and "after 2 attempts" in info.value.message
    assert "boom" in info.value.message


def test_no_retry_on_4xx(fake_openai):
    fake_openai.add_chat(Reply.unauthorized(), "never reached")
    with pytest.raises(ModelError):
        make(fake_openai, max_retries=3).chat(MSGS)
    assert len(fake_openai.requests_to("/chat/completions")) == 1


def test_429_retry_after_is_honoured(fake_openai):
    fake_openai.add_chat(Reply.rate_limited(retry_after=1), "after the wait")
    t0 = time.monotonic()
    got = make(fake_openai, max_retries=1).chat(MSGS, n=1)
    waited = time.monotonic() - t0
    assert got[0].text == "after the wait"
    assert waited >= 0.9  # the server asked for 1 s
    assert len(fake_openai.requests_to("/chat/completions")) == 2


def test_429_retry_after_over_the_cap_fails_at_once(fake_openai):
    fake_openai.add_chat(Reply.rate_limited(retry_after=120), "never reached")
    with pytest.raises(ModelError) as info:
        make(fake_openai, max_retries=3, retry_after_cap=5).chat(MSGS)
    assert info.value.kind == "rate_limited" and "120 s" in info.value.message
    assert len(fake_openai.requests_to("/chat/completions")) == 1


def test_stream_retries_before_the_first_delta(fake_openai):
    fake_openai.add_chat(Reply.error(503), "streamed after retry")
    stream = make(fake_openai, max_retries=1).stream_chat(MSGS)
    assert "".join(stream) == "streamed after retry"


# --- cancellation -------------------------------------------------------------------------


def test_cancel_mid_stream_stops_the_output(fake_openai):
    fake_openai.add_chat(Reply.slow("abcdefghijklmnopqrst", chunk_delay=0.3))
    cancel = threading.Event()
    stream = make(fake_openai).stream_chat(MSGS, cancel=cancel)
    after: list[str] = []
    cancelled_at = None
    for delta in stream:
        if cancelled_at is not None:
            after.append(delta)
        elif delta == "a":
            threading.Timer(0.1, cancel.set).start()
            cancelled_at = time.monotonic()
    ended = time.monotonic() - (cancelled_at + 0.1)
    assert after == [] or after == ["b"]  # "b" may legitimately arrive before the timer fires
    assert stream.finish_reason == "cancelled" and stream.cancelled
    assert ended < 1.0, f"cancel took {ended:.3f} s"


def test_cancel_method_stops_a_blocked_consumer(fake_openai):
    fake_openai.add_chat(Reply.slow("abc", chunk_delay=10))
    stream = make(fake_openai).stream_chat(MSGS)
    it = iter(stream)
    assert next(it) == "a"
    threading.Timer(0.05, stream.cancel).start()
    t0 = time.monotonic()
    assert list(it) == []
    assert time.monotonic() - t0 < 1.0
    assert stream.finish_reason == "cancelled"


async def test_asyncio_cancellation_stops_the_stream(fake_openai):
    fake_openai.add_chat(Reply.slow("abcdef", chunk_delay=10))
    stream = make(fake_openai).stream_chat(MSGS)
    seen: list[str] = []

    async def consume():
        async for delta in stream:
            seen.append(delta)

    task = asyncio.create_task(consume())
    while not seen:
        await asyncio.sleep(0.01)
    t0 = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - t0 < 1.0
    assert seen == ["a"] and stream.finish_reason == "cancelled"


def test_cancel_during_backoff(fake_openai):
    fake_openai.add_chat(Reply.rate_limited(retry_after=20), "never")
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    from codeloop.model.errors import Cancelled

    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        make(fake_openai, max_retries=1, retry_after_cap=30, timeout=60).chat(MSGS, cancel=cancel)
    assert time.monotonic() - t0 < 5


# --- the key ------------------------------------------------------------------------------


def test_key_never_leaks(fake_openai, caplog):
    caplog.set_level(logging.DEBUG)
    fake_openai.add_chat(
        "fine",
        Reply.unauthorized(f"Incorrect API key provided: {CANARY}"),
        Reply.error(500, f"echo {CANARY}"),
    )
    fake_openai.add_completion(Reply.error(400, f"bad {CANARY}"))
    fake_openai.add_chat("fallback")
    client = make(fake_openai, max_retries=0)
    client.chat([{"role": "user", "content": f"my .env says OPENAI_API_KEY={CANARY}"}], n=1)
    errors = []
    for _ in range(2):
        with pytest.raises(ModelError) as info:
            client.chat(MSGS, n=1)
        errors.append(info.value)
    client.complete(f"key = '{CANARY}'\n", f"# {CANARY}")
    assert [e.kind for e in errors] == ["auth", "server_error"]
    for e in errors:
        one_line(e)
    assert "[redacted]" in errors[1].message
    # sent as the bearer token, and nowhere else
    for req in fake_openai.requests:
        assert req.headers.get("authorization") == f"Bearer {CANARY}"
        assert CANARY not in req.raw.decode()
    assert CANARY not in caplog.text
    assert CANARY not in repr(client)


def test_key_from_the_named_environment_variable(fake_openai):
    fake_openai.add_chat("ok")
    client = OpenAIClient(ModelConfig(base_url=fake_openai.base_url, name="m", api_key_env="MY_KEY"),
                       environ={"MY_KEY": "sk-from-env-123456789", "OPENAI_API_KEY": "sk-wrong-123456789"})
    client.chat(MSGS)
    assert fake_openai.requests[0].headers["authorization"] == "Bearer sk-from-env-123456789"


def test_no_key_gives_a_clear_auth_message(fake_openai):
    fake_openai.add_chat(Reply.unauthorized())
    client = OpenAIClient(ModelConfig(base_url=fake_openai.base_url, name="m", max_retries=0), environ={})
    with pytest.raises(ModelError) as info:
        client.chat(MSGS)
    assert info.value.kind == "auth" and "none is set" in info.value.message and "$OPENAI_API_KEY" in info.value.message


def test_config_model_settings_fit():
    from codeloop.config import ModelSettings

    client = OpenAIClient(ModelSettings(name="m", base_url="http://user:pw@127.0.0.1:9/v1", api_key="sk-editor-12345678"),
                       environ={})
    assert client.configured and client.has_key and client.chat_model == "m"
    assert client.endpoint == "http://127.0.0.1:9/v1"  # credentials in the URL never shown
