"""Tool turns share the model layer's one deadline and retry rules (model.timeout bounds
a request with its retries; retried: 5xx, a connection reset, a 429 whose Retry-After fits;
never a request that timed out), through the real openai SDK on the fake server's faults.
Elapsed times are only hang guards, never speed thresholds."""

from __future__ import annotations

import threading
import time

import pytest

from codeloop.model.errors import Cancelled, ModelError
from codeloop.model.tool_calls import PROBE_MESSAGES, PROBE_TOOL, tool_turn
from support.fake_openai import Reply
from support.llm import CANARY, make

TOOLS = [PROBE_TOOL]
TIMEOUT = 1.0
HANG_GUARD = TIMEOUT * 6  # a hang, not a slow run


def whole(client, cancel: threading.Event | None = None):
    """The probe's form: one whole (not streamed) turn."""
    return tool_turn(client, PROBE_MESSAGES, TOOLS, cancel=cancel)


def streamed(client, seen: list[str] | None = None, cancel: threading.Event | None = None):
    """The agent's form: a streamed turn, text deltas to ``seen``."""
    sink = seen if seen is not None else []
    return tool_turn(client, PROBE_MESSAGES, TOOLS, cancel=cancel, on_delta=sink.append)


def failing(fn, *args, **kwargs) -> ModelError:
    t0 = time.monotonic()
    with pytest.raises(ModelError) as info:
        fn(*args, **kwargs)
    assert time.monotonic() - t0 < HANG_GUARD, "the call hung"
    assert info.value.message and "\n" not in info.value.message and CANARY not in info.value.message
    return info.value


def chat_requests(fake) -> int:
    return len(fake.requests_to("/chat/completions"))


# --- a whole turn -----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [Reply.error(500), Reply.error(503, "overloaded"), Reply.connection_reset(),
                                   Reply.rate_limited(retry_after=0.2)],
                         ids=["500", "503", "reset", "429-short-retry-after"])
def test_a_whole_turn_retries_what_may_pass(fake_openai, fault) -> None:
    fake_openai.add_chat(fault, Reply.tool_call("ping"))
    turn = whole(make(fake_openai, timeout=5, max_retries=1))
    assert [c.name for c in turn.tool_calls] == ["ping"]
    assert chat_requests(fake_openai) == 2


def test_a_whole_turn_that_hangs_is_one_timeout_never_retried(fake_openai) -> None:
    fake_openai.add_chat(Reply.hang(30), Reply.tool_call("ping"))
    error = failing(whole, make(fake_openai, timeout=TIMEOUT, max_retries=3))
    assert error.kind == "timeout" and "codeloop.model.timeout" in error.message
    assert chat_requests(fake_openai) == 1


def test_a_trickled_whole_turn_ends_at_the_deadline(fake_openai) -> None:
    """Bytes every 50 ms keep each read under the timeout: the deadline still ends it."""
    fake_openai.add_chat(Reply.trickled(byte_delay=0.05))
    error = failing(whole, make(fake_openai, timeout=TIMEOUT), threading.Event())
    assert error.kind == "timeout"


def test_the_deadline_bounds_the_retries_of_a_turn(fake_openai) -> None:
    fake_openai.add_chat(*[Reply.error(500, "boom")] * 200)
    error = failing(whole, make(fake_openai, timeout=TIMEOUT, max_retries=100, backoff_base=0.1))
    assert error.kind == "server_error" and "HTTP 500" in error.message
    assert 2 <= chat_requests(fake_openai) < 20  # retried, but not 100 times


def test_a_429_asking_to_wait_past_the_deadline_fails_at_once(fake_openai) -> None:
    fake_openai.add_chat(Reply.rate_limited(retry_after=10), Reply.tool_call("ping"))
    error = failing(whole, make(fake_openai, timeout=2, max_retries=3))
    assert error.kind == "rate_limited" and "wait 10 s" in error.message
    assert chat_requests(fake_openai) == 1


def test_a_4xx_is_not_retried(fake_openai) -> None:
    fake_openai.add_chat(Reply.no_tools(), Reply.tool_call("ping"))
    error = failing(whole, make(fake_openai, timeout=5, max_retries=3))
    assert error.kind == "bad_request" and error.status == 400
    assert chat_requests(fake_openai) == 1


