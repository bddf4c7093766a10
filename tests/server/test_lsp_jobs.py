"""Jobs and shared diagnostics end to end (pytest-lsp, the real server and sandbox, the fake model).

``codeloop.cancel`` stops a running implement (no edit); ``codeloop/status`` names the work
in progress while it runs and is idle after; test diagnostics and intent diagnostics of one
file both survive when either source republishes.
"""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from support.fake_openai import Reply
from support.lsp_client import (
    busy,
    change_document,
    execute,
    make_workspace,
    needs_level_a,
    open_document,
    request_raw,
    start_client,
    wait_for,
)

pytestmark = needs_level_a()

STUB = 'def half(x: float) -> float:\n    """Half of x.\n\n    >>> half(3.0)\n    1.5\n    """\n    ...\n'
RIGHT = "```python\ndef half(x: float) -> float:\n    return x / 2\n```"
# cap(11, 10) should be 10; the raise gives calc.py its own test diagnostic (raised here)
CALC = "# TODO: support floats\ndef cap(x, hi):\n    if x > hi:\n        raise ValueError(x)\n    return x\n"
TESTS = "from calc import cap\n\n\ndef test_high():\n    assert cap(11, 10) == 10\n"


def implement_tokens(client) -> list[str]:
    return [t for t in client.progress_reports if str(t).startswith("codeloop-implement-")]


@pytest.fixture
async def lsp(tmp_path, fake_openai):
    root = make_workspace(tmp_path, {"calc.py": CALC, "stub.py": STUB, "tests/test_calc.py": TESTS}, candidates=1)
    client = await start_client(root, fake_openai, tmp_path)
    client.root = root  # type: ignore[attr-defined]
    yield client
    if not getattr(client, "shut_down", False):
        await client.shutdown_session()
    await client.stop()


async def test_cancel_stops_a_running_implement_and_status_names_it(lsp, fake_openai):
    uri = open_document(lsp, lsp.root / "stub.py", STUB)
    fake_openai.add_chat(Reply.text(RIGHT, delay=60))  # the model takes a minute
    task = asyncio.ensure_future(execute(lsp, "codeloop.implement", {"uri": uri, "line": 0, "version": 1}))
    await wait_for(lambda: busy(lsp) == "Implement half", timeout=30, what="busy: Implement half")
    await wait_for(lambda: implement_tokens(lsp), what="the implement progress")

    cancelled = await execute(lsp, "codeloop.cancel", {"uri": uri})
    assert cancelled["result"] == {"cancelled": 1}
    answer = (await asyncio.wait_for(task, 30))["result"]
    assert answer["applied"] is False and answer["reason"] == "cancelled", answer
    await wait_for(lambda: not busy(lsp), what="idle status")
    assert busy(lsp) in (None, False)
    assert lsp.edits == []
    (token,) = implement_tokens(lsp)
    await wait_for(lambda: isinstance(lsp.progress_reports[token][-1], types.WorkDoneProgressEnd), what="progress end")
    assert not [d for d in lsp.diagnostics.get(uri, []) if d.code == "codeloop.unverified"]
    again = await execute(lsp, "codeloop.cancel")
    assert again["result"] == {"cancelled": 0}


async def test_shutdown_during_an_implement_answers_cleanly(lsp, fake_openai):
    uri = open_document(lsp, lsp.root / "stub.py", STUB)
    fake_openai.add_chat(Reply.text(RIGHT, delay=60))
    task = asyncio.ensure_future(execute(lsp, "codeloop.implement", {"uri": uri, "line": 0, "version": 1}))
    await wait_for(lambda: busy(lsp) == "Implement half", timeout=30, what="busy: Implement half")
    response = await request_raw(lsp, types.SHUTDOWN, None)
    lsp.shut_down = True
    lsp.exit(None)
    assert "error" not in response and response["result"] is None, response
    await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 30)  # answered or cancelled
    assert lsp.edits == []


async def test_test_and_intent_diagnostics_survive_each_others_republish(lsp):
    uri = open_document(lsp, lsp.root / "calc.py", CALC)

    def sources() -> set[str]:
        return {d.source for d in lsp.diagnostics.get(uri, [])}

    await wait_for(lambda: "codeloop" in sources(), what="intent diagnostics")
    response = await execute(lsp, "codeloop.runTests", {"uri": uri})
    assert response["result"]["failed"] == 1, response
    await wait_for(lambda: sources() == {"codeloop", "codeloop-tests"}, what="tests and intents together")

    # the intents republish after a change (the TODO reads differently): the test diagnostic stays
    change_document(lsp, uri, 2, [((0, 16, 0, 22), "decimals")])
    await wait_for(lambda: any(d.code == "codeloop.todo" and "decimals" in d.message
                               for d in lsp.diagnostics.get(uri, [])), what="intents republished")
    assert "codeloop-tests" in sources()

    # the tests republish (fixed on disk): the intent diagnostics stay, the test ones go
    (lsp.root / "calc.py").write_text("def cap(x, hi):\n    return min(x, hi)\n")
    response = await execute(lsp, "codeloop.runTests", {"uri": uri})
    assert response["result"]["failed"] == 0, response
    await wait_for(lambda: "codeloop-tests" not in sources(), what="test diagnostics cleared")
    assert "codeloop" in sources()
