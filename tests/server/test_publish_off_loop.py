"""Long diagnostics lists are encoded in a worker thread: the client gets the same JSON as
pygls would send, and never an older list after a newer one for the same document."""

from __future__ import annotations

import asyncio
import json

from lsprotocol import types

from codeloop.lsp.publish import LARGE
from codeloop.lsp.server import create_server

URI = "file:///tmp/long.py"


class Capture:
    """A pygls writer that keeps the bytes (the protocol's writer interface)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data.extend(data)

    def close(self) -> None:
        pass

    def messages(self) -> list[dict]:
        out, rest = [], bytes(self.data)
        while rest:
            head, rest = rest.split(b"\r\n\r\n", 1)
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            out.append(json.loads(rest[:length]))
            rest = rest[length:]
        return out


def diagnostics(count: int, text: str) -> list[types.Diagnostic]:
    return [types.Diagnostic(
        range=types.Range(start=types.Position(line=i, character=0), end=types.Position(line=i, character=5)),
        message=f"{text} {i}", severity=types.DiagnosticSeverity.Hint, code="codeloop.untested", source="codeloop",
        data={"kind": "generate_tests", "name": f"f{i}"}) for i in range(count)]


async def settle() -> None:
    for _ in range(200):
        await asyncio.sleep(0.01)


def test_a_long_list_goes_out_as_pygls_would_send_it() -> None:
    server = create_server()
    ours, theirs = Capture(), Capture()
    listed = diagnostics(LARGE + 50, "untested")

    async def main() -> None:
        server.protocol.set_writer(ours)
        server._publish_composed(URI, listed)
        assert not ours.data  # encoded in a worker: nothing written synchronously
        await settle()
        server.protocol.set_writer(theirs)  # pygls's own encoding of the same notification
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=URI, version=None, diagnostics=listed))

    asyncio.run(main())
    assert ours.messages() == theirs.messages()
    assert len(ours.messages()[0]["params"]["diagnostics"]) == LARGE + 50


def test_an_older_long_list_is_dropped_when_a_newer_one_was_published() -> None:
    server = create_server()
    capture = Capture()

    async def main() -> None:
        server.protocol.set_writer(capture)
        server._publish_composed(URI, diagnostics(LARGE * 3, "old"))
        server._publish_composed(URI, diagnostics(2, "new"))  # short: sent at once
        server._publish_composed("file:///tmp/other.py", diagnostics(LARGE, "other"))
        await settle()

    asyncio.run(main())
    sent = capture.messages()
    by_uri = {m["params"]["uri"]: m["params"]["diagnostics"] for m in sent}
    assert len(sent) == 2  # the old list for URI never went out
    assert [d["message"] for d in by_uri[URI]] == ["new 0", "new 1"]
    assert len(by_uri["file:///tmp/other.py"]) == LARGE
