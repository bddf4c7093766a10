"""``textDocument/publishDiagnostics`` without serialising a long list on the event loop.

pygls turns a notification into JSON on the thread that sends it: for a 10,000-line file
(~1,550 diagnostics, ~410 KB) cattrs and ``json.dumps`` take ~21 ms, on the loop, every
time the list changes (typing a newline above them moves them all). A list of at least
:data:`LARGE` diagnostics is therefore encoded in a worker thread and written when it is
ready, unless a newer list for the same URI was published meanwhile (then it is dropped:
the client must never get an older list after a newer one). Smaller lists, and calls from
outside the event loop's thread, go out at once through pygls as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

from lsprotocol import types

log = logging.getLogger(__name__)

LARGE = 200  # diagnostics in one message from which it is encoded in a worker thread


class DiagnosticsPublisher:
    def __init__(self, server: Any) -> None:
        self._server = server
        self._lock = threading.Lock()
        self._seq = 0
        self._latest: dict[str, int] = {}  # uri -> the newest publish's number

    def publish(self, uri: str, version: int | None, diagnostics: list[types.Diagnostic]) -> None:
        params = types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics)
        with self._lock:
            self._seq += 1
            seq = self._latest[uri] = self._seq
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or len(diagnostics) < LARGE:
            self._server.text_document_publish_diagnostics(params)
            return
        future = loop.run_in_executor(None, self._encode, params)
        future.add_done_callback(lambda done: self._send(uri, seq, done))

    def _encode(self, params: types.PublishDiagnosticsParams) -> bytes:
        protocol = self._server.protocol
        body = json.dumps({
            "jsonrpc": "2.0",
            "method": types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
            "params": protocol._converter.unstructure(params, types.PublishDiagnosticsParams),
        }).encode("utf-8")
        header = (f"Content-Length: {len(body)}\r\n"
                  f"Content-Type: {protocol.CONTENT_TYPE}; charset={protocol.CHARSET}\r\n\r\n")
        return header.encode("ascii") + body

    def _send(self, uri: str, seq: int, done: asyncio.Future) -> None:
        if done.cancelled():
            return
        if done.exception() is not None:
            self._server.report_failure("encoding diagnostics", done.exception())
            return
        with self._lock:
            if self._latest.get(uri) != seq:
                return  # a newer list went out (or is being encoded): this one is stale
        writer = self._server.protocol.writer
        if writer is None:
            return
        try:
            writer.write(done.result())
        except Exception as exc:  # noqa: BLE001 - like pygls's own send: reported, the server goes on
            log.warning("sending diagnostics for %s failed: %s", uri, exc)
