"""Chat core: prompt building, the no-model answer, streaming, errors and cancel."""

from __future__ import annotations

import threading
import time

from codeloop.generate.chat_prompt import (
    SYSTEM_PROMPT,
    ChatContext,
    Selection,
    Turn,
    build_messages,
    parse_history,
    relevant_text,
)
from codeloop.model.openai_client import OpenAIClient
from codeloop.model.settings import ModelConfig
from codeloop.services.chat import NO_MODEL_ANSWER, answer
from support.fake_openai import Reply

CANARY = "sk-canary-chat-0123456789abcdefDONOTLEAK"


def make(fake, **kw) -> OpenAIClient:
    return OpenAIClient(ModelConfig(base_url=fake.base_url, name="fake-model", timeout=5.0, max_retries=0, **kw),
                     api_key=CANARY)


def test_no_model_answers_how_to_configure():
    for llm in (None, OpenAIClient(ModelConfig(), environ={})):
        ans = answer(llm, "hello?")
        deltas = list(ans)
        assert "".join(deltas) == NO_MODEL_ANSWER == ans.text and len(deltas) > 1
        assert ans.finish_reason == "no_model" and ans.error is None
    for hint in ("codeloop.model.name", "codeloop.model.baseUrl", "CODELOOP_MODEL", "OPENAI_BASE_URL",
                 "OPENAI_API_KEY", "Generate Tests", "Run Tests", "sandbox", "code actions"):
        assert hint in NO_MODEL_ANSWER


def test_messages_have_system_history_file_and_selection():
    text = "import os\n\n\ndef add(a, b):\n    return a - b\n"
    ctx = ChatContext(uri="file:///w/calc.py", language_id="python", text=text,
                      selection=Selection(3, 0, 4, 16), selection_text="def add(a, b):\n    return a - b")
    history = parse_history([{"role": "assistant", "content": "orphan"}, {"role": "user", "content": "hi"},
                             {"role": "assistant", "content": "hello"}, {"role": "system", "content": "x"}, 7])
    msgs = build_messages("Why does add subtract?", history, ctx)
    assert msgs[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert [m["role"] for m in msgs[1:]] == ["user", "assistant", "user"]  # leading assistant dropped
    q = msgs[-1]["content"]
    assert "`calc.py`" in q and "```python\n" + text.rstrip() + "\n```" in q
    assert "The selected code (lines 4-5):" in q and q.endswith("Question: Why does add subtract?")


def test_no_context_is_just_the_question():
    assert build_messages("hi", [], ChatContext(uri="file:///a.py"))[-1]["content"] == "hi"


def test_history_is_trimmed_to_the_budget_from_the_oldest():
    history = [Turn("user" if i % 2 == 0 else "assistant", f"turn {i} " + "x" * 100) for i in range(20)]
    msgs = build_messages("now", history, None, history_budget=450)
    kept = [m["content"].split()[1] for m in msgs[1:-1]]
    assert kept and kept[-1] == "19" and len(kept) <= 4 and msgs[1]["role"] == "user"


def test_relevant_text_keeps_imports_selection_and_matching_blocks():
    parts = ["import json\nimport re\n"]
    for i in range(200):
        parts.append(f"\ndef f{i}(x):\n    return x + {i}  # filler filler filler\n")
    parts.append("\ndef parse_date(s):\n    return s.split('-')\n")
    text = "".join(parts)
    sel_line = text.splitlines().index("def f100(x):")
    out = relevant_text(text, "what does parse_date do", Selection(sel_line, 0, sel_line + 1, 5), 1000)
    assert len(out) <= 1200
    assert out.startswith("import json\nimport re\n")
    assert "def f100(x):" in out and "def parse_date(s):" in out and "def f150" not in out
    assert "lines omitted" in out


def test_relevant_text_window_when_the_selected_block_is_huge():
    text = "def big():\n" + "".join(f"    x{i} = {i}\n" for i in range(2000))
    out = relevant_text(text, "", Selection(1000, 0, 1000, 3), 500)
    assert "x999 = 999" in out and "x0 = 0" not in out and out.count("lines omitted") == 2


def test_fence_is_longer_than_backticks_in_the_file():
    ctx = ChatContext(uri="file:///r.md", language_id="markdown", text="````\ncode\n````\n")
    q = build_messages("?", [], ctx)[-1]["content"]
    assert "`````markdown\n" in q


def test_stream_answer_with_context(fake_openai):
    fake_openai.add_chat(Reply.text("Because it uses a minus sign."))
    ctx = ChatContext.from_dict({"uri": "file:///w/calc.py", "languageId": "python",
                                 "text": f"KEY = '{CANARY}'\ndef add(a, b):\n    return a - b\n",
                                 "selection": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 16}}})
    assert ctx is not None and ctx.selection == Selection(1, 0, 2, 16)
    ans = answer(make(fake_openai), "Why?", [Turn("user", "hi"), Turn("assistant", "hello")], ctx)
    deltas = list(ans)
    assert "".join(deltas) == ans.text == "Because it uses a minus sign." and ans.finish_reason == "stop"
    body = fake_openai.requests_to("/chat/completions")[0].body
    assert body["stream"] is True and len(body["messages"]) == 4
    q = body["messages"][-1]["content"]
    assert "def add(a, b):\n    return a - b" in q and "The selected code (lines 2-3)" in q
    assert CANARY not in str(body) and "[redacted]" in q


