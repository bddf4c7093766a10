"""One deadline per model request (``model.timeout``): every fault of the fake server,
through the real openai SDK. Elapsed times are only hang guards (a few times the
timeout), never speed thresholds."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest

from codeloop.model.errors import ModelError
from codeloop.model.openai_client import OpenAIClient
from codeloop.model.settings import ModelConfig
from support.fake_openai import Reply
from support.llm import CANARY, make

MSGS = [{"role": "user", "content": "Say hi."}]
TIMEOUT = 1.0
HANG_GUARD = TIMEOUT * 6  # a hang, not a slow run


def one_line(exc: ModelError) -> None:
    assert exc.message and "\n" not in exc.message and CANARY not in exc.message


def timed(fn, *args, **kwargs):
    t0 = time.monotonic()
    try:
        return fn(*args, **kwargs), time.monotonic() - t0
    except ModelError as exc:
        assert time.monotonic() - t0 < HANG_GUARD, "the call hung"
        raise exc


# --- a hang is one timeout, never retried ---------------------------------------------------


def test_hang_after_accept_ends_at_the_deadline_without_a_retry(fake_openai):
    fake_openai.hang_connections(5)
    with pytest.raises(ModelError) as info:
        timed(make(fake_openai, timeout=TIMEOUT, max_retries=3).chat, MSGS, n=1)
    assert info.value.kind == "timeout"
    assert "did not answer within 1 s" in info.value.message and "codeloop.model.timeout" in info.value.message
    assert fake_openai.connections == 1 and fake_openai.requests == []  # never retried
    one_line(info.value)


def test_hang_after_the_request_is_not_retried(fake_openai):
    fake_openai.add_chat(Reply.hang(30), "never reached")
    with pytest.raises(ModelError) as info:
        timed(make(fake_openai, timeout=TIMEOUT, max_retries=3).chat, MSGS, n=1)
    assert info.value.kind == "timeout"
    assert len(fake_openai.requests_to("/chat/completions")) == 1


def test_a_trickled_answer_ends_at_the_deadline(fake_openai):
    """Bytes every 50 ms keep each read under the timeout; the deadline still ends the call
    (a caller with a cancel event, as the CLI's job has)."""
    fake_openai.add_chat(Reply.trickled(byte_delay=0.05))  # a ~300-byte body: ~15 s
    with pytest.raises(ModelError) as info:
        timed(make(fake_openai, timeout=TIMEOUT).chat, MSGS, n=1, cancel=threading.Event())
    assert info.value.kind == "timeout"


def test_the_deadline_bounds_the_retries(fake_openai, caplog):
    """500 forever: the retries stop when the next wait would pass the deadline."""
    fake_openai.add_chat(*[Reply.error(500, "boom")] * 200)
    caplog.set_level(logging.INFO, logger="codeloop.llm")
    with pytest.raises(ModelError) as info:
        timed(make(fake_openai, timeout=TIMEOUT, max_retries=100, backoff_base=0.1).chat, MSGS, n=1)
    assert info.value.kind == "server_error" and "HTTP 500" in info.value.message
    sent = len(fake_openai.requests_to("/chat/completions"))
    assert 2 <= sent < 20  # retried, but not 100 times
    one_line(info.value)


# --- what is retried ---------------------------------------------------------------------------


def test_flapping_500_then_ok_is_retried(fake_openai):
    fake_openai.add_chat(Reply.error(500), "first", Reply.error(503), "second")
    client = make(fake_openai, timeout=5, max_retries=1)
    assert client.chat(MSGS, n=1)[0].text == "first"
    assert client.chat(MSGS, n=1)[0].text == "second"
    assert len(fake_openai.requests_to("/chat/completions")) == 4


def test_flapping_without_retries_gives_one_line_then_works(fake_openai):
    fake_openai.add_chat(Reply.error(500, "upstream down"), "back")
    client = make(fake_openai, timeout=5, max_retries=0)
    with pytest.raises(ModelError) as info:
        client.chat(MSGS, n=1)
    assert info.value.kind == "server_error" and "upstream down" in info.value.message
    one_line(info.value)
    assert client.chat(MSGS, n=1)[0].text == "back"


def test_connection_reset_is_retried(fake_openai):
    fake_openai.add_chat(Reply.connection_reset(), "after the reset")
    got = make(fake_openai, timeout=5, max_retries=1).chat(MSGS, n=1)
    assert got[0].text == "after the reset"
    assert len(fake_openai.requests_to("/chat/completions")) == 2


def test_connection_reset_every_time_is_one_line(fake_openai):
    fake_openai.add_chat(Reply.connection_reset(), Reply.connection_reset(), "never reached")
    with pytest.raises(ModelError) as info:
        make(fake_openai, timeout=5, max_retries=1).chat(MSGS, n=1)
    assert info.value.kind == "connection_reset" and "after 2 attempts" in info.value.message
    one_line(info.value)


def test_connection_refused_is_not_retried(caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    caplog.set_level(logging.INFO, logger="codeloop.llm")
    client = OpenAIClient(ModelConfig(base_url=f"http://127.0.0.1:{port}/v1", name="m", max_retries=3, timeout=5))
    with pytest.raises(ModelError) as info:
        client.chat(MSGS)
    assert info.value.kind == "connection_refused"
    assert not [r for r in caplog.records if "retry" in r.getMessage()]


def test_429_with_a_short_retry_after_is_retried(fake_openai):
    fake_openai.add_chat(Reply.rate_limited(retry_after=0.2), "after the wait")
    got = make(fake_openai, timeout=5, max_retries=1).chat(MSGS, n=1)
    assert got[0].text == "after the wait"
    assert len(fake_openai.requests_to("/chat/completions")) == 2


def test_429_asking_to_wait_past_the_deadline_fails_at_once(fake_openai):
    fake_openai.add_chat(Reply.rate_limited(retry_after=10), "never reached")  # under the 30 s cap
    with pytest.raises(ModelError) as info:
        timed(make(fake_openai, timeout=2, max_retries=3).chat, MSGS, n=1)
    assert info.value.kind == "rate_limited" and info.value.status == 429
    assert "wait 10 s" in info.value.message and "codeloop.model.timeout" in info.value.message
    assert len(fake_openai.requests_to("/chat/completions")) == 1
    one_line(info.value)


def test_fim_fallback_to_chat_shares_the_deadline(fake_openai):
    """The FIM request is refused, the chat fallback hangs: one timeout for the whole call."""
    fake_openai.add_completion(Reply.error(400, "suffix not supported"))
    fake_openai.add_chat(Reply.hang(30))
    with pytest.raises(ModelError) as info:
        timed(make(fake_openai, timeout=TIMEOUT, max_retries=2).complete, "x = ", "\n")
    assert info.value.kind == "timeout"
    assert len(fake_openai.requests_to("/chat/completions")) == 1


# --- streams: no token for the timeout ends the answer ------------------------------------------


def test_stream_stall_mid_answer_is_truncated_and_keeps_the_text(fake_openai):
    fake_openai.add_chat(Reply.stall("one two three four", after=2))
    stream = make(fake_openai, timeout=TIMEOUT).stream_chat(MSGS)
    seen: list[str] = []
    with pytest.raises(ModelError) as info:
        timed(lambda: seen.extend(stream))
    assert info.value.kind == "truncated_stream"
    assert info.value.message.startswith("truncated: no token for 1 s")
    assert "".join(seen) == stream.text == "one two "
    assert stream.finish_reason == "error" and stream.error is info.value
    one_line(info.value)


def test_stream_keepalives_without_tokens_are_still_a_stall(fake_openai):
    """Bytes arrive (SSE comments every 0.2 s) but no token: the stream still ends."""
    fake_openai.add_chat(Reply.stall("one two three", after=1, keepalive=0.2))
    stream = make(fake_openai, timeout=TIMEOUT).stream_chat(MSGS)
    with pytest.raises(ModelError) as info:
        timed(lambda: list(stream))
    assert info.value.kind == "truncated_stream" and stream.text == "one "


def test_stream_with_no_first_token_is_a_timeout(fake_openai):
    fake_openai.add_chat(Reply.stall(after=0, keepalive=0.2))  # headers, then only keep-alives
    stream = make(fake_openai, timeout=TIMEOUT, max_retries=2).stream_chat(MSGS)
    with pytest.raises(ModelError) as info:
        timed(lambda: list(stream))
    assert info.value.kind == "timeout" and stream.text == ""
    assert len(fake_openai.requests_to("/chat/completions")) == 1


def test_stream_hang_after_accept_is_a_timeout(fake_openai):
    fake_openai.hang_connections(5)
    stream = make(fake_openai, timeout=TIMEOUT, max_retries=2).stream_chat(MSGS)
    with pytest.raises(ModelError) as info:
        timed(lambda: list(stream))
    assert info.value.kind == "timeout" and fake_openai.connections == 1


def test_a_slow_stream_with_steady_tokens_is_not_cut(fake_openai):
    """Tokens 0.3 s apart for longer than the timeout: the clock is per token, not per answer."""
    fake_openai.add_chat(Reply.slow("abcdefg", chunk_delay=0.3))
    stream = make(fake_openai, timeout=TIMEOUT).stream_chat(MSGS)
    assert "".join(stream) == "abcdefg" and stream.finish_reason == "stop"


def test_stream_flapping_500_then_ok_is_retried_before_the_first_token(fake_openai):
    fake_openai.add_chat(Reply.error(500), Reply.connection_reset(), "streamed")
    stream = make(fake_openai, timeout=5, max_retries=2).stream_chat(MSGS)
    assert "".join(stream) == "streamed"


async def test_async_stream_stall_is_truncated(fake_openai):
    fake_openai.add_chat(Reply.stall("alpha beta gamma", after=1))
    stream = make(fake_openai, timeout=TIMEOUT).stream_chat(MSGS)
    seen: list[str] = []

    async def consume() -> None:
        async for delta in stream:
            seen.append(delta)

    with pytest.raises(ModelError) as info:
        await asyncio.wait_for(consume(), HANG_GUARD)
    assert info.value.kind == "truncated_stream" and seen == ["alpha "] and stream.text == "alpha "


async def test_async_stream_with_a_cancel_event_stalls_too(fake_openai):
    fake_openai.add_chat(Reply.stall("alpha beta", after=1))
    stream = make(fake_openai, timeout=TIMEOUT).stream_chat(MSGS, cancel=threading.Event())

    async def consume() -> None:
        async for _ in stream:
            pass

    with pytest.raises(ModelError) as info:
        await asyncio.wait_for(consume(), HANG_GUARD)
    assert info.value.kind == "truncated_stream"
