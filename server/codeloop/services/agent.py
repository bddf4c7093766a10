"""The CHAT AGENT capability: answer a question with tool calls over the workspace.

:func:`run_agent` is the loop behind ``codeloop/chat`` (the language server), ``codeloop
ask`` (the terminal) and nothing else: the tools come in through a :class:`Toolbox` (the
adapter :mod:`codeloop.tools.toolbox` wraps the registered tools), so this module knows
no tool by name and no front end.

The loop: the question with its context (:mod:`codeloop.services.agent_context`) goes to
the model with the tools whose policy is not ``off``. A model with tool calling (asked
once per model, :mod:`codeloop.model.tool_calls`) gets the OpenAI ``tools`` parameter;
one without gets the text protocol (:mod:`codeloop.generate.agent_prompt`, one call per
turn). Each call runs in a worker thread, bounded by ``tool_timeout``; what goes back to
the model is always a tool result: the tool's bounded text, or one line saying what went
wrong (invalid arguments, an unknown tool, a timeout, a declined call). An identical call
made again is answered from the last result with a note. ``max_steps`` model turns with
tool calls, then one last request without tools for the answer; ``max_tokens`` over all
requests. Cancel (``job.cancel``) returns at once from the model call or the tool being
waited for; the abandoned call stops on the same event.

Policies: ``auto`` runs, ``ask`` runs after ``approve(call)`` says yes (a tool whose
result is a proposal is run, and its proposal waits for the user instead), ``off`` is not
offered. Slash commands (``/search``, ``/symbol``, ``/tests``, ``/run``, ``/intents``,
``/help``) answer through the same toolbox with no model.
"""

from __future__ import annotations

import json
import re
import shlex
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from codeloop import secrets
from codeloop.generate.agent_prompt import (
    AGENT_PROMPT,
    parse_text_call,
    result_message,
    text_protocol,
)
from codeloop.generate.chat_prompt import ChatContext, Turn
from codeloop.job import Job
from codeloop.model.errors import Cancelled, ModelError
from codeloop.model.tool_calls import AssistantTurn, ToolCall, ToolSupport, Usage, supports_tools, tool_turn

POLL = 0.01  # seconds between checks of a running tool for cancel and timeout
FINAL_NOTE = ("codeloop: the step limit of this question is reached; answer now from what the tool results "
              "show, without calling tools.")


# --- what the loop needs from the tools ----------------------------------------------------


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: Mapping[str, Any]
    read_only: bool = True
    proposes: bool = False


@dataclass
class ToolReply:
    text: str  # what the model reads
    data: Any = None
    error: bool = False


class Toolbox(Protocol):
    def specs(self) -> Sequence[ToolSpec]: ...

    def call(self, name: str, arguments: Mapping[str, Any], job: Job) -> ToolReply:
        """Run a tool; a bad argument or a failure the model can act on is a reply with
        ``error`` set (never raised)."""
        ...


# --- the request and what came of it -------------------------------------------------------


@dataclass
class AgentRequest:
    message: str
    history: list[Turn] = field(default_factory=list)
    context: ChatContext | None = None
    root: str | None = None  # the workspace (context, @mentions, repo map); None: none of those
    policies: Mapping[str, str] = field(default_factory=lambda: {"propose_edit": "ask"})
    max_steps: int = 8
    max_tokens: int = 60_000
    tool_timeout: float = 300.0
    map_tokens: int = 1024
    answer_tokens: int | None = None  # max_tokens of one model answer
    index_db: Any = None  # the index database for the context (tests); None: the user cache


@dataclass
class CallRecord:
    id: str
    name: str
    arguments: Any
    status: str  # done | failed | cached | declined | timeout | cancelled
    result: str
    seconds: float = 0.0


@dataclass
class AgentOutcome:
    text: str = ""
    finish_reason: str = "stop"  # stop | length | cancelled | error | no_model | max_steps
    error: str | None = None
    error_kind: str | None = None
    calls: list[CallRecord] = field(default_factory=list)
    proposals: list[Any] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    steps: int = 0
    mode: str = "none"  # tools | text | slash | none
    estimated_tokens: bool = False  # the text protocol's tokens are counted from characters
    notes: list[str] = field(default_factory=list)


Event = Callable[[str, dict[str, Any]], None]  # (kind, payload): delta | tool | proposal | note
Approve = Callable[[str, Mapping[str, Any]], bool]