async def test_stream_answer_async(fake_openai):
    fake_openai.add_chat(Reply.text("one two three"))
    ans = answer(make(fake_openai), "count")
    assert [d async for d in ans] == ["one ", "two ", "three"] and ans.finish_reason == "stop"


def test_model_error_ends_with_error_not_success(fake_openai):
    fake_openai.add_chat(Reply.unauthorized())
    ans = answer(make(fake_openai), "hi")
    assert list(ans) == []
    assert ans.finish_reason == "error" and ans.error_kind == "auth" and "\n" not in ans.error
    assert CANARY not in ans.error


def test_cut_stream_is_an_error_even_after_some_text(fake_openai):
    fake_openai.add_chat(Reply.cut("a b c d e f", after=2))
    ans = answer(make(fake_openai), "hi")
    assert "".join(ans) == "a b "
    assert ans.finish_reason == "error" and ans.error_kind == "truncated_stream"


def test_length_finish_reason_is_kept(fake_openai):
    fake_openai.add_chat(Reply.text("long answer", finish_reason="length"))
    ans = answer(make(fake_openai), "hi")
    list(ans)
    assert ans.finish_reason == "length"


def test_not_configured_client_never_calls_the_endpoint(fake_openai):
    llm = OpenAIClient(ModelConfig(base_url=fake_openai.base_url), environ={})
    ans = answer(llm, "hi")
    list(ans)
    assert ans.finish_reason == "no_model" and fake_openai.requests == []


def test_cancel_stops_the_answer(fake_openai):
    fake_openai.add_chat(Reply.slow("abcdefghij", chunk_delay=0.5))
    ans = answer(make(fake_openai), "hi")
    seen: list[str] = []
    t_cancel = None
    for delta in ans:
        seen.append(delta)
        if t_cancel is None:
            threading.Timer(0.05, ans.cancel).start()
            t_cancel = time.monotonic() + 0.05
    assert seen == ["a"] and ans.finish_reason == "cancelled" and ans.text == "a"
    assert time.monotonic() - t_cancel < 1.0


async def test_cancel_stops_the_answer_async(fake_openai):
    fake_openai.add_chat(Reply.slow("abcdefghij", chunk_delay=0.5))
    ans = answer(make(fake_openai), "hi")
    seen: list[str] = []
    async for delta in ans:
        seen.append(delta)
        ans.cancel()
    assert seen == ["a"] and ans.finish_reason == "cancelled"
