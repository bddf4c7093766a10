"""The agent loop (issue 14, item 2) through the real openai SDK on the fake server with
scripted tool calls: every tool result is checked in the body of the next request."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from codeloop.job import Job
from codeloop.model.tool_calls import ToolSupport
from codeloop.services.agent import AgentRequest, run_agent
from codeloop.tools.toolbox import WorkspaceToolbox
from support.agent_project import SECRET
from support.fake_openai import Reply
from support.llm import make

PING = Reply.tool_call("ping")  # the answer to the tool-support probe


def ask(fake, root: Path, message: str, *, support: ToolSupport | None = None, events=None, job=None, **kw):
    llm = make(fake)
    request = AgentRequest(message, root=str(root), map_tokens=kw.pop("map_tokens", 0), **kw)
    seen = events if events is not None else []
    return run_agent(request, job or Job(), llm, WorkspaceToolbox(root), support or ToolSupport(),
                     lambda kind, payload: seen.append((kind, payload)))


def tool_messages(body: dict) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


def test_search_then_read_then_run_tests_then_answer(fake_openai, calc: Path, needs_bwrap) -> None:
    fake_openai.add_chat(PING, Reply.tool_call("search_code", {"query": "mean"}),
                         Reply.tool_call("read_symbol", {"name": "calc.ops.mean"}),
                         Reply.tool_call("run_tests", {}),
                         Reply.text("mean is a stub; test_add_wrong fails at tests/test_ops.py:9."))
    events: list = []
    outcome = ask(fake_openai, calc, "What is wrong in calc?", events=events)
    assert outcome.finish_reason == "stop" and outcome.mode == "tools"
    assert outcome.text == "mean is a stub; test_add_wrong fails at tests/test_ops.py:9."
    bodies = fake_openai.chat_bodies()
    assert len(bodies) == 5 and bodies[0]["tools"][0]["function"]["name"] == "ping"
    offered = [t["function"]["name"] for t in bodies[1]["tools"]]
    assert offered == ["search_code", "read_symbol", "read_file", "list_intents", "run_tests", "generate_tests",
                       "implement", "propose_edit"]
    assert tool_messages(bodies[2])[-1].startswith("calc/ops.py:13: function calc.ops.mean(values: list[float])")
    assert "   19      ..." in tool_messages(bodies[3])[-1]
    assert tool_messages(bodies[4])[-1].startswith("tests: 1 passed, 1 failed")
    assert "tests/test_ops.py:9: tests/test_ops.py::test_add_wrong failed" in tool_messages(bodies[4])[-1]
    assistant = [m for m in bodies[4]["messages"] if m["role"] == "assistant"]
    assert [m["tool_calls"][0]["function"]["name"] for m in assistant] == ["search_code", "read_symbol", "run_tests"]
    assert [(e[1]["name"], e[1]["status"]) for e in events if e[0] == "tool"] == [
        ("search_code", "running"), ("search_code", "done"), ("read_symbol", "running"), ("read_symbol", "done"),
        ("run_tests", "running"), ("run_tests", "done")]
    assert outcome.usage.requests == 5 and outcome.usage.prompt_tokens > 0 and not outcome.estimated_tokens


def test_invalid_arguments_and_an_unknown_tool_are_tool_results(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(PING, Reply.calls(("read_file", "{not json"), ("read_file", {"path": 3}),
                                           ("read_file", {}), ("delete_everything", {"path": "."})),
                         Reply.text("done"))
    outcome = ask(fake_openai, calc, "read something")
    assert outcome.text == "done"
    results = tool_messages(fake_openai.chat_bodies()[2])
    assert results[0].startswith("error: the arguments of read_file are not valid JSON")
    assert results[1] == "error: read_file: argument 'path' must be a string"
    assert results[2] == "error: read_file: missing argument 'path'"
    assert results[3].startswith("error: unknown tool 'delete_everything'; the tools are: search_code, read_symbol")
    assert [c.status for c in outcome.calls] == ["failed"] * 4


def test_an_identical_call_is_answered_from_the_last_result(fake_openai, calc: Path) -> None:
    args = {"path": "calc/ops.py", "start_line": 1, "end_line": 3}
    fake_openai.add_chat(PING, Reply.tool_call("read_file", args), Reply.tool_call("read_file", args),
                         Reply.text("ok"))
    outcome = ask(fake_openai, calc, "read")
    first, second = tool_messages(fake_openai.chat_bodies()[3])
    assert second.startswith(first) and second.endswith(
        "(codeloop: the same call was made at step 1; this is its result again, not run a second time)")
    assert [c.status for c in outcome.calls] == ["done", "cached"]


def test_an_endless_loop_is_bounded_and_still_answers(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(PING, *[Reply.tool_call("search_code", {"query": f"q{i}"}) for i in range(3)],
                         Reply.text("what I found"))
    outcome = ask(fake_openai, calc, "loop", max_steps=3)
    bodies = fake_openai.chat_bodies()
    assert len(bodies) == 5  # the probe, three steps, one last request without tools
    assert "tools" not in bodies[-1] and bodies[-1]["messages"][-1]["content"].startswith("codeloop: the step limit")
    assert outcome.finish_reason == "max_steps" and outcome.text == "what I found" and outcome.steps == 3


def test_the_token_budget_stops_the_conversation(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(PING, *[Reply.tool_call("search_code", {"query": f"q{i}"}) for i in range(5)])
    outcome = ask(fake_openai, calc, "loop", max_tokens=1500)
    assert outcome.finish_reason == "length" and "the budget is 1500 (setting codeloop.agent.maxTokens)" in outcome.text
    assert outcome.usage.total >= 1500 and len(fake_openai.chat_bodies()) < 6


def test_a_tool_that_times_out_is_stopped_and_told(fake_openai, calc: Path, needs_bwrap) -> None:
    (calc / "tests/test_slow.py").write_text("import time\n\n\ndef test_slow():\n    time.sleep(60)\n")
    fake_openai.add_chat(PING, Reply.tool_call("run_tests", {"path": "tests/test_slow.py"}), Reply.text("slow"))
    outcome = ask(fake_openai, calc, "run the slow test", tool_timeout=1.0)
    result = tool_messages(fake_openai.chat_bodies()[2])[0]
    assert result == ("error: run_tests did not finish within 1 s and was stopped (setting "
                      "codeloop.agent.toolTimeout)")
    assert outcome.calls[0].status == "timeout" and outcome.text == "slow"


def test_cancel_in_the_middle_of_a_tool(fake_openai, calc: Path, needs_bwrap) -> None:
    (calc / "tests/test_slow.py").write_text("import time\n\n\ndef test_slow():\n    time.sleep(60)\n")
    fake_openai.add_chat(PING, Reply.tool_call("run_tests", {"path": "tests/test_slow.py"}), Reply.text("never"))
    job = Job()
    events: list = []

    def stop_when_running(kind, payload):
        events.append((kind, payload))
        if kind == "tool" and payload["status"] == "running":
            threading.Timer(0.5, job.stop).start()

    llm = make(fake_openai)
    started = time.monotonic()
    outcome = run_agent(AgentRequest("run it", root=str(calc), map_tokens=0), job, llm, WorkspaceToolbox(calc),
                        ToolSupport(), stop_when_running)
    assert outcome.finish_reason == "cancelled"
    assert time.monotonic() - started < 30  # did not wait for the 60 s test
    assert len(fake_openai.chat_bodies()) == 2  # nothing asked after the cancel


def test_cancel_while_the_model_thinks(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(PING, Reply.hang(20))
    job = Job()
    threading.Timer(0.3, job.stop).start()
    outcome = ask(fake_openai, calc, "slow model", job=job)
    assert outcome.finish_reason == "cancelled"


def test_a_model_without_tool_calling_uses_the_text_protocol(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(Reply.no_tools(),
                         Reply.text('Let me look.\n<tool_call>{"name": "search_code", "arguments": '
                                    "{'query': 'mean',}}"),
                         Reply.text('```json\n{"tool": "read_file", "args": {"path": "calc/ops.py", '
                                    '"end_line": 2}}\n```'),
                         Reply.text("<tool_call>{name: broken</tool_call>"),
                         Reply.text("mean is at calc/ops.py:13."))
    support = ToolSupport()
    outcome = ask(fake_openai, calc, "where is mean?", support=support)
    # what a reply says before its call streams to the user and stays, set apart
    assert outcome.mode == "text" and outcome.text == "Let me look.\n\nmean is at calc/ops.py:13."
    assert support.known(make(fake_openai)) is False
    bodies = fake_openai.chat_bodies()
    assert all("tools" not in b for b in bodies[1:])
    assert "<tool_call>" in bodies[1]["messages"][0]["content"] and "- search_code(query: string" in \
        bodies[1]["messages"][0]["content"]
    assert bodies[2]["messages"][-1]["content"].startswith("Result of the tool call search_code:\ncalc/ops.py:13:")
    assert bodies[3]["messages"][-1]["content"].startswith("Result of the tool call read_file:\ncalc/ops.py lines 1-2")
    assert "error: the tool call is not valid JSON" in bodies[4]["messages"][-1]["content"]
    again = ask(fake_openai, calc, "and add?", support=support)  # remembered: no second probe
    assert again.mode == "text" and len(fake_openai.chat_bodies()) == 6


def test_a_model_that_answers_the_probe_in_words_is_not_tool_capable(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(Reply.text("pong"), Reply.text("plain answer"))
    outcome = ask(fake_openai, calc, "hi")
    assert outcome.mode == "text" and outcome.text == "plain answer"


def test_a_model_remembered_as_tool_capable_that_refuses_tools_is_asked_again(fake_openai, calc: Path,
                                                                             tmp_path: Path) -> None:
    """The user cache says tools (days ago); the served model changed: the first turn with
    tools is refused, the agent asks afresh and answers through the text protocol."""
    path = tmp_path / "tool_support.json"
    remembered = ToolSupport(path)
    remembered.remember(make(fake_openai), True)
    fake_openai.add_chat(Reply.no_tools(), Reply.no_tools(), Reply.text("answered in words"))
    outcome = ask(fake_openai, calc, "hi", support=ToolSupport(path))
    assert outcome.mode == "text" and outcome.text == "answered in words" and outcome.error is None
    bodies = fake_openai.chat_bodies()
    assert len(bodies) == 3 and bodies[1]["tools"][0]["function"]["name"] == "ping" and "tools" not in bodies[2]
    assert ToolSupport(path).known(make(fake_openai)) is False


def test_a_refusal_of_a_model_just_asked_is_an_error_not_a_second_probe(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(PING, Reply.error(400, "context length exceeded"))
    outcome = ask(fake_openai, calc, "hi")
    assert outcome.finish_reason == "error" and "context length exceeded" in outcome.error
    assert len(fake_openai.chat_bodies()) == 2


def test_no_secret_of_the_workspace_is_in_any_request(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(PING, Reply.calls(("read_file", {"path": ".env"}), ("read_file", {"path": "private/notes.py"}),
                                           ("search_code", {"query": "TOKEN"}), ("read_file", {"path": "keys/id_ed25519"})),
                         Reply.text("I cannot read those."))
    from support.agent_project import FILES

    context_uri = (calc / ".env").as_uri()
    from codeloop.generate.chat_prompt import ChatContext

    outcome = ask(fake_openai, calc, "what is in @.env and @private/notes.py?", map_tokens=512,
                  context=ChatContext(uri=context_uri, text=FILES[".env"]))
    results = tool_messages(fake_openai.chat_bodies()[2])
    assert results[0].startswith("error: read_file: .env is excluded (its name matches '.env'")
    assert results[1].startswith("error: read_file: private/notes.py is excluded (.codeloopignore lists it)")
    assert "the open file .env is excluded" in outcome.notes[0]
    for request in fake_openai.requests:
        assert SECRET.encode() not in request.raw and b"hunter2hunter2" not in request.raw


def test_an_excluded_file_open_from_outside_the_workspace_is_not_sent(fake_openai, calc: Path,
                                                                     tmp_path: Path) -> None:
    from codeloop.generate.chat_prompt import ChatContext

    key = tmp_path / "elsewhere/.ssh/id_rsa"
    key.parent.mkdir(parents=True)
    key.write_text(f"PRIVATE {SECRET}\n")
    fake_openai.add_chat(PING, Reply.text("no"))
    for root in (calc, None):
        outcome = run_agent(AgentRequest("what is this file?", root=str(root) if root else None, map_tokens=0,
                                         context=ChatContext(uri=key.as_uri(), text=key.read_text())),
                            Job(), make(fake_openai), WorkspaceToolbox(calc), ToolSupport())
        assert "the open file id_rsa is excluded (its name matches 'id_*'" in outcome.notes[0]
    from codeloop.services.chat import ChatRequest, chat

    plain = chat(ChatRequest("and this?", context=ChatContext(uri=key.as_uri(), text=key.read_text())), Job(),
                 make(fake_openai))  # the plain chat (tools: false) keeps it out too
    assert plain.finish_reason == "stop"
    assert fake_openai.requests and all(b"PRIVATE" not in r.raw for r in fake_openai.requests)


def test_ask_policy_waits_for_approval_and_off_is_not_offered(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(PING, Reply.calls(("list_intents", {}), ("propose_edit", {
        "path": "calc/ops.py", "edits": [{"old_text": "    ...\n", "new_text": "    return sum(values) / len(values)\n"}]})),
        Reply.text("proposed"))
    asked: list[str] = []
    llm = make(fake_openai)
    events: list = []
    request = AgentRequest("fix mean", root=str(calc), map_tokens=0,
                           policies={"list_intents": "ask", "propose_edit": "ask", "run_tests": "off"})
    outcome = run_agent(request, Job(), llm, WorkspaceToolbox(calc), ToolSupport(), lambda k, p: events.append((k, p)),
                        approve=lambda name, args: asked.append(name) or False)
    offered = [t["function"]["name"] for t in fake_openai.chat_bodies()[1]["tools"]]
    assert "run_tests" not in offered and "list_intents" in offered
    assert asked == ["list_intents"]  # a proposal is not asked for: it waits for the user instead
    results = tool_messages(fake_openai.chat_bodies()[2])
    assert results[0] == "error: the user declined to run list_intents"
    assert results[1].startswith("proposed a change to calc/ops.py (+1 -1 lines), shown to the user as a diff")
    assert len(outcome.proposals) == 1 and outcome.proposals[0].rel == "calc/ops.py"
    assert [e[0] for e in events].count("proposal") == 1
    assert "    ...\n" in (calc / "calc/ops.py").read_text()  # never applied by the model


def test_context_mentions_and_repo_map_go_with_the_question(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(PING, Reply.text("ok"))
    outcome = ask(fake_openai, calc, "explain @calc.ops.Register.push and @calc/ops.py please", map_tokens=400)
    question = fake_openai.chat_bodies()[1]["messages"][-1]["content"]
    assert "The symbol `calc.ops.Register.push` (calc/ops.py:25, mentioned)" in question
    assert "The file `calc/ops.py` (mentioned)" in question
    assert "Repo map" in question and question.rstrip().endswith("please")
    assert outcome.notes == []


def test_slash_commands_need_no_model(calc: Path) -> None:
    box = WorkspaceToolbox(calc)
    for message, start in (("/search mean", "calc/ops.py:13: function calc.ops.mean"),
                           ("/symbol calc.ops.add", "function calc.ops.add(a: int, b: int) -> int"),
                           ("/intents calc", "calc/ops.py:13: implement: mean:"),
                           ("/help", "Slash commands (no model needed"),
                           ("/frobnicate", "unknown command /frobnicate"),
                           ("/search", "usage: /search QUERY")):
        outcome = run_agent(AgentRequest(message, root=str(calc)), Job(), None, box, ToolSupport())
        assert outcome.mode == "slash" and start in outcome.text, (message, outcome.text)
        failed = message in ("/frobnicate", "/search")
        assert outcome.finish_reason == ("error" if failed else "stop") and (outcome.error is not None) == failed
    broken = run_agent(AgentRequest("/symbol nosuch", root=str(calc)), Job(), None, box, ToolSupport())
    assert broken.finish_reason == "error" and broken.text.startswith("error: read_symbol: no module")
    assert broken.error.startswith("read_symbol: no module") and "\n" not in broken.error
    plain = run_agent(AgentRequest("hello", root=str(calc)), Job(), None, box, ToolSupport())
    assert plain.finish_reason == "no_model" and "/search QUERY" in plain.text
    path = run_agent(AgentRequest("/home/me/calc/ops.py: why?", root=str(calc)), Job(), None, box, ToolSupport())
    assert path.mode != "slash" and path.finish_reason == "no_model"  # a path is a question


def test_tool_results_keep_their_json_shape_for_the_events(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(PING, Reply.tool_call("search_code", {"query": "add"}), Reply.text("ok"))
    events: list = []
    ask(fake_openai, calc, "q", events=events)
    done = [p for k, p in events if k == "tool" and p["status"] == "done"][0]
    assert done["arguments"] == {"query": "add"} and json.dumps(done)


def test_the_answer_streams_and_tool_calls_arrive_in_pieces(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(PING, Reply.tool_call("read_file", {"path": "calc/ops.py", "end_line": 2}),
                         Reply.text("The file starts with a docstring and then add."))
    events: list = []
    outcome = ask(fake_openai, calc, "what is at the top?", events=events)
    deltas = [p["delta"] for k, p in events if k == "delta"]
    assert len(deltas) > 3 and "".join(deltas) == outcome.text == "The file starts with a docstring and then add."
    bodies = fake_openai.chat_bodies()
    assert bodies[1]["stream"] is True and bodies[1]["stream_options"] == {"include_usage": True}
    assert "stream" not in bodies[0]  # the probe is one small whole request
    assert tool_messages(bodies[2])[0].startswith("calc/ops.py lines 1-2 of 28")  # arguments put together
    assert not outcome.estimated_tokens and outcome.usage.completion_tokens > 0


def test_the_text_protocol_never_streams_a_call(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(Reply.no_tools(),
                         Reply.text('I will search first. <tool_call>{"name": "search_code", "arguments": '
                                    '{"query": "mean"}}</tool_call>'),
                         Reply.text("Found it: calc/ops.py:13."))
    events: list = []
    outcome = ask(fake_openai, calc, "where is mean?", events=events)
    streamed = "".join(p["delta"] for k, p in events if k == "delta")
    assert "tool_call" not in streamed and streamed == outcome.text
    assert outcome.text == "I will search first. \n\nFound it: calc/ops.py:13."


def test_an_endpoint_that_refuses_stream_options_is_asked_without(fake_openai, calc: Path) -> None:
    fake_openai.add_chat(PING, Reply.error(400, "Unrecognized request argument supplied: stream_options"),
                         Reply.text("fine"))
    outcome = ask(fake_openai, calc, "hi")
    assert outcome.text == "fine" and outcome.estimated_tokens
    bodies = fake_openai.chat_bodies()
    assert "stream_options" in bodies[1] and "stream_options" not in bodies[2] and bodies[2]["stream"] is True
