"""``codeloop ask`` (issue 14, item 5): the same agent in a terminal; proposals printed as
diffs and applied only with --yes; slash commands without a model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from codeloop.cli import main
from codeloop.learn.log import RewardLog, default_log_path
from support.fake_openai import Reply

MEAN = [{"old_text": "    ...\n", "new_text": "    return sum(values) / len(values)\n"}]
RIGHT = "```python\ndef mean(values: list[float]) -> float:\n    return sum(values) / len(values)\n```"
TESTS = "```python\nfrom calc.ops import mean\n\ndef test_one():\n    assert mean([4.0]) == 4.0\n```"
SMALL = ("[project]\nname = 'calc'\n\n[tool.codeloop.model]\ncandidates = 2\n\n"
         "[tool.codeloop.generate]\nrepair_rounds = 0\nextra_samples = 0\n")


@pytest.fixture
def model(monkeypatch, fake_openai):
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("CODELOOP_MODEL", "fake-model")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-ask-test-0123456789abcdef")
    return fake_openai


@pytest.fixture
def no_model(monkeypatch):
    for name in ("OPENAI_BASE_URL", "CODELOOP_MODEL"):
        monkeypatch.delenv(name, raising=False)


def script(fake) -> None:
    fake.add_chat(Reply.tool_call("ping"), Reply.tool_call("read_symbol", {"name": "calc.ops.mean"}),
                  Reply.tool_call("propose_edit", {"path": "calc/ops.py", "edits": MEAN}),
                  Reply.text("mean now divides the sum by the count."))


def test_ask_prints_the_answer_tool_calls_and_the_diff_without_applying(model, calc: Path, capsys) -> None:
    script(model)
    assert main(["ask", "implement mean", "--project", str(calc)]) == 0
    out, err = capsys.readouterr()
    assert "mean now divides the sum by the count." in out and "+    return sum(values) / len(values)" in out
    assert "codeloop: → read_symbol" in err and "codeloop: ✓ propose_edit (done)" in err
    assert "calc/ops.py: not applied (--yes applies proposals)" in err
    assert "    ...\n" in (calc / "calc/ops.py").read_text()


def test_ask_yes_applies_and_json_reports_the_cost(model, calc: Path, capsys) -> None:
    script(model)
    assert main(["ask", "implement mean", "--project", str(calc), "--yes", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["text"] == "mean now divides the sum by the count." and data["finish_reason"] == "stop"
    assert data["proposals"][0]["applied"] is True and data["proposals"][0]["path"] == "calc/ops.py"
    assert [c["name"] for c in data["calls"]] == ["read_symbol", "propose_edit"]
    assert data["usage"]["requests"] == 4 and data["usage"]["prompt_tokens"] > 0
    assert "return sum(values) / len(values)" in (calc / "calc/ops.py").read_text()


def test_a_second_run_does_not_ask_the_model_about_tools_again(model, calc: Path, capsys) -> None:
    """The tool-support answer is kept in the user cache (XDG_CACHE_HOME of this test)."""
    model.add_chat(Reply.tool_call("ping"), Reply.text("first answer"), Reply.text("second answer"))
    assert main(["ask", "hello", "--project", str(calc), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["usage"]["requests"] == 2
    assert main(["ask", "hello again", "--project", str(calc), "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["text"] == "second answer" and second["usage"]["requests"] == 1
    assert [("tools" in b, b["tools"][0]["function"]["name"] if "tools" in b else None)
            for b in model.chat_bodies()] == [(True, "ping"), (True, "search_code"), (True, "search_code")]


@pytest.mark.parametrize("yes", [True, False], ids=["applied", "not-applied"])
def test_an_implement_applied_from_chat_marks_its_reward_log_row(model, calc: Path, capsys, needs_bwrap,
                                                                 yes: bool) -> None:
    """The row the implement tool logged (verified: passes the user's doctest) is marked
    accepted when the proposal that brings it in is applied, not accepted when it is not."""
    (calc / "pyproject.toml").write_text(SMALL)
    model.add_chat(Reply.tool_call("ping"), Reply.tool_call("implement", {"target": "calc.ops.mean"}),
                   Reply.text(RIGHT, RIGHT), TESTS,
                   Reply.tool_call("propose_edit", {"path": "calc/ops.py", "edits": MEAN}), Reply.text("done"))
    assert main(["ask", "implement mean", "--project", str(calc), "--json"] + (["--yes"] if yes else [])) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in data["calls"]] == ["implement", "propose_edit"]
    assert data["calls"][0]["result"].startswith("verified: Implement mean (verified)")
    assert data["proposals"][0]["applied"] is yes
    assert str(default_log_path()).startswith(os.environ["XDG_DATA_HOME"])
    with RewardLog(readonly=True) as log:
        rows = list(log.rows())
    assert rows and all(r.verified for r in rows) and "return sum(values) / len(values)" in rows[0].candidate
    assert [r.accepted for r in rows] == [yes] + [None] * (len(rows) - 1)  # the best; the twin is the same code


def test_ask_yes_never_overwrites_a_file_changed_meanwhile(model, calc: Path, capsys) -> None:
    ops = calc / "calc/ops.py"

    model.add_chat(Reply.tool_call("ping"), Reply.tool_call("propose_edit", {"path": "calc/ops.py", "edits": MEAN}))
    # the user edits the file while the model writes its answer
    original = model._next

    def edit_then_answer(kind: str, body=None):
        reply = original(kind, body)
        if reply.texts == ["done"]:
            ops.write_text(ops.read_text() + "# edited by the user\n")
        return reply

    model._next = edit_then_answer
    model.add_chat(Reply.text("done"))
    assert main(["ask", "implement mean", "--project", str(calc), "--yes"]) == 0
    err = capsys.readouterr().err
    assert "calc/ops.py: the file changed since the proposal was made; nothing applied" in err
    assert ops.read_text().endswith("# edited by the user\n") and "    ...\n" in ops.read_text()


def test_slash_commands_without_a_model(no_model, calc: Path, capsys) -> None:
    assert main(["ask", "/search mean", "--project", str(calc)]) == 0
    assert capsys.readouterr().out.startswith("calc/ops.py:13: function calc.ops.mean")
    assert main(["ask", "what is mean?", "--project", str(calc)]) == 1
    assert "No model is configured" in capsys.readouterr().out
    assert main(["ask", "/symbol nosuch", "--project", str(calc)]) == 1  # said once, on stdout
    out, err = capsys.readouterr()
    assert out.startswith("error: read_symbol: no module") and "error" not in err.replace("codeloop: ", "")


def test_bad_input_is_one_line(no_model, tmp_path: Path, capsys) -> None:
    assert main(["ask", "x", "--project", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.strip().endswith("not a folder")
