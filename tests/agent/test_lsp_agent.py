"""The chat agent over LSP (issue 14, items 2 and 5): ``codeloop/chat`` with tool cards and
proposals as notifications, the final answer in the result's ``text``, proposals applied
only when the document is still the one they were made against."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from codeloop.learn.log import RewardLog
from support.fake_openai import Reply
from support.lsp_client import (
    change_document,
    execute,
    fake_model_env,
    initialize,
    open_document,
    plain,
    serve_command,
    start_server,
    stop_server,
    wait_for,
)

MEAN = [{"old_text": "    ...\n", "new_text": "    return sum(values) / len(values)\n"}]
RIGHT = "```python\ndef mean(values: list[float]) -> float:\n    return sum(values) / len(values)\n```"
TESTS = "```python\nfrom calc.ops import mean\n\ndef test_one():\n    assert mean([4.0]) == 4.0\n```"


async def command(client: Any, name: str, args: dict) -> dict:
    return (await execute(client, name, args))["result"]


class Chat:
    def __init__(self, client: Any, root: Path) -> None:
        self.client, self.root = client, root
        self.notes: list[tuple[str, dict]] = []
        for method in ("codeloop/chatChunk", "codeloop/chatTool", "codeloop/chatProposal"):
            client.feature(method)(lambda params, method=method: self.notes.append((method, plain(params))))

    async def ask(self, chat_id: str, message: str, **extra: Any) -> dict:
        params = {"id": chat_id, "message": message, "history": [], **extra}
        return plain(await asyncio.wait_for(self.client.protocol.send_request_async("codeloop/chat", params), 60))

    def of(self, method: str) -> list[dict]:
        return [p for m, p in self.notes if m == method]


@pytest.fixture
async def chat(tmp_path, calc, fake_openai):
    client = await start_server(fake_model_env(fake_openai, tmp_path), serve_command(tmp_path / "server.log"))
    await initialize(client, calc)
    yield Chat(client, calc)
    await stop_server(client)


async def test_tool_cards_a_proposal_and_the_answer(chat: Chat, fake_openai) -> None:
    fake_openai.add_chat(Reply.tool_call("ping"), Reply.tool_call("search_code", {"query": "mean"}),
                         Reply.tool_call("propose_edit", {"path": "calc/ops.py", "edits": MEAN}),
                         Reply.text("I proposed an implementation of mean."))
    result = await chat.ask("c1", "implement mean")
    assert result["text"] == "I proposed an implementation of mean." and result["finishReason"] == "stop"
    assert result["mode"] == "tools" and result["usage"]["requests"] == 4
    assert [(c["name"], c["status"]) for c in result["toolCalls"]] == [("search_code", "done"),
                                                                      ("propose_edit", "done")]
    await wait_for(lambda: len(chat.of("codeloop/chatProposal")) == 1, what="the proposal")
    assert [(n["name"], n["status"]) for n in chat.of("codeloop/chatTool")] == [
        ("search_code", "running"), ("search_code", "done"), ("propose_edit", "running"), ("propose_edit", "done")]
    proposal = chat.of("codeloop/chatProposal")[0]["proposal"]
    assert proposal["path"] == "calc/ops.py" and "+    return sum(values) / len(values)" in proposal["diff"]
    assert "".join(n["delta"] for n in chat.of("codeloop/chatChunk") if n["id"] == "c1") == result["text"]
    assert "    ...\n" in (chat.root / "calc/ops.py").read_text()  # nothing applied by the model
    applied = await command(chat.client, "codeloop.applyProposal", {"id": proposal["id"]})
    assert applied == {"applied": True}
    (edit,) = chat.client.edits
    assert edit.edit.document_changes[-1].edits[0].new_text.endswith("        return self.total\n")
    again = await command(chat.client, "codeloop.applyProposal", {"id": proposal["id"]})
    assert again["applied"] is False and again["reason"].startswith("no such proposal")


async def test_a_proposal_after_a_document_change_is_refused(chat: Chat, fake_openai) -> None:
    ops = chat.root / "calc/ops.py"
    uri = open_document(chat.client, ops, ops.read_text(), version=1)
    fake_openai.add_chat(Reply.tool_call("ping"),
                         Reply.tool_call("propose_edit", {"path": "calc/ops.py", "edits": MEAN}), Reply.text("done"))
    result = await chat.ask("c2", "implement mean", context={"uri": uri})
    proposal = result["proposals"][0]
    assert proposal["version"] == 1 and proposal["uri"] == uri
    change_document(chat.client, uri, 2, [(None, ops.read_text() + "# edited\n")])
    await asyncio.sleep(0.2)
    refused = await command(chat.client, "codeloop.applyProposal", {"id": proposal["id"]})
    assert refused == {"applied": False,
                       "reason": "the file changed since the proposal was made; nothing applied (ask again)"}
    assert chat.client.edits == []
    assert await command(chat.client, "codeloop.discardProposal", {"id": proposal["id"]}) == {"discarded": True}


async def test_slash_commands_over_lsp_without_a_model(tmp_path, calc, fake_openai) -> None:
    client = await start_server(fake_model_env(fake_openai, tmp_path, model=None), serve_command())
    try:
        await initialize(client, calc)
        chat = Chat(client, calc)
        result = await chat.ask("s1", "/symbol calc.ops.add")
        assert result["mode"] == "slash" and result["text"].startswith("function calc.ops.add(a: int, b: int)")
        plain_question = await chat.ask("s2", "what does add do?")
        assert plain_question["finishReason"] == "no_model" and "/search QUERY" in plain_question["text"]
        assert fake_openai.chat_bodies() == []
    finally:
        await stop_server(client)


async def test_an_ask_policy_tool_runs_after_the_user_says_run(tmp_path, calc, fake_openai) -> None:
    client = await start_server(fake_model_env(fake_openai, tmp_path), serve_command())
    asked: list[str] = []

    @client.feature("window/showMessageRequest")
    def show_message_request(params):
        asked.append(params.message)
        title = "Run" if "list_intents" in params.message else "Skip"
        return next(a for a in params.actions if a.title == title)

    try:
        await initialize(client, calc, {"agent": {"tools": {"list_intents": "ask", "read_file": "ask"}}})
        chat = Chat(client, calc)
        fake_openai.add_chat(Reply.tool_call("ping"),
                             Reply.calls(("list_intents", {"path": "calc"}), ("read_file", {"path": "calc/ops.py"})),
                             Reply.text("ok"))
        result = await chat.ask("a1", "what is left to do?")
        assert [(c["name"], c["status"]) for c in result["toolCalls"]] == [("list_intents", "done"),
                                                                          ("read_file", "declined")]
        assert len(asked) == 2 and "list_intents" in asked[0]
        results = [m["content"] for m in fake_openai.chat_bodies()[2]["messages"] if m["role"] == "tool"]
        assert "calc/ops.py:13: implement: mean" in results[0]
        assert results[1] == "error: the user declined to run read_file"
    finally:
        await stop_server(client)


async def test_implements_from_chat_mark_the_reward_log_when_applied_or_discarded(tmp_path, calc, fake_openai,
                                                                                  needs_bwrap) -> None:
    """The implement tool logs its candidates in the log the LSP implement path writes;
    applying the proposal that brings the best one in marks it accepted, discarding one
    marks it not accepted."""
    client = await start_server(fake_model_env(fake_openai, tmp_path), serve_command())
    try:
        await initialize(client, calc, {"model": {"candidates": 2},
                                        "generate": {"repairRounds": 0, "extraSamples": 0}})
        chat = Chat(client, calc)
        for chat_id in ("r1", "r2"):
            fake_openai.add_chat(*([Reply.tool_call("ping")] if chat_id == "r1" else []),
                                 Reply.tool_call("implement", {"target": "calc/ops.py::mean"}),
                                 Reply.text(RIGHT, RIGHT), TESTS,
                                 Reply.tool_call("propose_edit", {"path": "calc/ops.py", "edits": MEAN}),
                                 Reply.text("proposed"))
            result = await chat.ask(chat_id, "implement mean")
            assert [c["status"] for c in result["toolCalls"]] == ["done", "done"], result["toolCalls"]
            assert result["toolCalls"][0]["result"].startswith("verified: Implement mean (verified)")
            proposal = result["proposals"][0]["id"]
            if chat_id == "r1":
                assert await command(client, "codeloop.discardProposal", {"id": proposal}) == {"discarded": True}
            else:
                assert await command(client, "codeloop.applyProposal", {"id": proposal}) == {"applied": True}
        with RewardLog(tmp_path / "data/codeloop/rewards.sqlite3", readonly=True) as log:
            rows = list(log.rows())
        assert len(rows) == 4 and all(r.verified and r.intent_kind == "implement" for r in rows)
        assert [r.accepted for r in rows] == [False, None, True, None]  # each conversation's best
    finally:
        await stop_server(client)
