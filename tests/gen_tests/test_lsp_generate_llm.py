"""codeloop.generateTests over LSP with a model configured: the LLM engine end to end.

The real `codeloop serve` (pytest-lsp), the real openai SDK against the fake server, the
real sandbox. The model's answer holds three right tests and a wrong one: the applied edit
creates the test file with the three (verified in the sandbox) and without the wrong one;
the fake server saw the request with the API key as its credential but nowhere in the
prompt, although the module under test has the key in a comment. With the engine set to
"llm", a model fault (HTTP 500, no retries) is one clear showMessage line and no edit; with
"auto" the offline search takes over and the message says so.
"""

from __future__ import annotations

import json

import pytest
from lsprotocol import types

from support.fake_openai import Reply
from support.lsp_client import KEY, execute, make_workspace, needs_level_a, open_document, start_client, wait_for

pytestmark = needs_level_a()

SOURCE = f'''"""Small numeric helpers."""

# deployment note, never to be sent anywhere: {KEY}


def clamp(x: int, lo: int, hi: int) -> int:
    """x limited to lo..hi."""
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
'''

ANSWER = '''Here are the tests.

```python
from calc import clamp


def test_clamp_below_the_range():
    assert clamp(-1, 0, 3) == 0


def test_clamp_above_the_range():
    assert clamp(5, 0, 3) == 3


def test_clamp_inside_the_range():
    assert clamp(2, 0, 3) == 2


def test_clamp_wrong_expectation():
    assert clamp(2, 0, 3) == 5
```
'''


@pytest.fixture
async def lsp(request, tmp_path, fake_openai):
    """The server on a workspace with ``calc.py``; ``generate.engine`` is the fixture's
    parameter (default "auto": the LLM engine, a model being configured)."""
    engine = getattr(request, "param", "auto")
    root = make_workspace(tmp_path, {"calc.py": SOURCE}, candidates=1)
    (root / "pyproject.toml").write_text(f'[tool.codeloop.generate]\nbudget = 60\nengine = "{engine}"\n'
                                         "[tool.codeloop.model]\nmax_retries = 0\n")
    client = await start_client(root, fake_openai, tmp_path)
    client.root = root  # type: ignore[attr-defined]
    client.uri = open_document(client, root / "calc.py", SOURCE)  # type: ignore[attr-defined]
    yield client
    await client.shutdown_session()
    await client.stop()


def edit_texts(params: types.ApplyWorkspaceEditParams) -> tuple[list[str], str]:
    """The URIs of the files the edit creates and the text it inserts."""
    created, texts = [], []
    for change in params.edit.document_changes or []:
        if isinstance(change, types.CreateFile):
            created.append(change.uri)
        for e in getattr(change, "edits", None) or []:
            texts.append(e.new_text)
    return created, "".join(texts)


async def test_generate_tests_uses_the_model_and_applies_its_verified_tests(lsp, fake_openai):
    fake_openai.add_chat(ANSWER)
    response = await execute(lsp, "codeloop.generateTests", {"uri": lsp.uri, "version": 1})
    assert "error" not in response, response
    answer = response["result"]
    assert answer["applied"] is True, answer
    assert answer["testsAdded"] == 3
    assert answer["title"].startswith("Add 3 tests: branch coverage 0% -> 100%"), answer["title"]

    (edit,) = lsp.edits
    assert edit.label == answer["title"]
    created, text = edit_texts(edit)
    assert created == [answer["testFile"]] and answer["testFile"].endswith("/test_calc.py")
    for name in ("test_clamp_below_the_range", "test_clamp_above_the_range", "test_clamp_inside_the_range"):
        assert f"def {name}():" in text
    assert "test_clamp_wrong_expectation" not in text and "== 5" not in text  # failed in the sandbox: dropped
    compile(text, "test_calc.py", "exec")

    requests = fake_openai.requests_to("/chat/completions")
    assert requests, "the model was not asked"
    first = requests[0]
    assert first.body["model"] == "fake-model"
    prompt = json.dumps(first.body["messages"])
    assert "def clamp(x: int, lo: int, hi: int) -> int:" in prompt  # the module's source was sent
    assert "deployment note" in prompt  # ... with the comment that held the key
    assert first.headers["authorization"] == f"Bearer {KEY}"  # the key was the credential
    for request in requests:
        assert KEY not in json.dumps(request.body)
        assert KEY not in request.raw.decode("utf-8", "replace")


# with "auto", a model that gives no test hands over to the offline search: "llm" fails instead
@pytest.mark.parametrize("lsp", ["llm"], indirect=True)
async def test_a_model_fault_is_one_clear_line_and_no_edit(lsp, fake_openai):
    fake_openai.add_chat(Reply.error(500, "the upstream model crashed"))
    response = await execute(lsp, "codeloop.generateTests", {"uri": lsp.uri, "version": 1})
    assert "error" not in response, response
    answer = response["result"]
    assert answer["applied"] is False and answer["testsAdded"] == 0
    assert "the upstream model crashed" in answer["reason"]
    assert len(fake_openai.requests_to("/chat/completions")) == 1  # no retries: max_retries = 0

    def shown():
        return [m for m in lsp.messages if "Generate tests" in m.message]

    await wait_for(shown, what="the showMessage about the model fault")
    (message,) = shown()
    assert message.type == types.MessageType.Error
    assert message.message.startswith("codeloop: Generate tests: model error: ")
    assert "the upstream model crashed" in message.message and "\n" not in message.message
    assert KEY not in message.message
    assert lsp.edits == []
    assert not (lsp.root / "tests" / "test_calc.py").exists() and not (lsp.root / "test_calc.py").exists()


async def test_with_auto_a_model_fault_hands_over_to_the_offline_search(lsp, fake_openai):
    fake_openai.add_chat(Reply.error(500, "the upstream model crashed"))
    response = await execute(lsp, "codeloop.generateTests", {"uri": lsp.uri, "version": 1})
    answer = response["result"]
    assert answer["applied"] is True and answer["testsAdded"] > 0, answer
    assert fake_openai.requests_to("/chat/completions"), "the model was not asked first"
    (edit,) = lsp.edits
    _, text = edit_texts(edit)
    assert "def test_clamp" in text
    compile(text, "test_calc.py", "exec")

    def shown():
        return [m for m in lsp.messages if m.message.startswith("codeloop: Add ")]

    await wait_for(shown, what="the showMessage with the evidence")
    (message,) = shown()
    assert message.message.endswith("(the model gave no usable tests; these come from the offline search)")
