"""``codeloop ask QUESTION [--project DIR] [--yes] [--json]``: the chat agent in a terminal.

The same agent as the editor's chat (:func:`codeloop.services.agent.run_agent`, the
tools of :mod:`codeloop.tools`): the answer goes to stdout, each tool call to stderr as
it starts and ends, each proposal to stdout as a unified diff. Proposals are applied only
with ``--yes`` (atomically, and only to a file that has not changed since); a tool whose
policy is ``ask`` runs with ``--yes``, or after a y/N question on a terminal. A question
that starts with ``/`` is a slash command and needs no model. ``--json`` prints one object
instead: ``{text, finish_reason, error, mode, steps, calls, proposals, usage, seconds}``.

Exit codes: 0 answered; 1 the model failed or none is configured; 2 bad input; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from codeloop.cli import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ask", help="ask the chat agent a question (it may search, read and run tests)",
                              description="Run the chat agent in the terminal: it answers with the workspace's "
                              "tools; proposals are printed as diffs and applied only with --yes.")
    p.add_argument("question", metavar="QUESTION", help="the question, or a slash command such as '/search foo'")
    p.add_argument("--project", metavar="DIR", help="the workspace (default: the project around the current folder)")
    p.add_argument("--yes", action="store_true", help="apply proposals and run tools whose policy is 'ask'")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(handler=run_ask)


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _printer(as_json: bool):
    def on_event(kind: str, payload: dict[str, Any]) -> None:
        if kind == "delta" and not as_json:
            sys.stdout.write(payload["delta"])
            sys.stdout.flush()
        elif kind == "tool":
            status = payload["status"]
            if status == "running":
                print(f"codeloop: → {payload['name']} {_short(payload['arguments'])}", file=sys.stderr)
            else:
                first = (payload.get("result") or "").split("\n", 1)[0]
                print(f"codeloop: {'✓' if status in ('done', 'cached') else '✗'} {payload['name']} "
                      f"({status}): {_short(first)}", file=sys.stderr)
        elif kind == "proposal" and not as_json:
            sys.stdout.write("\n" + payload["proposal"].diff)
            sys.stdout.flush()
        elif kind == "note" and not as_json and payload.get("text"):
            print(f"codeloop: {_short(payload['text'], 200)}", file=sys.stderr)

    return on_event


def _approver(yes: bool):
    def approve(name: str, args: Any) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            return False
        sys.stderr.write(f"codeloop: run {name} {_short(args)}? [y/N] ")
        sys.stderr.flush()
        return sys.stdin.readline().strip().lower() in ("y", "yes")

    return approve


def run_ask(args: argparse.Namespace) -> int:
    from codeloop.config import settings_for_workspace
    from codeloop.job import Job
    from codeloop.model.cache import ClientCache
    from codeloop.model.errors import ModelError
    from codeloop.model.tool_calls import ToolSupport
    from codeloop.services.agent import AgentRequest, run_agent
    from codeloop.tools.propose_edit import apply_on_disk
    from codeloop.tools.reward import mark
    from codeloop.tools.toolbox import WorkspaceToolbox
    from codeloop.workspace.testindex import find_workspace_root

    if not args.question.strip():
        raise CliError("the question is empty")
    if args.project is not None and not os.path.isdir(args.project):
        raise CliError(f"--project {args.project}: not a folder")
    root = os.path.realpath(args.project or find_workspace_root(os.getcwd()))
    settings, warnings = settings_for_workspace(root)
    for w in warnings:
        print(f"codeloop: warning: {w}", file=sys.stderr)
    try:
        llm = ClientCache().configured(settings.model)
    except ModelError as exc:
        raise CliError(exc.message, code=1) from None
    agent = settings.agent
    request = AgentRequest(args.question, root=root, policies=dict(agent.tools), max_steps=agent.max_steps,
                           max_tokens=agent.max_tokens, tool_timeout=agent.tool_timeout, map_tokens=agent.map_tokens)
    job = Job()
    started = time.monotonic()
    try:
        outcome = run_agent(request, job, llm, WorkspaceToolbox(root, settings, llm), ToolSupport.persistent(),
                            _printer(args.json), _approver(args.yes))
    except KeyboardInterrupt:
        job.stop()
        raise
    finally:
        if llm is not None:
            llm.close()
    applied: list[dict[str, Any]] = []
    for proposal in outcome.proposals:
        done, reason = apply_on_disk(proposal) if args.yes else (False, "not applied (--yes applies proposals)")
        problem = mark(proposal.log_ids, done, settings)  # the implement candidates it brings in
        if problem:
            print(f"codeloop: warning: {problem}", file=sys.stderr)
        applied.append({"path": proposal.rel, "diff": proposal.diff, "applied": done, "reason": reason})
        if not args.json:
            print(f"codeloop: {proposal.rel}: {'applied' if done else reason}", file=sys.stderr)
    if args.json:
        print(json.dumps({
            "text": outcome.text, "finish_reason": outcome.finish_reason, "error": outcome.error,
            "mode": outcome.mode, "steps": outcome.steps,
            "calls": [{"name": c.name, "arguments": c.arguments, "status": c.status, "result": c.result,
                       "seconds": c.seconds} for c in outcome.calls],
            "proposals": applied,
            "usage": {"requests": outcome.usage.requests, "prompt_tokens": outcome.usage.prompt_tokens,
                      "completion_tokens": outcome.usage.completion_tokens, "estimated": outcome.estimated_tokens},
            "seconds": round(time.monotonic() - started, 3)}, indent=2))
    else:
        if outcome.text and not outcome.text.endswith("\n"):
            sys.stdout.write("\n")
        for note in outcome.notes:
            print(f"codeloop: note: {note}", file=sys.stderr)
    if outcome.finish_reason == "cancelled":
        return 130
    if outcome.finish_reason in ("error", "no_model"):
        if outcome.error and outcome.mode != "slash":  # a slash command's error is its answer, already out
            print(f"codeloop: error: {outcome.error}", file=sys.stderr)
        return 1
    return 0
