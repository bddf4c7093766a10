"""A scriptable fake OpenAI-compatible server for tests (standard library only).

It listens on 127.0.0.1 (random port by default) and answers

* ``POST /v1/chat/completions``: non-streaming (``n`` choices) and streaming (SSE,
  chunked transfer encoding, ``data: [DONE]``);
* ``POST /v1/completions``: the same for plain/fill-in-the-middle completions
  (``prompt`` + ``suffix``);
* ``GET /v1/models``: the configured model list.
* ``POST /v1/embeddings``: deterministic vectors (:func:`fake_embedding`); ``embeddings_status``
  makes it fail.

A chat reply can carry tool calls (:meth:`Reply.tool_call`, :meth:`Reply.calls`): the
non-streamed answer then has ``message.tool_calls`` and ``finish_reason: "tool_calls"``;
a request that offers no ``tools`` gets the reply's text only. A reply can refuse requests
with ``tools`` (:meth:`Reply.no_tools`: HTTP 400). ``usage`` counts about four characters
of the request body per prompt token and of the answer per completion token.

Each endpoint has a queue of :class:`Reply` objects; a request takes the next one,
or the default reply (``default_text``) when the queue is empty. A reply can also be a
fault: any HTTP status with a JSON error body and headers (500, 429 + Retry-After,
401, 404 unknown model), a hang before answering, a stream cut mid-way (the
connection is closed inside a chunked body), a stream that stalls mid-way (optionally
sending keep-alive comments and no token), a stream that ends without
``finish_reason``, a malformed JSON body, empty choices, slow chunks, a body trickled a
byte at a time, a connection reset (RST) instead of an answer. :meth:`FakeOpenAI.hang_connections`
makes the next connections hang right after the accept (the request is never read).

Every request is recorded (method, path, headers, parsed JSON body) in
:attr:`FakeOpenAI.requests`.

Standalone (used by the VS Code end-to-end test)::

    python tests/support/fake_openai.py --port 0 --reply "Hello from the fake model" [--script FILE]

prints the port as the first line of stdout, then serves until killed; every chat
or completion request gets the fixed answer, streamed when asked. ``--script FILE`` (JSON
``{"trigger": TEXT, "replies": [{"text": ...} | {"tool_call": [NAME, ARGS]}, ...]}``)
scripts an agent conversation: a chat request with a user message containing TEXT takes
the next scripted reply, and the tool-support probe (a request offering a ``ping`` tool)
is answered with a call of it.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import hashlib
import json
import re
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT = "chat"
COMPLETIONS = "completions"


@dataclass
class Reply:
    """One scripted answer (or fault) for one request."""

    texts: list[str] = field(default_factory=lambda: ["ok"])  # one per choice
    finish_reason: str | None = "stop"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # raw override: a str is sent verbatim, anything else as JSON
    delay: float = 0.0  # seconds before the response starts (a hang past the timeout)
    chunk_delay: float = 0.0  # seconds between stream chunks
    chunk_chars: int = 0  # split the text into pieces of this many characters (0: by words)
    cut_after: int | None = None  # streaming: close the connection after this many chunks
    done: bool = True  # streaming: send ``data: [DONE]`` at the end
    empty: bool = False  # ``choices: []``
    bad_event_after: int | None = None  # streaming: send a non-JSON event after this many chunks
    stall_after: int | None = None  # streaming: after this many chunks, send no more until the server stops
    keepalive: float = 0.0  # while stalled: an SSE comment every this many seconds (bytes, no token)
    reset: bool = False  # close the connection with a TCP reset instead of answering
    trickle: float = 0.0  # non-streaming: seconds between the body's bytes
    tool_calls: list[tuple[str, Any]] = field(default_factory=list)  # (name, arguments: dict, or raw JSON str)
    refuse_tools: bool = False  # answer a request that offers tools with HTTP 400

    # -- constructors for the usual cases --------------------------------------------
    @classmethod
    def text(cls, *texts: str, finish_reason: str | None = "stop", **kw: Any) -> Reply:
        return cls(texts=list(texts) or ["ok"], finish_reason=finish_reason, **kw)

    @classmethod
    def tool_call(cls, name: str, arguments: Any = None, text: str = "", **kw: Any) -> Reply:
        """An answer that calls one tool (``arguments``: a dict, or a raw string sent as is)."""
        return cls(texts=[text], finish_reason="tool_calls", tool_calls=[(name, {} if arguments is None else arguments)],
                   **kw)

    @classmethod
    def calls(cls, *calls: tuple[str, Any], text: str = "") -> Reply:
        """An answer that calls several tools at once."""
        return cls(texts=[text], finish_reason="tool_calls", tool_calls=list(calls))

    @classmethod
    def no_tools(cls) -> Reply:
        """A model without tool calling: a request with ``tools`` is refused (HTTP 400)."""
        return cls(refuse_tools=True)

    @classmethod
    def slow(cls, text: str, chunk_delay: float, chunk_chars: int = 1) -> Reply:
        return cls(texts=[text], chunk_delay=chunk_delay, chunk_chars=chunk_chars)

    @classmethod
    def error(cls, status: int, message: str = "internal error", code: str | None = None,
              headers: dict[str, str] | None = None) -> Reply:
        body = {"error": {"message": message, "type": "server_error" if status >= 500 else "invalid_request_error",
                          "code": code}}
        return cls(status=status, body=body, headers=dict(headers or {}))

    @classmethod
    def rate_limited(cls, retry_after: float = 1) -> Reply:
        return cls.error(429, "Rate limit reached", code="rate_limit_exceeded",
                         headers={"Retry-After": f"{retry_after:g}"})

    @classmethod
    def unauthorized(cls, message: str = "Incorrect API key provided") -> Reply:
        return cls.error(401, message, code="invalid_api_key")

    @classmethod
    def unknown_model(cls, model: str = "no-such-model") -> Reply:
        return cls.error(404, f"The model `{model}` does not exist", code="model_not_found")

    @classmethod
    def hang(cls, seconds: float = 30.0) -> Reply:
        return cls(delay=seconds)

    @classmethod
    def stall(cls, text: str = "the first words and then nothing", after: int = 2, keepalive: float = 0.0) -> Reply:
        """A stream that sends ``after`` chunks (0: headers only) and then hangs."""
        return cls(texts=[text], stall_after=after, keepalive=keepalive)

    @classmethod
    def connection_reset(cls) -> Reply:
        return cls(reset=True)

    @classmethod
    def trickled(cls, text: str = "an answer sent very slowly", byte_delay: float = 0.05) -> Reply:
        return cls(texts=[text], trickle=byte_delay)

    @classmethod
    def cut(cls, text: str = "partial answer that will be cut", after: int = 2) -> Reply:
        return cls(texts=[text], cut_after=after, done=False)

    @classmethod
    def no_finish(cls, text: str = "an answer with no finish reason", done: bool = False) -> Reply:
        return cls(texts=[text], finish_reason=None, done=done)

    @classmethod
    def malformed(cls) -> Reply:
        return cls(body='{"id": "x", "choices": [ this is not json')

    @classmethod
    def malformed_stream(cls, text: str = "an answer that turns into garbage", after: int = 2) -> Reply:
        return cls(texts=[text], bad_event_after=after, done=False)

    @classmethod
    def empty_choices(cls) -> Reply:
        return cls(empty=True)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, or the raw text when it was not JSON
    raw: bytes


def _pieces(text: str, size: int) -> list[str]:
    if not text:
        return [""]
    if size > 0:
        return [text[i:i + size] for i in range(0, len(text), size)]
    out: list[str] = []
    word = ""
    for ch in text:
        word += ch
        if ch == " ":
            out.append(word)
            word = ""
    if word:
        out.append(word)
    return out


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY on every connection: headers and body go out in two sends, and with Nagle
    # on, a client in delayed-ACK mode waits ~40 ms for the second one
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing ---------------------------------------------------------------------
    def _record(self) -> Recorded:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        rec = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, raw)
        with self.server.fake.lock:
            self.server.fake.requests.append(rec)
        return rec

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _cut(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0): the client reads "connection reset"."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    def _stall(self, keepalive: float) -> None:
        """Send nothing more (or only SSE comments) until the server stops, then cut."""
        stopping = self.server.fake.stopping
        while not stopping.wait(keepalive or None):
            self._chunk(b": keep-alive\n\n")
        self._cut()

    def handle(self) -> None:
        fake = self.server.fake
        with fake.lock:
            fake.connections += 1
            hang = fake._hang_connections > 0
            if hang:
                fake._hang_connections -= 1
        if hang:  # accepted, never read, never answered
            fake.stopping.wait()
            return
        super().handle()

    # -- endpoints --------------------------------------------------------------------
    def do_GET(self) -> None:
        self._record()
        if self.path.rstrip("/").endswith("/models"):
            fake = self.server.fake
            self._send_json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in fake.models]})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        rec = self._record()
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/chat/completions"):
            kind = CHAT
        elif path.endswith("/completions"):
            kind = COMPLETIONS
        elif path.endswith("/embeddings"):
            self._embeddings(rec.body if isinstance(rec.body, dict) else {})
            return
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
            return
        body = rec.body if isinstance(rec.body, dict) else {}
        reply = self.server.fake._next(kind, body)
        if reply.delay and self.server.fake.stopping.wait(reply.delay):
            self._cut()
            return
        if reply.reset:
            self._reset()
            return
        if reply.status != 200 or reply.body is not None:
            self._send_json(reply.status, reply.body if reply.body is not None else {}, reply.headers)
            return
        model = body.get("model", "fake-model")
        if reply.refuse_tools and body.get("tools"):
            self._send_json(400, {"error": {"message": "this model does not support tools",
                                            "type": "invalid_request_error", "code": None}})
            return
        if body.get("stream"):
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(kind, reply, model, bool(body.get("tools")), len(rec.raw) if usage else None)
        else:
            self._whole(kind, reply, model, int(body.get("n") or 1), len(rec.raw), bool(body.get("tools")))

    def _embeddings(self, body: dict[str, Any]) -> None:
        fake = self.server.fake
        if fake.embeddings_status != 200:
            self._send_json(fake.embeddings_status, {"error": {"message": "embeddings failed", "type": "server_error"}})
            return
        texts = body.get("input") or []
        texts = [texts] if isinstance(texts, str) else texts
        data = [{"object": "embedding", "index": i, "embedding": fake_embedding(str(t))} for i, t in enumerate(texts)]
        self._send_json(200, {"object": "list", "data": data, "model": body.get("model", "fake-embed"),
                              "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    def _whole(self, kind: str, reply: Reply, model: str, n: int, request_bytes: int = 0,
               tools_offered: bool = False) -> None:
        choices: list[dict[str, Any]] = []
        if not reply.empty:
            for i, text in enumerate(reply.texts[:max(n, 1)]):
                if kind == CHAT:
                    message: dict[str, Any] = {"role": "assistant", "content": text}
                    finish = reply.finish_reason
                    if reply.tool_calls and tools_offered:
                        message["content"] = text or None
                        message["tool_calls"] = [
                            {"id": f"call_{self.server.fake.next_call_id()}", "type": "function",
                             "function": {"name": name, "arguments": args if isinstance(args, str)
                                          else json.dumps(args)}} for name, args in reply.tool_calls]
                    elif reply.tool_calls:
                        finish = "stop"
                    choices.append({"index": i, "finish_reason": finish, "logprobs": None, "message": message})
                else:
                    choices.append({"index": i, "finish_reason": reply.finish_reason, "logprobs": None,
                                    "text": text})
        obj = "chat.completion" if kind == CHAT else "text_completion"
        prompt = max(1, request_bytes // 4)
        completion = max(1, sum(len(json.dumps(c.get("message") or c.get("text") or "")) for c in choices) // 4)
        body = {"id": "fake-1", "object": obj, "created": int(time.time()), "model": model, "choices": choices,
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}
        if reply.trickle:
            self._trickle(json.dumps(body).encode(), reply.trickle)
            return
        self._send_json(200, body, reply.headers)

    def _trickle(self, data: bytes, delay: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        stopping = self.server.fake.stopping
        try:
            for i in range(len(data)):
                if stopping.wait(delay):
                    self._cut()
                    return
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
        except OSError:  # the client gave up
            self.close_connection = True

    def _stream(self, kind: str, reply: Reply, model: str, tools_offered: bool = False,
                usage_of: int | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()
        obj = "chat.completion.chunk" if kind == CHAT else "text_completion"

        def event(delta: str | None, finish: str | None, first: bool = False) -> bytes:
            if reply.empty:
                choices: list[dict[str, Any]] = []
            elif kind == CHAT:
                d: dict[str, Any] = {}
                if first:
                    d["role"] = "assistant"
                if delta is not None:
                    d["content"] = delta
                choices = [{"index": 0, "delta": d, "finish_reason": finish, "logprobs": None}]
            else:
                choices = [{"index": 0, "text": delta or "", "finish_reason": finish, "logprobs": None}]
            payload = {"id": "fake-1", "object": obj, "created": int(time.time()), "model": model,
                       "choices": choices}
            return b"data: " + json.dumps(payload).encode() + b"\n\n"

        fake = self.server.fake
        try:
            pieces = _pieces(reply.texts[0] if reply.texts else "", reply.chunk_chars)
            for i, piece in enumerate(pieces):  # i: the pieces sent so far
                if reply.cut_after is not None and i >= reply.cut_after:
                    self._cut()
                    return
                if reply.stall_after is not None and i >= reply.stall_after:
                    self._stall(reply.keepalive)
                    return
                if reply.bad_event_after is not None and i >= reply.bad_event_after:
                    self._chunk(b'data: {"id": "fake-1", "choices": [ not json\n\n')
                    self._chunk(b"")
                    return
                if i and reply.chunk_delay and fake.stopping.wait(reply.chunk_delay):
                    self._cut()
                    return
                self._chunk(event(piece, None, first=(i == 0)))
            if reply.cut_after is not None:
                self._cut()
                return
            if reply.stall_after is not None:
                self._stall(reply.keepalive)
                return
            finish = reply.finish_reason
            if kind == CHAT and reply.tool_calls:
                finish = "tool_calls" if tools_offered else "stop"
                for index, (name, args) in enumerate(reply.tool_calls if tools_offered else []):
                    text = args if isinstance(args, str) else json.dumps(args)
                    half = len(text) // 2
                    first = {"index": index, "id": f"call_{fake.next_call_id()}", "type": "function",
                             "function": {"name": name, "arguments": text[:half]}}
                    for delta in (first, {"index": index, "function": {"arguments": text[half:]}}):
                        payload = {"id": "fake-1", "object": obj, "created": int(time.time()), "model": model,
                                   "choices": [{"index": 0, "delta": {"tool_calls": [delta]}, "finish_reason": None,
                                                "logprobs": None}]}
                        self._chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")
            if finish is not None:
                self._chunk(event(None if kind == CHAT else "", finish))
            if usage_of is not None:
                completion = max(1, len(reply.texts[0] if reply.texts else "") // 4
                                 + sum(len(json.dumps(c)) for c in reply.tool_calls) // 4)
                payload = {"id": "fake-1", "object": obj, "created": int(time.time()), "model": model, "choices": [],
                           "usage": {"prompt_tokens": max(1, usage_of // 4), "completion_tokens": completion,
                                     "total_tokens": max(1, usage_of // 4) + completion}}
                self._chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")
            if reply.done:
                self._chunk(b"data: [DONE]\n\n")
            self._chunk(b"")  # end of the chunked body
        except OSError:  # the client went away (cancelled): fine
            self.close_connection = True


# Embeddings: a hashed bag of concepts, so that texts sharing words, or words of one group
# below (a toy stand-in for what a real model knows), are near each other.
EMBED_DIMS = 64
_CONCEPTS = {w: group[0] for group in (
    ("delete", "remove", "erase", "purge", "drop", "discard"),
    ("price", "cost", "money", "amount", "fee"),
    ("stale", "old", "expired", "outdated"),
    ("entry", "record", "item", "row"),
    ("user", "customer", "account", "person"),
    ("send", "deliver", "dispatch", "mail", "email"),
) for w in group}


def fake_embedding(text: str) -> list[float]:
    words = re.findall(r"[a-z]+|[A-Z][a-z]*", text)
    vector = [0.0] * EMBED_DIMS
    for word in words:
        word = word.lower().rstrip("s") if len(word) > 3 else word.lower()
        concept = _CONCEPTS.get(word, word)
        digest = hashlib.sha1(concept.encode()).digest()
        vector[digest[0] % EMBED_DIMS] += 1.0 if digest[1] % 2 else -1.0
    return vector


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeOpenAI

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # the client went away (timeout, cancel): expected
            return
        super().handle_error(request, client_address)


class FakeOpenAI:
    """The fake server. Use as a context manager or call :meth:`start`/:meth:`stop`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, default_text: str = "ok",
                 models: list[str] | None = None) -> None:
        self.host = host
        self.port = port
        self.default_text = default_text
        self.default_chunk_delay = 0.0
        self.models = list(models or ["fake-model"])
        self.embeddings_status = 200  # another status: /v1/embeddings fails with it
        self.requests: list[Recorded] = []
        self.connections = 0  # connections accepted
        self._hang_connections = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._queues: dict[str, collections.deque[Reply]] = {CHAT: collections.deque(),
                                                             COMPLETIONS: collections.deque()}
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._calls = 0
        self.trigger: str | None = None  # standalone --script: requests that mention it take scripted replies
        self.scripted: collections.deque[Reply] = collections.deque()

    def next_call_id(self) -> int:
        with self.lock:
            self._calls += 1
            return self._calls

    # -- scripting --------------------------------------------------------------------
    def add_chat(self, *replies: Reply | str) -> None:
        """Queue answers for ``/v1/chat/completions`` (a str means ``Reply.text(str)``)."""
        with self.lock:
            self._queues[CHAT].extend(Reply.text(r) if isinstance(r, str) else r for r in replies)

    def add_completion(self, *replies: Reply | str) -> None:
        """Queue answers for ``/v1/completions``."""
        with self.lock:
            self._queues[COMPLETIONS].extend(Reply.text(r) if isinstance(r, str) else r for r in replies)

    def _next(self, kind: str, body: dict[str, Any] | None = None) -> Reply:
        with self.lock:
            if self._queues[kind]:
                return self._queues[kind].popleft()
            if self.trigger is not None and kind == CHAT and body:
                names = [(t.get("function") or {}).get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
                if names == ["ping"]:
                    return Reply.tool_call("ping")
                asked = [m.get("content") or "" for m in body.get("messages") or []
                         if isinstance(m, dict) and m.get("role") == "user"]
                if self.scripted and any(self.trigger in str(text) for text in asked):
                    return self.scripted.popleft()
        return Reply(texts=[self.default_text], chunk_delay=self.default_chunk_delay)

    def hang_connections(self, count: int = 1) -> None:
        """The next ``count`` connections are accepted and then never read or answered."""
        with self.lock:
            self._hang_connections = count
    def script(self, trigger: str, replies: list[dict[str, Any]]) -> None:
        """Scripted agent replies for the requests that mention ``trigger`` (see the module doc)."""
        with self.lock:
            self.trigger = trigger
            for item in replies:
                if "tool_call" in item:
                    name, args = item["tool_call"]
                    self.scripted.append(Reply.tool_call(name, args))
                else:
                    self.scripted.append(Reply(texts=[item.get("text", "")], chunk_delay=self.default_chunk_delay))

    def clear(self) -> None:
        """Drop the queued replies and the recorded requests."""
        with self.lock:
            for queue in self._queues.values():
                queue.clear()
            self.requests.clear()

    def pending(self, kind: str = CHAT) -> int:
        with self.lock:
            return len(self._queues[kind])

    def chat_bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of the chat requests so far, in order."""
        return [r.body for r in self.requests_to("/chat/completions")]

    def requests_to(self, suffix: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path.split("?")[0].rstrip("/").endswith(suffix)]

    # -- lifecycle --------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        self._httpd = _Server((self.host, self.port), _Handler)
        self._httpd.fake = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A fake OpenAI-compatible server on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port (0: a free one; printed first)")
    parser.add_argument("--reply", default="Hello from the fake model.", help="the answer to every request")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between streamed chunks")
    parser.add_argument("--model", action="append", help="model ids listed by /v1/models")
    parser.add_argument("--script", help="JSON file: a scripted agent conversation (see the module doc)")
    args = parser.parse_args(argv)
    return serve(FakeOpenAI(port=args.port, default_text=args.reply, models=args.model), args)


def serve(fake: FakeOpenAI, args: argparse.Namespace) -> int:
    """Run ``fake`` until interrupted, with the command line's ``--chunk-delay`` and
    ``--script``; its port is printed first (what the VS Code e2e harness reads)."""
    fake.default_chunk_delay = args.chunk_delay
    if args.script:
        with open(args.script, encoding="utf-8") as fh:
            data = json.load(fh)
        fake.script(data["trigger"], data["replies"])
    fake.start()
    print(fake.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
