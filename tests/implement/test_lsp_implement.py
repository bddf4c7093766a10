"""The codeloop.implement command over LSP (pytest-lsp, the real server, the fake model)."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from support.fake_openai import Reply
from support.lsp_client import (
    command_params,
    fake_model_env,
    initialize,
    needs_level_a,
    open_document,
    plain,
    start_server,
    stop_server,
    wait_for,
)

KEY = "sk-lsp-implement-0123456789abcdefDONOTLEAK"
SOURCE = '''def double(x: int) -> int:
    """Twice x.

    >>> double(2)
    4
    """
    ...
'''
RIGHT = "```python\ndef double(x: int) -> int:\n    return 2 * x\n```"
WRONG = "```python\ndef double(x: int) -> int:\n    return x * 3\n```"
TESTS = "```python\nfrom calc import double\n\ndef test_zero():\n    assert double(0) == 0\n```"


pytestmark = needs_level_a()


@pytest.fixture
async def lsp(tmp_path, fake_openai):
    client = await start_server(fake_model_env(fake_openai, tmp_path, api_key=KEY))
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.codeloop.generate]\nrepair_rounds = 0\n[tool.codeloop.model]\ncandidates = 2\n")
    (root / "calc.py").write_text(SOURCE)
    await initialize(client, root)
    client.root = root  # type: ignore[attr-defined]
    client.uri = open_document(client, root / "calc.py", SOURCE)  # type: ignore[attr-defined]
    yield client
    await stop_server(client)


async def implement(client, **extra) -> dict:
    args = {"uri": client.uri, "line": 0, "version": 1, **extra}
    result = await asyncio.wait_for(
        client.workspace_execute_command_async(command_params("codeloop.implement", args)), 120)
    return plain(result)


async def test_verified_implementation_is_applied_with_its_evidence(lsp, fake_openai):
    fake_openai.add_chat(Reply.text(WRONG, RIGHT), TESTS)
    result = await implement(lsp)
    assert result["applied"] is True and result["verified"] is True
    assert result["title"].startswith("Implement double (verified): 1/1 examples, 1/1 model tests, 7/7 return-type checks pass")
    (edit,) = lsp.edits
    (change,) = edit.edit.document_changes
    assert change.text_document.version == 1
    (text_edit,) = change.edits
    assert (text_edit.range.start.line, text_edit.range.end.line) == (6, 7)
    assert text_edit.new_text == "    return 2 * x\n"
    assert any("Implement double (verified): 1/1 examples" in m.message for m in lsp.messages)
    assert (lsp.root / "calc.py").read_text() == SOURCE  # the server never writes files itself
    assert all(KEY not in str(r.body) for r in fake_openai.requests)


async def test_unverified_is_not_applied_unless_accepted(lsp, fake_openai):
    fake_openai.add_chat(Reply.text(WRONG, WRONG), TESTS)
    result = await implement(lsp)
    assert result["applied"] is False and result["verified"] is False
    assert result["title"].startswith("Implement double (unverified):")
    assert any("expected 4" in f for f in result["failed"])
    assert lsp.edits == []
    fake_openai.add_chat(Reply.text(WRONG, WRONG), TESTS)
    result = await implement(lsp, acceptUnverified=True)
    assert result["applied"] is True and result["verified"] is False
    assert len(lsp.edits) == 1


async def test_document_edited_during_generation_gets_no_edit(lsp, fake_openai):
    answer = Reply.text(RIGHT, RIGHT)
    answer.delay = 1.5
    fake_openai.add_chat(answer, TESTS)
    task = asyncio.ensure_future(implement(lsp))
    # edit while the model is answering (its answer comes 1.5 s after the request)
    await wait_for(lambda: fake_openai.requests_to("/chat/completions"), what="the model call")
    lsp.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=lsp.uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=SOURCE + "\nX = 1\n")],
    ))
    result = await task
    assert result["applied"] is False and "changed while the implementation was generated" in result["reason"]
    assert lsp.edits == []


async def test_model_error_gives_one_message_and_no_edit(lsp, fake_openai):
    fake_openai.add_chat(*[Reply.error(500, "boom")] * 3)  # the first try and the 2 default retries
    result = await implement(lsp)
    assert result["applied"] is False and result["errorKind"] == "server_error"
    assert "HTTP 500" in result["error"]
    assert lsp.edits == []
