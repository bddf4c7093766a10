"""Inline completion's first try on the event loop (codeloop.model.loop_http): the same
request, answer, deadline, retry rules and errors as the SDK's path, against the fake
OpenAI server and a raw HTTP server for the framings it does not send."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from codeloop.model.errors import Cancelled, ModelError
from codeloop.model.loop_http import LoopHttp
from support.fake_openai import Reply
from support.llm import CANARY, make

PREFIX, SUFFIX = "def add(a, b):\n    ", "\n\nprint(add(1, 2))\n"
HANG_GUARD = 6.0  # a hang, not a slow run


def one_line(exc: ModelError) -> None:
    assert exc.message and "\n" not in exc.message and CANARY not in exc.message


async def test_the_first_try_runs_on_the_loop_and_sends_what_the_sdk_sends(fake_openai):
    fake_openai.add_completion("return a + b", "return a + b")
    client = make(fake_openai)
    on_loop = await client.acomplete(PREFIX, SUFFIX, max_tokens=64, stop=["\ndef "])
    assert client._sdk is None  # the SDK was never needed
    through_sdk = await asyncio.to_thread(client.complete, PREFIX, SUFFIX, max_tokens=64, stop=["\ndef "])
    assert (on_loop.text, on_loop.via, on_loop.finish_reason) == (through_sdk.text, "fim", "stop")
    loop_request, sdk_request = fake_openai.requests_to("/completions")
    assert loop_request.body == sdk_request.body
    assert loop_request.body["suffix"] == SUFFIX and loop_request.body["stop"] == ["\ndef "]
    assert loop_request.headers["authorization"] == sdk_request.headers["authorization"] == f"Bearer {CANARY}"
    assert loop_request.headers["content-type"] == "application/json"


async def test_one_connection_serves_consecutive_calls(fake_openai):
    fake_openai.add_completion("one", "two", "three")
    client = make(fake_openai)
    texts = [(await client.acomplete(PREFIX)).text for _ in range(3)]
    assert texts == ["one", "two", "three"] and fake_openai.connections == 1


async def test_a_server_error_is_retried_through_the_sdk(fake_openai):
    fake_openai.add_completion(Reply.error(500, "boom"), "recovered")
    client = make(fake_openai, max_retries=2)
    assert (await client.acomplete(PREFIX)).text == "recovered"
    assert len(fake_openai.requests_to("/completions")) == 2


async def test_a_server_error_without_retries_is_one_clear_error(fake_openai):
    fake_openai.add_completion(Reply.error(503, "overloaded"))
    with pytest.raises(ModelError) as info:
        await make(fake_openai, max_retries=0).acomplete(PREFIX)
    assert info.value.kind == "server_error" and "HTTP 503" in info.value.message and "overloaded" in info.value.message
    one_line(info.value)


async def test_rate_limited_waits_for_retry_after(fake_openai):
    fake_openai.add_completion(Reply.rate_limited(0.3), "after the wait")
    client = make(fake_openai, max_retries=1)
    start = time.monotonic()
    assert (await client.acomplete(PREFIX)).text == "after the wait"
    assert time.monotonic() - start >= 0.3
    assert len(fake_openai.requests_to("/completions")) == 2


async def test_an_unsupported_fim_falls_back_to_chat_and_is_remembered(fake_openai):
    fake_openai.add_completion(Reply.error(400, "suffix is not supported"))
    fake_openai.add_chat("```python\nreturn a + b\n```", "return a * b")
    client = make(fake_openai, max_retries=3)
    first = await client.acomplete(PREFIX, SUFFIX)
    second = await client.acomplete(PREFIX, SUFFIX)
    assert (first.text, first.via, second.text) == ("return a + b", "chat", "return a * b")
    fim = [r for r in fake_openai.requests_to("/completions") if not r.path.endswith("/chat/completions")]
    assert client.fim_supported is False and len(fim) == 1


async def test_a_rejected_key_is_not_retried(fake_openai):
    fake_openai.add_completion(Reply.unauthorized(), "never")
    with pytest.raises(ModelError) as info:
        await make(fake_openai, max_retries=3).acomplete(PREFIX)
    assert info.value.kind == "auth" and len(fake_openai.requests_to("/completions")) == 1
    one_line(info.value)


async def test_an_unknown_model_is_named(fake_openai):
    fake_openai.add_completion(Reply.unknown_model("coder"))
    with pytest.raises(ModelError) as info:
        await make(fake_openai, completion_model="coder").acomplete(PREFIX)
    assert info.value.kind == "unknown_model" and "'coder'" in info.value.message


async def test_a_hang_ends_at_the_deadline_without_a_retry(fake_openai):
    fake_openai.add_completion(Reply.hang(30), "never reached")
    start = time.monotonic()
    with pytest.raises(ModelError) as info:
        await make(fake_openai, timeout=0.5, max_retries=3).acomplete(PREFIX)
    assert info.value.kind == "timeout" and "did not answer within 0.5 s" in info.value.message
    assert time.monotonic() - start < HANG_GUARD
    assert len(fake_openai.requests_to("/completions")) == 1


async def test_a_reset_is_retried(fake_openai):
    fake_openai.add_completion(Reply.connection_reset(), "second time lucky")
    assert (await make(fake_openai, max_retries=1).acomplete(PREFIX)).text == "second time lucky"


async def test_a_refused_connection_is_one_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there

    class Nowhere:
        base_url = f"http://127.0.0.1:{port}/v1"

    with pytest.raises(ModelError) as info:
        await make(Nowhere, max_retries=3).acomplete(PREFIX)
    assert info.value.kind == "connection_refused" and "connection refused" in info.value.message
    one_line(info.value)


async def test_a_malformed_answer_is_one_clear_error(fake_openai):
    fake_openai.add_completion(Reply.malformed())
    with pytest.raises(ModelError) as info:
        await make(fake_openai).acomplete(PREFIX)
    assert info.value.kind == "malformed"


async def test_a_cancel_event_returns_at_once(fake_openai):
    fake_openai.add_completion(Reply.hang(30))
    cancel = threading.Event()
    asyncio.get_running_loop().call_later(0.1, cancel.set)
    start = time.monotonic()
    with pytest.raises(Cancelled):
        await make(fake_openai, timeout=20).acomplete(PREFIX, cancel=cancel)
    assert time.monotonic() - start < HANG_GUARD


async def test_cancelling_the_task_cancels_the_call_and_the_next_one_works(fake_openai):
    fake_openai.add_completion(Reply.hang(30), "fine")
    client = make(fake_openai, timeout=20)
    task = asyncio.ensure_future(client.acomplete(PREFIX))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await client.acomplete(PREFIX)).text == "fine"  # a new connection: the half-read one is closed


@pytest.mark.parametrize(("base_url", "environ", "on_loop"), [
    ("http://127.0.0.1:8080/v1", {}, True),
    ("http://localhost/v1", {}, True),
    ("https://api.example.com/v1", {}, False),
    ("http://127.0.0.1:8080/v1", {"HTTP_PROXY": "http://proxy:3128"}, False),
    ("http://127.0.0.1:8080/v1", {"all_proxy": "http://proxy:3128"}, False),
    ("http://127.0.0.1:8080/v1", {"HTTP_PROXY": "http://proxy:3128", "NO_PROXY": "localhost,127.0.0.1"}, True),
    ("http://user:secret@127.0.0.1:8080/v1", {}, False),
])
def test_which_endpoints_go_on_the_loop(base_url, environ, on_loop):
    assert (LoopHttp.for_base_url(base_url, environ) is not None) is on_loop


async def test_a_header_value_outside_printable_ascii_keeps_the_sdk(fake_openai):
    fake_openai.add_completion("from the sdk")
    client = make(fake_openai, environ={"OPENAI_ORG_ID": "org-\u00e9t\u00e9"})
    assert (await client.acomplete(PREFIX)).text == "from the sdk"  # not a crash on the loop
    assert client._http is None and client._sdk is not None


# --- framings the fake server does not send, from a raw HTTP server ---------------------------

ANSWER = b'{"choices": [{"text": "x + 1", "finish_reason": "stop"}]}'


class RawServer:
    """Answers each request with the next canned bytes; counts connections."""

    def __init__(self, replies: list[bytes]) -> None:
        self.replies = replies
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.base_url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while self.replies:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                await reader.readexactly(length)
                reply = self.replies.pop(0)
                writer.write(reply)
                await writer.drain()
                if b"Connection: close" in reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


def framed(body: bytes, *headers: str) -> bytes:
    return ("HTTP/1.1 200 OK\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n").encode() + body


async def test_a_chunked_answer_is_read():
    chunked = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (ANSWER[:10], ANSWER[10:])) + b"0\r\n\r\n"
    async with RawServer([framed(chunked, "Transfer-Encoding: chunked")] * 2) as raw:
        client = make(raw)
        assert [(await client.acomplete(PREFIX)).text for _ in range(2)] == ["x + 1", "x + 1"]
        assert raw.connections == 1


async def test_connection_close_opens_a_new_connection_next_time():
    reply = framed(ANSWER, f"Content-Length: {len(ANSWER)}", "Connection: close")
    async with RawServer([reply, reply]) as raw:
        client = make(raw)
        assert [(await client.acomplete(PREFIX)).text for _ in range(2)] == ["x + 1", "x + 1"]
        assert raw.connections == 2


async def test_an_informational_answer_is_skipped_and_a_body_to_the_close_is_read():
    async with RawServer([b"HTTP/1.1 100 Continue\r\n\r\n" + framed(ANSWER, "Connection: close")]) as raw:
        assert (await make(raw).acomplete(PREFIX)).text == "x + 1"


async def test_an_answer_that_is_not_http_is_a_reset():
    async with RawServer([b"SSH-2.0-OpenSSH_9.6\r\n"]) as raw:
        with pytest.raises(ModelError) as info:
            await make(raw, max_retries=0).acomplete(PREFIX)
    assert info.value.kind == "connection_reset"
    one_line(info.value)


async def test_a_header_line_past_the_limit_is_a_reset():
    async with RawServer([b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n"]) as raw:
        with pytest.raises(ModelError) as info:
            await make(raw, max_retries=0).acomplete(PREFIX)
    assert info.value.kind == "connection_reset"