def _no_event(kind: str, payload: dict[str, Any]) -> None:
    pass


def policy_of(policies: Mapping[str, str], name: str) -> str:
    return policies.get(name, "auto")


# --- running one call ----------------------------------------------------------------------


class _Calls:
    """The tool calls of one conversation: policy, arguments, repeats, timeout, cancel."""

    def __init__(self, toolbox: Toolbox, request: AgentRequest, job: Job, emit: Event, approve: Approve | None,
                 outcome: AgentOutcome) -> None:
        self.toolbox = toolbox
        self.request = request
        self.job = job
        self.emit = emit
        self.approve = approve
        self.outcome = outcome
        self.specs = {s.name: s for s in toolbox.specs() if policy_of(request.policies, s.name) != "off"}
        self.seen: dict[str, tuple[int, str]] = {}  # call key -> (step, result text)

    def offered(self) -> list[ToolSpec]:
        return list(self.specs.values())

    def run(self, call_id: str, name: str, raw: Any, step: int) -> str:
        """The tool result text for one call (an error line when it cannot run)."""
        started = time.monotonic()
        args, problem = self._arguments(name, raw)
        shown_args = args if args is not None else raw
        self.emit("tool", {"callId": call_id, "name": name, "arguments": shown_args, "status": "running"})
        status, data = "failed", None
        if problem is not None:
            text = problem
        else:
            key = f"{name}:{json.dumps(args, sort_keys=True, default=str)}"
            if key in self.seen:
                first, last = self.seen[key]
                text = (f"{last}\n(codeloop: the same call was made at step {first}; this is its result again, "
                        "not run a second time)")
                status = "cached"
            else:
                text, status, data = self._run_new(name, args)
                if status in ("done", "failed"):
                    self.seen[key] = (step, text)
        text = secrets.scrub(text)
        record = CallRecord(call_id, name, shown_args, status, text, round(time.monotonic() - started, 3))
        self.outcome.calls.append(record)
        self.emit("tool", {"callId": call_id, "name": name, "arguments": shown_args, "status": status,
                           "result": text})
        spec = self.specs.get(name)
        if status == "done" and spec is not None and spec.proposes and data is not None:
            self.outcome.proposals.append(data)
            self.emit("proposal", {"callId": call_id, "proposal": data})
        return text

    def _arguments(self, name: str, raw: Any) -> tuple[dict[str, Any] | None, str | None]:
        if name not in self.specs:
            known = ", ".join(self.specs) or "none"
            return None, f"error: unknown tool {name!r}; the tools are: {known}"
        if isinstance(raw, dict):
            return raw, None
        text = raw if isinstance(raw, str) else ""
        if not text.strip():
            return {}, None
        try:
            args = json.loads(text)
        except ValueError as exc:
            return None, f"error: the arguments of {name} are not valid JSON ({exc.msg}); send one JSON object"
        if not isinstance(args, dict):
            return None, f"error: the arguments of {name} must be a JSON object"
        return args, None

    def _run_new(self, name: str, args: dict[str, Any]) -> tuple[str, str, Any]:
        spec = self.specs[name]
        if policy_of(self.request.policies, name) == "ask" and not spec.proposes:
            if self.approve is None:
                return (f"error: {name} needs the user's approval (policy ask) and none could be asked; "
                        "not run", "declined", None)
            if not self.approve(name, args):
                return f"error: the user declined to run {name}", "declined", None
        return self._in_thread(name, args)

    def _in_thread(self, name: str, args: dict[str, Any]) -> tuple[str, str, Any]:
        tool_job = Job(self.job.report)
        box: dict[str, Any] = {}
        done = threading.Event()

        def target() -> None:
            try:
                box["reply"] = self.toolbox.call(name, args, tool_job)
            except BaseException as exc:  # noqa: BLE001 - a tool bug is a failed call, told to the model
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=target, name=f"codeloop-tool-{name}", daemon=True).start()
        deadline = time.monotonic() + self.request.tool_timeout
        while not done.wait(POLL):
            if self.job.cancelled:
                tool_job.stop()
                raise Cancelled()
            if time.monotonic() > deadline:
                tool_job.stop()
                return (f"error: {name} did not finish within {self.request.tool_timeout:g} s and was stopped "
                        "(setting codeloop.agent.toolTimeout)", "timeout", None)
        if "error" in box:
            exc = box["error"]
            return f"error: {name} failed inside codeloop ({type(exc).__name__}: {exc})", "failed", None
        reply: ToolReply = box["reply"]
        if reply.error:
            text = reply.text if reply.text.startswith("error:") else f"error: {reply.text}"
            return text, "failed", None
        return reply.text, "done", reply.data


