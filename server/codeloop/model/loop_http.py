"""HTTP/1.1 POST on the running event loop, for the one call where a thread hand-off is
most of the cost: an inline completion from a local endpoint.

Through the SDK a model call runs in a worker thread: two thread wake-ups and about 1 ms of
CPU (request building, typed responses) per inline completion, which under load is what
sets its tail (bench/lsp/session9-inline.md). For a plain ``http://`` endpoint that no proxy
setting covers (the local servers: Ollama, llama.cpp, vLLM, LM Studio) :class:`LoopHttp`
sends the JSON itself on the loop, over keep-alive connections; anything else (``https``,
a proxy) keeps the SDK. Only the transport is here: what to send and how answers and
failures read is :class:`~codeloop.model.openai_client.OpenAIClient`'s.
"""

from __future__ import annotations

import asyncio
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

MAX_HEAD = 64 * 1024  # status line and headers
MAX_BODY = 16 * 1024 * 1024  # a completion is a few KiB; more is not an answer to read
KEEP_IDLE = 4  # connections kept open between calls


class BadResponse(ConnectionResetError):
    """The endpoint closed the connection or sent something that is not an HTTP answer
    (read as a reset: the SDK's reading of the same, so the same retry rules apply)."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def _proxied(host: str, environ: Mapping[str, str]) -> bool:
    """Whether the environment routes ``http://host`` through a proxy (as httpx reads it)."""
    proxies = {k.lower(): v for k, v in environ.items() if k.lower() in ("http_proxy", "all_proxy") and v}
    if not proxies:
        return False
    no_proxy = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
    if no_proxy.strip() == "*":
        return False
    hosts = [h.strip().lstrip(".").lower() for h in no_proxy.split(",") if h.strip()]
    host = host.lower()
    return not any(host == h or host.endswith("." + h) for h in hosts)


class LoopHttp:
    """POSTs to one ``http://host:port/base`` from coroutines of one event loop at a time."""

    def __init__(self, host: str, port: int, base_path: str, host_header: str) -> None:
        self.host, self.port, self.base_path, self.host_header = host, port, base_path, host_header
        self._idle: list[Connection] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def for_base_url(cls, base_url: str, environ: Mapping[str, str] | None = None) -> LoopHttp | None:
        """A client for ``base_url``, or None when the SDK should make the call (``https``, a proxy)."""
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname or parts.username or parts.password:
            return None
        if _proxied(parts.hostname, os.environ if environ is None else environ):
            return None
        try:
            port = parts.port or 80
        except ValueError:
            return None
        return cls(parts.hostname, port, parts.path.rstrip("/"), parts.netloc)

    async def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> Response:
        """POST ``body`` to ``base_path + path``. Raises OSError (refused, reset,
        :class:`BadResponse`); bounding the time is the caller's (cancel the task)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections belong to the loop that opened them
            self._loop, self._idle = loop, []
        head = [f"POST {self.base_path}{path} HTTP/1.1", f"Host: {self.host_header}",
                "Content-Type: application/json", "Accept: application/json", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        conn = self._reuse() or await asyncio.open_connection(self.host, self.port)
        try:
            conn[1].write(request)
            await conn[1].drain()
            response, keep = await _read_response(conn[0])
        except BaseException:
            conn[1].close()  # a half-read answer (or a cancel) leaves the connection unusable
            raise
        if keep and len(self._idle) < KEEP_IDLE:
            self._idle.append(conn)
        else:
            conn[1].close()
        return response

    def _reuse(self) -> Connection | None:
        """An idle connection the endpoint has not closed meanwhile (its EOF is already read)."""
        while self._idle:
            reader, writer = self._idle.pop()
            if not (reader.at_eof() or writer.is_closing()):
                return reader, writer
            writer.close()
        return None

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle = []


async def _read_response(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    """One answer (an informational 1xx skipped) and whether the connection can be reused."""
    while True:
        status_line = await _line(reader)
        if not status_line:
            raise BadResponse("the endpoint closed the connection without an answer")
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise BadResponse("the endpoint's answer is not HTTP")
        status = int(parts[1])
        headers: dict[str, str] = {}
        size = len(status_line)
        while True:
            line = await _line(reader)
            size += len(line)
            if size > MAX_HEAD or not line:
                raise BadResponse("the endpoint's answer headers are cut or too long")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if not 100 <= status < 200:
            break
    keep = parts[0] == b"HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise BadResponse("the endpoint's answer has a bad Content-Length") from None
        if not 0 <= length <= MAX_BODY:
            raise BadResponse("the endpoint's answer is too long")
        body = await _exactly(reader, length)
    elif status in (204, 304):
        body = b""
    else:  # the body ends with the connection
        body = await reader.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise BadResponse("the endpoint's answer is too long")
        keep = False
    return Response(status, headers, body), keep


async def _line(reader: asyncio.StreamReader) -> bytes:
    """One line of the answer's head ("" at the end of the stream); a line past the reader's
    limit (64 KiB) is no answer to read."""
    try:
        return await reader.readline()
    except ValueError:  # asyncio.LimitOverrunError's way out of readline
        raise BadResponse("the endpoint's answer has a line too long") from None


async def _exactly(reader: asyncio.StreamReader, n: int) -> bytes:
    try:
        return await reader.readexactly(n)
    except asyncio.IncompleteReadError:
        raise BadResponse("the endpoint closed the connection in the middle of its answer") from None


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        line = await _line(reader)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadResponse("the endpoint's chunked answer is malformed") from None
        if size == 0:
            break
        total += size
        if total > MAX_BODY:
            raise BadResponse("the endpoint's answer is too long")
        chunks.append((await _exactly(reader, size + 2))[:-2])
    while await _line(reader) not in (b"\r\n", b"\n", b""):  # trailers
        pass
    return b"".join(chunks)


__all__ = ["BadResponse", "LoopHttp", "Response"]
