"""textDocument/inlineCompletion end to end over `codeloop serve` and the fake OpenAI server."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from support.fake_openai import Reply
from support.inline import items, model_called

SOURCE = 'import math\n\n\ndef area(r):\n    \n\n\nprint(area(2))\n'


async def test_capability_is_advertised(lsp):
    assert lsp.init_result.capabilities.inline_completion_provider is not None


async def test_completion_after_a_def_line_sends_the_suffix(lsp, fake_openai):
    fake_openai.add_completion("return math.pi * r ** 2\n\n\nprint(area(2))\n")
    uri = lsp.open("geo.py", SOURCE)
    result = items(await lsp.complete(uri, 4, 4))
    assert len(result) == 1
    assert result[0].insert_text == "    return math.pi * r ** 2"
    assert result[0].range.start.line == 4 and result[0].range.end.character == 4
    (req,) = fake_openai.requests_to("/v1/completions")
    assert req.body["prompt"].endswith("def area(r):\n    ")
    assert req.body["suffix"].startswith("\n\n\nprint(area(2))")
    assert req.body["model"] == "fake"


async def test_a_repeat_is_served_from_the_cache(lsp, fake_openai):
    fake_openai.add_completion("return 2 * r")
    uri = lsp.open("geo.py", SOURCE)
    first = items(await lsp.complete(uri, 4, 4))
    second = items(await lsp.complete(uri, 4, 4))
    assert [i.insert_text for i in first] == [i.insert_text for i in second] == ["    return 2 * r"]
    assert len(fake_openai.requests_to("/v1/completions")) == 1
    stats = await lsp.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="codeloop.inlineCompletionStats", arguments=[]))
    assert (stats["modelCalls"], stats["cacheHits"]) == (1, 1)
    assert [kind for kind, ms in stats["handlerMs"]] == ["miss", "hit"]
    assert all(ms >= 0 for kind, ms in stats["handlerMs"])


async def test_no_trigger_no_model_call(lsp, fake_openai):
    uri = lsp.open("geo.py", "x = 1\ny = 2\n")
    assert items(await lsp.complete(uri, 1, 5)) == []
    assert fake_openai.requests_to("/v1/completions") == []


async def test_a_newer_request_cancels_the_older(lsp, fake_openai):
    fake_openai.add_completion(Reply(texts=["return 1"], delay=3.0), "return 2")
    uri = lsp.open("geo.py", SOURCE)
    older = asyncio.ensure_future(lsp.complete(uri, 4, 4))
    await model_called(fake_openai, 1)  # the older one is waiting for the model
    lsp.change(uri, SOURCE.replace("def area(r):", "def area(radius):"), 2)
    newer = items(await lsp.complete(uri, 4, 4))
    assert [i.insert_text for i in newer] == ["    return 2"]
    assert items(await asyncio.wait_for(older, 2.0)) == []


async def test_cancel_request_stops_the_model_wait(lsp, fake_openai):
    fake_openai.add_completion(Reply(texts=["return 1"], delay=3.0))
    uri = lsp.open("geo.py", SOURCE)
    future = asyncio.ensure_future(lsp.client.protocol.send_request_async(
        types.TEXT_DOCUMENT_INLINE_COMPLETION, lsp.params(uri, 4, 4), msg_id="inline-cancel-1"))
    await model_called(fake_openai, 1)
    lsp.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="inline-cancel-1"))
    try:
        result = await asyncio.wait_for(future, 10.0)
    except Exception as exc:  # noqa: BLE001 - a RequestCancelled error is the expected answer
        assert "cancel" in str(exc).lower() or type(exc).__name__.lower().find("cancel") >= 0
    else:
        assert items(result) == []


async def test_no_model_answers_empty_and_logs_once(lsp_no_model, fake_openai):
    uri = lsp_no_model.open("geo.py", SOURCE)
    assert items(await lsp_no_model.complete(uri, 4, 4)) == []
    assert items(await lsp_no_model.complete(uri, 4, 4)) == []
    assert fake_openai.requests == []
    notes = [m for m in lsp_no_model.logs if "inline completion" in m.message]
    assert len(notes) == 1 and "no model" in notes[0].message
    assert lsp_no_model.shown == []


async def test_model_error_answers_empty_and_logs(lsp, fake_openai):
    fake_openai.add_completion(*[Reply.error(500, "boom")] * 3)
    uri = lsp.open("geo.py", SOURCE)
    assert items(await lsp.complete(uri, 4, 4)) == []
    notes = [m for m in lsp.logs if "inline completion" in m.message]
    assert len(notes) == 1
    assert lsp.shown == []