# --- the loop ------------------------------------------------------------------------------


def _schemas(specs: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": s.name, "description": s.description,
                                              "parameters": dict(s.parameters)}} for s in specs]


def _estimate(messages: Sequence[Mapping[str, Any]]) -> int:
    return sum(len(str(m.get("content") or "")) + len(json.dumps(m.get("tool_calls") or "")) for m in messages) // 4


def run_agent(request: AgentRequest, job: Job, llm: Any, toolbox: Toolbox, support: ToolSupport,
              on_event: Event | None = None, approve: Approve | None = None) -> AgentOutcome:
    """Answer ``request`` with tools; never raises a model error (the outcome says it)."""
    from codeloop.services.agent_context import agent_messages
    from codeloop.services.chat import NO_MODEL_ANSWER

    emit = on_event or _no_event
    outcome = AgentOutcome()
    slash = slash_command(request.message, toolbox, job)
    if slash is not None:
        outcome.mode, outcome.text = "slash", slash.text
        if slash.failed:  # finish_reason tells a script, error a front end that shows errors apart
            outcome.finish_reason, outcome.error_kind = "error", "slash"
            outcome.error = slash.text.splitlines()[0].removeprefix("error: ")
        emit("delta", {"delta": slash.text})
        return outcome
    if llm is None or not getattr(llm, "configured", False):
        outcome.finish_reason, outcome.text = "no_model", NO_MODEL_ANSWER + SLASH_HINT
        emit("delta", {"delta": outcome.text})
        return outcome
    calls = _Calls(toolbox, request, job, emit, approve, outcome)
    try:
        messages, notes = agent_messages(request, AGENT_PROMPT)
        outcome.notes += notes
        capable = remembered = False
        if calls.offered():
            capable, cost = supports_tools(llm, support, job.cancel)
            remembered = cost.requests == 0
            outcome.usage.add(cost)
        outcome.mode = "tools" if capable else ("text" if calls.offered() else "none")
        if capable:
            try:
                _tool_loop(request, job, llm, calls, messages, outcome, emit)
            except ModelError as exc:
                # A model remembered as tool-capable (perhaps days ago) refuses tools now:
                # ask it afresh; without tool calling it gets the text protocol.
                if not (remembered and outcome.steps == 0 and _refused(exc)):
                    raise
                support.forget(llm)
                capable, cost = supports_tools(llm, support, job.cancel)
                outcome.usage.add(cost)
                if capable:
                    raise
                outcome.mode = "text"
                _text_loop(request, job, llm, calls, messages, outcome, emit)
        else:
            _text_loop(request, job, llm, calls, messages, outcome, emit)
    except Cancelled:
        outcome.finish_reason = "cancelled"
    except ModelError as exc:
        outcome.finish_reason, outcome.error, outcome.error_kind = "error", exc.message, exc.kind
    if job.cancelled:
        outcome.finish_reason = "cancelled"
    return outcome


def _refused(exc: ModelError) -> bool:
    return exc.kind == "bad_request" and exc.status is not None and 400 <= exc.status < 500


def _over_budget(request: AgentRequest, outcome: AgentOutcome, emit: Event) -> bool:
    if outcome.usage.total < request.max_tokens:
        return False
    note = (f"\n\ncodeloop: stopped: this question used {outcome.usage.total} tokens, the budget is "
            f"{request.max_tokens} (setting codeloop.agent.maxTokens).")
    outcome.text += note
    outcome.finish_reason = "length"
    emit("delta", {"delta": note})
    return True


class _Say:
    """The answer's text as it streams: every delta goes to the outcome and the front end;
    text a turn wrote before its tool calls stays, set apart from what follows."""

    def __init__(self, outcome: AgentOutcome, emit: Event) -> None:
        self.outcome = outcome
        self.emit = emit
        self.this_turn = False

    def delta(self, text: str) -> None:
        if not text:
            return
        self.this_turn = True
        self.outcome.text += text
        self.emit("delta", {"delta": text})

    def start_turn(self) -> None:
        if self.outcome.text and not self.outcome.text.endswith("\n\n"):
            self.delta("\n\n" if not self.outcome.text.endswith("\n") else "\n")
        self.this_turn = False

    def unstreamed(self, turn: AssistantTurn) -> None:
        """A provider that answered without streaming: its text, whole."""
        if not self.this_turn:
            self.delta(turn.content)


