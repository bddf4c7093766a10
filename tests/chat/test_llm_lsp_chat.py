"""Chat end to end over LSP: `codeloop serve` in a subprocess, the fake OpenAI server on
127.0.0.1, a pytest-lsp client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from lsprotocol import types

from codeloop.workspace.document import path_to_uri
from support.fake_openai import Reply
from support.lsp_client import fake_model_env, initialize, plain, serve_command, start_server, stop_server, wait_for

CANARY = "sk-canary-lsp-0123456789abcdefDONOTLEAK"
CHAT, CHUNK, CANCEL = "codeloop/chat", "codeloop/chatChunk", "codeloop/chatCancel"
SOURCE = "import math\n\n\ndef area(r):\n    return math.pi * r\n"


class Session:
    def __init__(self, client: Any, log_file: Any) -> None:
        self.client = client
        self.log_file = log_file
        self.chunks: list[tuple[str, str, float]] = []
        self.edits: list[types.ApplyWorkspaceEditParams] = client.edits  # recorded by support.lsp_client.instrument
        self.root_uri = ""

    def deltas(self, chat_id: str) -> list[str]:
        return [d for i, d, _ in self.chunks if i == chat_id]

    async def chat(self, chat_id: str, message: str, context: dict | None = None, history=()) -> dict:
        params: dict[str, Any] = {"id": chat_id, "message": message, "history": list(history),
                                  "tools": False}  # the plain streamed answer; the agent: tests/agent
        if context is not None:
            params["context"] = context
        result = await asyncio.wait_for(self.client.protocol.send_request_async(CHAT, params), 30)
        return plain(result)

    def open(self, name: str, text: str, version: int = 1) -> str:
        uri = f"{self.root_uri}/{name}"
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
        return uri

    async def apply(self, args: dict) -> dict:
        result = await asyncio.wait_for(self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="codeloop.applyCode", arguments=[args])), 30)
        return plain(result)


async def start(tmp_path, fake, *, model: str | None = "fake-model", init_options=None) -> Session:
    log_file = tmp_path / "server.log"
    client = await start_server(fake_model_env(fake, tmp_path, api_key=CANARY, model=model), serve_command(log_file))
    session = Session(client, log_file)

    @client.feature(CHUNK)
    def on_chunk(params):
        session.chunks.append((params.id, params.delta, time.monotonic()))

    root = tmp_path / "ws"
    root.mkdir()
    session.root_uri = path_to_uri(root)
    await initialize(client, root, init_options)
    return session


@pytest.fixture
async def lsp(tmp_path, fake_openai):
    session = await start(tmp_path, fake_openai)
    yield session
    await stop_server(session.client)


@pytest.fixture
async def lsp_no_model(tmp_path, fake_openai):
    session = await start(tmp_path, fake_openai, model=None)
    yield session
    await stop_server(session.client)


async def test_chat_streams_chunks_and_returns_the_text(lsp, fake_openai):
    fake_openai.add_chat(Reply.text("Multiply by r twice: math.pi * r ** 2."))
    uri = lsp.open("geo.py", SOURCE)
    context = {"uri": uri, "languageId": "python", "text": SOURCE,
               "selection": {"start": {"line": 3, "character": 0}, "end": {"line": 4, "character": 24}},
               "selectionText": "def area(r):\n    return math.pi * r"}
    history = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}]
    result = await lsp.chat("c1", "Is area right?", context, history)
    assert result == {"id": "c1", "text": "Multiply by r twice: math.pi * r ** 2.", "finishReason": "stop"}
    assert len(lsp.deltas("c1")) > 1 and "".join(lsp.deltas("c1")) == result["text"]
    (req,) = fake_openai.requests_to("/chat/completions")
    assert req.body["model"] == "fake-model" and req.body["stream"] is True
    assert [m["role"] for m in req.body["messages"]] == ["system", "user", "assistant", "user"]
    question = req.body["messages"][-1]["content"]
    assert "return math.pi * r" in question and "The selected code (lines 4-5)" in question
    assert req.headers["authorization"] == f"Bearer {CANARY}"
    assert CANARY not in req.raw.decode()


async def test_chat_uses_the_servers_copy_when_the_client_leaves_the_text_out(lsp, fake_openai):
    fake_openai.add_chat("ok")
    uri = lsp.open("geo.py", SOURCE)
    await lsp.chat("c2", "What does this file do?", {"uri": uri, "languageId": "python", "text": ""})
    assert "def area(r):" in fake_openai.requests_to("/chat/completions")[0].body["messages"][-1]["content"]


async def test_no_model_answers_how_to_configure(lsp_no_model, fake_openai):
    result = await lsp_no_model.chat("n1", "hello?")
    assert result["finishReason"] == "no_model" and "error" not in result
    assert "codeloop.model.name" in result["text"] and "Generate Tests" in result["text"]
    assert "".join(lsp_no_model.deltas("n1")) == result["text"]
    assert fake_openai.requests == []


async def test_model_error_gives_finish_reason_error(lsp, fake_openai):
    fake_openai.add_chat(Reply.unauthorized(f"Incorrect API key provided: {CANARY}"))
    result = await lsp.chat("e1", "hi")
    assert result["finishReason"] == "error" and result["text"] == "" and lsp.deltas("e1") == []
    assert "rejected the API key" in result["error"] and "\n" not in result["error"]
    assert CANARY not in result["error"]


async def test_truncated_stream_is_an_error_not_a_success(lsp, fake_openai):
    fake_openai.add_chat(Reply.cut("one two three four", after=2))
    result = await lsp.chat("t1", "hi")
    assert result["finishReason"] == "error" and "cut off" in result["error"]
    assert result["text"] == "one two "


async def cancel_mid_stream(lsp, fake_openai, how: str) -> tuple[dict, float]:
    fake_openai.add_chat(Reply.slow("abcdefghijklmnopqrstuvwxyz", chunk_delay=0.3))
    params = {"id": "x1", "message": "alphabet please", "history": [], "tools": False}
    request = asyncio.ensure_future(lsp.client.protocol.send_request_async(CHAT, params, msg_id="chat-x1"))
    await wait_for(lambda: lsp.deltas("x1"), what="the first chunk")
    t_cancel = time.monotonic()
    if how == "cancelRequest":
        lsp.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="chat-x1"))
    else:
        lsp.client.protocol.notify(CANCEL, {"id": "x1"})
    result = plain(await asyncio.wait_for(request, 10))
    t_result = time.monotonic()
    latency = t_result - t_cancel
    await asyncio.sleep(0.7)  # the next chunk was due 0.3 s later: nothing more may arrive
    late = [d for i, d, t in lsp.chunks if i == "x1" and t > t_result]
    assert late == []
    return result, latency


@pytest.mark.parametrize("how", ["cancelRequest", "chatCancel"])
async def test_cancel_stops_the_stream(lsp, fake_openai, how):
    result, latency = await cancel_mid_stream(lsp, fake_openai, how)
    assert result["finishReason"] == "cancelled" and result["id"] == "x1"
    assert result["text"] == "".join(lsp.deltas("x1")) and result["text"].startswith("a")
    assert len(result["text"]) < 26
    print(f"cancel ({how}) -> result in {latency * 1000:.1f} ms")  # shown with -s
    assert latency < 1.0, f"cancel took {latency:.3f} s"


async def test_apply_code_with_the_matching_version(lsp):
    uri = lsp.open("geo.py", SOURCE, version=3)
    rng = {"start": {"line": 4, "character": 4}, "end": {"line": 4, "character": 24}}
    result = await lsp.apply({"uri": uri, "version": 3, "text": "return math.pi * r ** 2", "range": rng})
    assert result == {"applied": True}
    (params,) = lsp.edits
    (change,) = params.edit.document_changes
    assert change.text_document.uri == uri and change.text_document.version == 3
    (edit,) = change.edits
    assert edit.new_text == "return math.pi * r ** 2"
    assert (edit.range.start.line, edit.range.start.character, edit.range.end.character) == (4, 4, 24)


async def test_apply_code_without_range_replaces_the_definition(lsp):
    uri = lsp.open("geo.py", SOURCE, version=1)
    result = await lsp.apply({"uri": uri, "version": 1, "text": "def area(r):\n    return math.pi * r ** 2\n"})
    assert result == {"applied": True}
    edit = lsp.edits[0].edit.document_changes[0].edits[0]
    assert (edit.range.start.line, edit.range.end.line) == (3, 4)


async def test_apply_code_with_a_stale_version_does_nothing(lsp):
    uri = lsp.open("geo.py", SOURCE, version=1)
    lsp.client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=SOURCE + "# edited\n")]))
    result = await lsp.apply({"uri": uri, "version": 1, "text": "x = 1\n"})
    assert result == {"applied": False, "reason": "document changed since the answer was produced"}
    assert lsp.edits == []


async def test_key_never_in_the_server_log(lsp, fake_openai):
    fake_openai.add_chat(Reply.error(400, f"bad request {CANARY}"))
    result = await lsp.chat("k1", f"my key is {CANARY}")
    assert result["finishReason"] == "error"
    assert CANARY not in result["error"]
    assert CANARY not in fake_openai.requests_to("/chat/completions")[0].raw.decode()
    text = lsp.log_file.read_text()  # the handler flushes every record
    assert "chat k1" in text and CANARY not in text


async def test_a_cancel_that_overtakes_its_request_still_cancels(lsp, fake_openai):
    fake_openai.add_chat(Reply.slow("abcdefghij", chunk_delay=0.3))
    lsp.client.protocol.notify(CANCEL, {"id": "early"})
    result = await lsp.chat("early", "hi")
    assert result["finishReason"] == "cancelled" and result["text"] == ""


async def test_a_flapping_endpoint_gives_one_line_and_the_next_request_works(tmp_path, fake_openai):
    """The endpoint alternates 500 and OK: a 500 then OK is retried unseen; two 500s in a
    row are one clear error; the server keeps running and the next chat works. A stall
    mid-answer ends it as truncated with the text so far."""
    session = await start(tmp_path, fake_openai, init_options={"model": {"maxRetries": 1, "timeout": 1}})
    try:
        fake_openai.add_chat(Reply.error(500, "flap"), "first answer")
        assert (await session.chat("f1", "hi"))["text"] == "first answer"
        fake_openai.add_chat(Reply.error(500, "flap"), Reply.error(502, "flap again"))
        failed = await session.chat("f2", "hi")
        assert failed["finishReason"] == "error" and failed["text"] == ""
        assert "HTTP 502 after 2 attempts" in failed["error"] and "\n" not in failed["error"]
        fake_openai.add_chat("back again")
        assert await session.chat("f3", "hi") == {"id": "f3", "text": "back again", "finishReason": "stop"}
        fake_openai.add_chat(Reply.stall("half an answer", after=1))
        stalled = await session.chat("f4", "hi")
        assert stalled["finishReason"] == "error" and stalled["text"] == "half "
        assert stalled["error"].startswith("truncated: no token for 1 s")
        fake_openai.add_chat("still here")
        assert (await session.chat("f5", "hi"))["text"] == "still here"
        assert len(fake_openai.requests_to("/chat/completions")) == 7
    finally:
        await stop_server(session.client)
