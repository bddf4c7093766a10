"""Whether a model calls tools is asked once per endpoint and model and kept in the user
cache across processes (a fresh ToolSupport on the same file stands for a new process)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from codeloop.model.errors import ModelError
from codeloop.model.tool_calls import TTL, ToolSupport, supports_tools, tool_support_path
from support.fake_openai import Reply
from support.llm import make


def probes(fake) -> int:
    return sum(1 for b in fake.chat_bodies() if any(t["function"]["name"] == "ping" for t in b.get("tools") or []))


def test_a_new_process_does_not_ask_again(fake_openai, tmp_path: Path) -> None:
    path = tmp_path / "cache/tool_support.json"
    fake_openai.add_chat(Reply.tool_call("ping"))
    assert supports_tools(make(fake_openai), ToolSupport(path))[0] is True
    capable, cost = supports_tools(make(fake_openai), ToolSupport(path))
    assert capable is True and cost.requests == 0 and probes(fake_openai) == 1
    data = json.loads(path.read_text())
    assert list(data) == [f"{fake_openai.base_url} fake-model"] and data[f"{fake_openai.base_url} fake-model"]["tools"]


def test_a_refusal_is_remembered_too_and_each_model_is_asked_once(fake_openai, tmp_path: Path) -> None:
    path = tmp_path / "tool_support.json"
    fake_openai.add_chat(Reply.no_tools(), Reply.tool_call("ping"))
    assert supports_tools(make(fake_openai, name="small"), ToolSupport(path))[0] is False
    assert supports_tools(make(fake_openai, name="large"), ToolSupport(path))[0] is True
    assert supports_tools(make(fake_openai, name="small"), ToolSupport(path))[0] is False
    assert supports_tools(make(fake_openai, name="large"), ToolSupport(path))[0] is True
    assert probes(fake_openai) == 2
    assert {k.split()[-1]: v["tools"] for k, v in json.loads(path.read_text()).items()} == {"small": False,
                                                                                            "large": True}


def test_an_old_answer_is_asked_again(fake_openai, tmp_path: Path) -> None:
    path = tmp_path / "tool_support.json"
    path.write_text(json.dumps({f"{fake_openai.base_url} fake-model": {"tools": False,
                                                                        "checked": time.time() - TTL - 60}}))
    fake_openai.add_chat(Reply.tool_call("ping"))
    capable, cost = supports_tools(make(fake_openai), ToolSupport(path))
    assert capable is True and cost.requests == 1 and probes(fake_openai) == 1
    assert json.loads(path.read_text())[f"{fake_openai.base_url} fake-model"]["tools"] is True


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"x": "nonsense"}', ""])
def test_an_unreadable_file_counts_as_empty_and_is_rewritten(fake_openai, tmp_path: Path, content: str) -> None:
    path = tmp_path / "tool_support.json"
    path.write_text(content)
    fake_openai.add_chat(Reply.tool_call("ping"))
    assert supports_tools(make(fake_openai), ToolSupport(path))[0] is True
    assert json.loads(path.read_text())[f"{fake_openai.base_url} fake-model"]["tools"] is True


def test_a_failed_probe_is_not_kept(fake_openai, tmp_path: Path) -> None:
    path = tmp_path / "tool_support.json"
    fake_openai.add_chat(Reply.error(500), Reply.tool_call("ping"))
    with pytest.raises(ModelError):
        supports_tools(make(fake_openai), ToolSupport(path))
    assert not path.exists()
    assert supports_tools(make(fake_openai), ToolSupport(path))[0] is True


def test_no_credential_of_the_base_url_goes_to_the_file(fake_openai, tmp_path: Path) -> None:
    path = tmp_path / "tool_support.json"
    url = fake_openai.base_url.replace("http://", "http://user:pw-sk-0123456789abcdef@")
    fake_openai.add_chat(Reply.tool_call("ping"))
    assert supports_tools(make(fake_openai, base_url=url), ToolSupport(path))[0] is True
    assert "pw-sk" not in path.read_text() and fake_openai.base_url in path.read_text()


def test_forget_asks_again(fake_openai, tmp_path: Path) -> None:
    path = tmp_path / "tool_support.json"
    fake_openai.add_chat(Reply.tool_call("ping"), Reply.no_tools())
    support = ToolSupport(path)
    assert supports_tools(make(fake_openai), support)[0] is True
    support.forget(make(fake_openai))
    assert json.loads(path.read_text()) == {}
    assert supports_tools(make(fake_openai), ToolSupport(path))[0] is False and probes(fake_openai) == 2


def test_a_read_only_cache_still_remembers_in_the_process(fake_openai, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    support = ToolSupport(blocker / "tool_support.json")
    fake_openai.add_chat(Reply.tool_call("ping"))
    assert supports_tools(make(fake_openai), support)[0] is True
    assert supports_tools(make(fake_openai), support)[1].requests == 0 and probes(fake_openai) == 1


def test_the_persistent_cache_is_in_the_user_cache(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert tool_support_path() == tmp_path / "codeloop/tool_support.json"
    assert ToolSupport.persistent().path == tool_support_path()