def _answer(turn: AssistantTurn, outcome: AgentOutcome, say: _Say) -> None:
    say.unstreamed(turn)
    outcome.finish_reason = "length" if turn.finish_reason == "length" else "stop"


def _tool_loop(request: AgentRequest, job: Job, llm: Any, calls: _Calls, messages: list[dict[str, Any]],
               outcome: AgentOutcome, emit: Event) -> None:
    schemas = _schemas(calls.offered())
    say = _Say(outcome, emit)
    for step in range(1, request.max_steps + 1):
        if _over_budget(request, outcome, emit):
            return
        if say.this_turn:
            say.start_turn()
        say.this_turn = False
        turn = tool_turn(llm, messages, schemas, max_tokens=request.answer_tokens, cancel=job.cancel,
                         on_delta=say.delta)
        _count(turn, messages, outcome)
        outcome.steps = step
        if not turn.tool_calls:
            _answer(turn, outcome, say)
            return
        say.unstreamed(turn)
        messages.append(turn.message())
        for call in turn.tool_calls:
            text = calls.run(call.id, call.name, call.arguments, step)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    if _over_budget(request, outcome, emit):
        return
    messages.append({"role": "user", "content": FINAL_NOTE})
    if say.this_turn:
        say.start_turn()
    say.this_turn = False
    turn = tool_turn(llm, messages, None, max_tokens=request.answer_tokens, cancel=job.cancel, on_delta=say.delta)
    _count(turn, messages, outcome)
    _answer(turn, outcome, say)
    outcome.finish_reason = "max_steps" if outcome.finish_reason == "stop" else outcome.finish_reason