# --- a streamed turn ---------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [Reply.error(502), Reply.connection_reset()], ids=["502", "reset"])
def test_opening_a_stream_is_retried_and_the_call_is_put_together(fake_openai, fault) -> None:
    fake_openai.add_chat(fault, Reply.tool_call("ping", {"n": 1}, text="calling "))
    seen: list[str] = []
    turn = streamed(make(fake_openai, timeout=5, max_retries=1), seen)
    assert "".join(seen) == turn.content == "calling "
    assert [(c.name, c.arguments) for c in turn.tool_calls] == [("ping", '{"n": 1}')]
    assert turn.finish_reason == "tool_calls" and turn.usage.completion_tokens > 0
    assert chat_requests(fake_openai) == 2


def test_a_stream_stalled_mid_way_is_truncated_never_retried(fake_openai) -> None:
    fake_openai.add_chat(Reply.stall("one two three four", after=2), "never asked")
    seen: list[str] = []
    error = failing(streamed, make(fake_openai, timeout=TIMEOUT, max_retries=3), seen)
    assert error.kind == "truncated_stream" and "".join(seen) == "one two "
    assert chat_requests(fake_openai) == 1


def test_a_stream_cut_mid_way_is_not_retried(fake_openai) -> None:
    fake_openai.add_chat(Reply.cut("partial answer that will be cut", after=2), "never asked")
    seen: list[str] = []
    error = failing(streamed, make(fake_openai, timeout=5, max_retries=3), seen)
    assert error.kind == "truncated_stream" and "".join(seen) == "partial answer "
    assert chat_requests(fake_openai) == 1


def test_a_stream_with_no_first_token_is_one_timeout(fake_openai) -> None:
    fake_openai.add_chat(Reply.stall(after=0, keepalive=0.2), "never asked")
    error = failing(streamed, make(fake_openai, timeout=TIMEOUT, max_retries=3))
    assert error.kind == "timeout" and chat_requests(fake_openai) == 1


def test_a_stream_that_hangs_before_answering_is_one_timeout(fake_openai) -> None:
    fake_openai.hang_connections(5)
    error = failing(streamed, make(fake_openai, timeout=TIMEOUT, max_retries=3))
    assert error.kind == "timeout" and fake_openai.connections == 1


def test_a_slow_stream_with_steady_tokens_is_not_cut(fake_openai) -> None:
    """Tokens 0.3 s apart for longer than the timeout, then a tool call: the clock is per token."""
    fake_openai.add_chat(Reply(texts=["abcdefg"], chunk_delay=0.3, chunk_chars=1, finish_reason="tool_calls",
                               tool_calls=[("ping", {})]))
    turn = streamed(make(fake_openai, timeout=TIMEOUT))
    assert turn.content == "abcdefg" and [c.name for c in turn.tool_calls] == ["ping"]


def test_an_endpoint_refusing_stream_options_is_asked_without_once(fake_openai) -> None:
    fake_openai.add_chat(Reply.error(400, "Unrecognized request argument supplied: stream_options"),
                         Reply.text("first"), Reply.text("second"))
    client = make(fake_openai, timeout=5)
    assert streamed(client).content == "first"
    assert streamed(client).content == "second"  # remembered: no second refusal
    bodies = fake_openai.chat_bodies()
    assert len(bodies) == 3 and "stream_options" in bodies[0]
    assert all("stream_options" not in b and b["stream"] is True for b in bodies[1:])


def test_a_cancel_stops_a_stalled_stream_with_no_delta_after_it(fake_openai) -> None:
    fake_openai.add_chat(Reply.stall("one two three", after=1))
    cancel = threading.Event()
    seen: list[str] = []

    def on_delta(text: str) -> None:
        seen.append(text)
        cancel.set()

    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        tool_turn(make(fake_openai, timeout=30), PROBE_MESSAGES, TOOLS, cancel=cancel, on_delta=on_delta)
    assert time.monotonic() - t0 < HANG_GUARD and seen == ["one "]