def _count(turn: AssistantTurn, messages: Sequence[Mapping[str, Any]], outcome: AgentOutcome) -> None:
    usage = turn.usage
    if usage.total == 0:  # an endpoint that reports no usage: count characters
        outcome.estimated_tokens = True
        usage = Usage(1, _estimate(messages), len(turn.content) // 4 + 1)
    outcome.usage.add(usage)


# Where a call may begin in a text-protocol reply: the text before it streams, the rest waits.
_CALL_START = re.compile(r"<\s*(?:tool_call|function_call|tool)\b|```[ \t]*(?:json|tool)|\A\s*\{", re.I)
_HOLD = 16  # characters kept back: the start of a tag may be split across deltas


def _stream_text_turn(llm: Any, messages: list[dict[str, Any]], request: AgentRequest, job: Job, say: _Say,
                      may_call: bool) -> tuple[str, str | None]:
    """One text-protocol turn streamed: prose goes out as it comes; from where a tool call
    may start, the text waits until the reply is complete. (the reply, its finish reason)"""
    stream = llm.stream_chat(messages, max_tokens=request.answer_tokens, cancel=job.cancel)
    reply, sent, holding = "", 0, False
    for delta in stream:
        if job.cancelled:
            raise Cancelled()
        reply += delta
        if holding:
            continue
        start = _CALL_START.search(reply) if may_call else None
        if start is not None:
            say.delta(reply[sent:start.start()])
            sent, holding = start.start(), True
        elif len(reply) - _HOLD > sent:
            say.delta(reply[sent:len(reply) - _HOLD])
            sent = len(reply) - _HOLD
    if job.cancelled or stream.finish_reason == "cancelled":
        raise Cancelled()
    if may_call and parse_text_call(reply) is not None:
        return reply, stream.finish_reason
    say.delta(reply[sent:])
    return reply, stream.finish_reason


def _text_loop(request: AgentRequest, job: Job, llm: Any, calls: _Calls, messages: list[dict[str, Any]],
               outcome: AgentOutcome, emit: Event) -> None:
    offered = calls.offered()
    if offered:
        messages[0] = {"role": "system", "content": messages[0]["content"] + "\n\n" + text_protocol(
            [(s.name, s.description, s.parameters) for s in offered])}
    outcome.estimated_tokens = True
    say = _Say(outcome, emit)
    for step in range(1, request.max_steps + 2):
        if _over_budget(request, outcome, emit):
            return
        last = step == request.max_steps + 1
        if last:
            messages.append({"role": "user", "content": FINAL_NOTE})
        if say.this_turn:
            say.start_turn()
        say.this_turn = False
        reply, finish = _stream_text_turn(llm, messages, request, job, say, bool(offered) and not last)
        outcome.usage.add(Usage(1, _estimate(messages), len(reply) // 4 + 1))
        outcome.steps = step
        parsed = None if last or not offered else parse_text_call(reply)
        if parsed is None:
            outcome.finish_reason = "length" if finish == "length" else ("max_steps" if last else "stop")
            return
        messages.append({"role": "assistant", "content": reply})
        call_id = f"text_{step}"
        if parsed.arguments is None:
            text = f"error: {parsed.error}; write the call as <tool_call>{{\"name\": ..., \"arguments\": {{...}}}}" \
                   "</tool_call>"
            outcome.calls.append(CallRecord(call_id, parsed.name, None, "failed", text))
            emit("tool", {"callId": call_id, "name": parsed.name, "arguments": None, "status": "failed",
                          "result": text})
        else:
            text = calls.run(call_id, parsed.name, parsed.arguments, step)
        messages.append({"role": "user", "content": result_message(parsed.name or "?", text)})


# --- slash commands ------------------------------------------------------------------------

SLASH_HINT = """
**Slash commands work without a model:** `/search QUERY`, `/symbol NAME`, `/tests TARGET` \
(verified tests, nothing written), `/run [PATH or TEST_ID]`, `/intents [PATH]`, `/help`.
"""

SLASH_HELP = """\
Slash commands (no model needed; each runs one codeloop tool):
- `/search QUERY` — search the workspace's definitions (search_code)
- `/symbol NAME` — a definition with its body and location: pkg.mod.func or path.py::func (read_symbol)
- `/tests TARGET` — tests verified in the sandbox for a function, class or module; nothing is written (generate_tests)
- `/run [PATH or TEST_ID]` — run the tests in the sandbox: all, a file or folder, or one test (run_tests)
- `/intents [PATH]` — stubs, describing comments, untested functions and TODOs (list_intents)
- `/help` — this list
Anything else is a question for the model, which may call the same tools."""


def _slash_args(command: str, rest: str) -> tuple[str, dict[str, Any]] | str:
    words = rest.split()
    if command == "search":
        return ("search_code", {"query": rest}) if rest else "usage: /search QUERY"
    if command == "symbol":
        return ("read_symbol", {"name": words[0]}) if words else "usage: /symbol NAME (pkg.mod.func or path.py::func)"
    if command == "tests":
        return ("generate_tests", {"target": words[0]}) if words else "usage: /tests TARGET (pkg.mod.func or path.py)"
    if command == "run":
        if not words:
            return "run_tests", {}
        return ("run_tests", {"test_id": words[0]}) if "::" in words[0] else ("run_tests", {"path": words[0]})
    if command == "intents":
        return "list_intents", ({"path": words[0]} if words else {})
    return f"unknown command /{command}\n\n{SLASH_HELP}"


@dataclass(frozen=True)
class Slash:
    text: str
    failed: bool = False  # an unknown or incomplete command, or its tool's error


def slash_command(message: str, toolbox: Toolbox, job: Job) -> Slash | None:
    """The answer to a slash command, or None when ``message`` is not one (a path such as
    ``/home/me/x.py ...`` is a question, not a command)."""
    text = message.strip()
    if not text.startswith("/") or text.startswith("//"):
        return None
    command, _, rest = text[1:].partition(" ")
    command = command.strip().lower()
    if "/" in command or "." in command:
        return None
    if command in ("help", "?", ""):
        return Slash(SLASH_HELP)
    try:
        rest = " ".join(shlex.split(rest.strip())) if command != "search" else rest.strip()
    except ValueError:
        rest = rest.strip()
    parsed = _slash_args(command, rest)
    if isinstance(parsed, str):
        return Slash(parsed, failed=True)
    name, args = parsed
    if name not in {s.name for s in toolbox.specs()}:
        return Slash(f"/{command}: the tool {name} is not available here", failed=True)
    reply = toolbox.call(name, args, job)
    return Slash(secrets.scrub(reply.text), failed=reply.error)


__all__ = ["AgentOutcome", "AgentRequest", "CallRecord", "SLASH_HELP", "ToolCall", "ToolReply", "Slash",
           "ToolSpec", "Toolbox", "policy_of", "run_agent", "slash_command"]
