"""The chat agent over LSP: ``codeloop/chat`` with tools (the default; ``tools: false``
asks for the plain streamed answer of :mod:`codeloop.lsp.chat`), its tool cards and
proposals as notifications, and the commands that apply or discard a proposal.

Protocol additions (docs/chat.md):

* ``codeloop/chatTool`` ``{id, callId, name, arguments, status, result?}``: a tool call
  started (``running``) or ended (``done``, ``failed``, ``cached``, ``declined``,
  ``timeout``); ``result`` is the text the model read;
* ``codeloop/chatProposal`` ``{id, callId, proposal: {id, uri, path, version, diff, newText,
  created}}``: a change for the user to apply or discard;
* the result ``{id, text, finishReason, error?, mode, steps, toolCalls, proposals, usage}``;
* command ``codeloop.applyProposal`` ``[{id}]`` → ``{applied, reason?}``: a version-checked
  ``workspace/applyEdit`` of the whole file; refused when the document (or, for a file
  that is not open, the file on disk) changed since the proposal was made;
* command ``codeloop.discardProposal`` ``[{id}]`` → ``{discarded}``.

A tool whose policy is ``ask`` runs after a ``window/showMessageRequest`` (Run / Skip).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from codeloop.job import Job
from codeloop.lsp import convert
from codeloop.lsp.command_table import CMD_APPLY_PROPOSAL, CMD_DISCARD_PROPOSAL, NAME, CommandSpec
from codeloop.services.agent import AgentOutcome, AgentRequest, run_agent
from codeloop.services.chat import ChatRequest
from codeloop.tools.propose_edit import STALE, disk_fingerprint
from codeloop.tools.toolbox import WorkspaceToolbox

if TYPE_CHECKING:  # pragma: no cover
    from codeloop.lsp.server import CodeloopServer

log = logging.getLogger(__name__)

CHAT_TOOL = "codeloop/chatTool"
CHAT_PROPOSAL = "codeloop/chatProposal"
ASK_TIMEOUT = 300.0  # seconds the user has to answer Run / Skip


class AgentRun:
    """One conversation in flight, as :class:`~codeloop.services.chat.ChatSessions` sees it."""

    def __init__(self) -> None:
        self.job = Job()

    def cancel(self) -> None:
        self.job.stop()


def proposal_json(proposal: Any) -> dict[str, Any]:
    data = proposal.to_json()
    data["uri"] = Path(proposal.path).as_uri()
    data["path"] = proposal.rel
    data.pop("rel", None)
    return data


def _open_document(ls: Any, path: Path) -> tuple[str, int] | None:
    try:
        doc = ls.documents.get(path.as_uri())
    except Exception:  # noqa: BLE001 - not open
        return None
    if doc is None:
        return None
    return doc.text, doc.version


async def answer(server: CodeloopServer, ls: Any, chat_id: str, chat: ChatRequest) -> dict[str, Any]:
    """Run the agent for ``chat`` and return the ``codeloop/chat`` result."""
    settings = getattr(ls, "settings", None)
    llm = server.services.models.configured(getattr(settings, "model", None))
    uri = chat.context.uri if chat.context is not None else None
    root = ls.workspace_root(uri)
    agent = settings.agent if settings is not None else None
    request = AgentRequest(chat.message, chat.history, chat.context, root)
    if agent is not None:
        request = AgentRequest(chat.message, chat.history, chat.context, root, dict(agent.tools), agent.max_steps,
                               agent.max_tokens, agent.tool_timeout, agent.map_tokens)
    loop = asyncio.get_running_loop()
    run = AgentRun()
    sessions = server.services.chat
    sessions.begin(chat_id, run)  # type: ignore[arg-type] - anything with cancel()

    def notify(method: str, payload: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(ls.protocol.notify, method, payload)

    def on_event(kind: str, payload: dict[str, Any]) -> None:
        if kind == "delta":
            notify("codeloop/chatChunk", {"id": chat_id, "delta": payload["delta"]})
        elif kind == "tool":
            notify(CHAT_TOOL, {"id": chat_id, **payload})
        elif kind == "proposal":
            proposal = payload["proposal"]
            server.services.proposals[proposal.id] = proposal
            notify(CHAT_PROPOSAL, {"id": chat_id, "callId": payload["callId"], "proposal": proposal_json(proposal)})

    def approve(name: str, args: Any) -> bool:
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Info, message=f"codeloop: the chat agent wants to run {name} {args}",
            actions=[types.MessageActionItem(title="Run"), types.MessageActionItem(title="Skip")])
        try:
            future = asyncio.run_coroutine_threadsafe(ls.window_show_message_request_async(params), loop)
            chosen = future.result(timeout=ASK_TIMEOUT)
        except Exception:  # noqa: BLE001 - no answer is a no
            return False
        return getattr(chosen, "title", None) == "Run"

    toolbox = WorkspaceToolbox(root, settings, llm, open_document=lambda p: _open_document(ls, p)) if root else None
    log.info("chat %s (agent): %d chars, model %s, root %s", chat_id, len(chat.message),
             llm.chat_model if llm else None, root)
    work = loop.run_in_executor(None, lambda: run_agent(request, run.job, llm, toolbox or _NoTools(),
                                                        server.services.tool_support, on_event, approve))
    try:
        outcome: AgentOutcome = await asyncio.shield(work)
    except asyncio.CancelledError:  # $/cancelRequest: stop, and still answer with what was said
        run.cancel()
        outcome = await work
    finally:
        sessions.end(chat_id, run)  # type: ignore[arg-type]
    return result_of(chat_id, outcome)


class _NoTools:
    """No workspace folder: the agent answers without tools."""

    def specs(self) -> list[Any]:
        return []

    def call(self, name: str, arguments: Any, job: Job) -> Any:  # pragma: no cover - never offered
        raise AssertionError(name)


def result_of(chat_id: str, outcome: AgentOutcome) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": chat_id, "text": outcome.text, "finishReason": outcome.finish_reason, "mode": outcome.mode,
        "steps": outcome.steps,
        "toolCalls": [{"callId": c.id, "name": c.name, "arguments": c.arguments, "status": c.status,
                       "result": c.result, "seconds": c.seconds} for c in outcome.calls],
        "proposals": [proposal_json(p) for p in outcome.proposals],
        "usage": {"requests": outcome.usage.requests, "promptTokens": outcome.usage.prompt_tokens,
                  "completionTokens": outcome.usage.completion_tokens, "estimated": outcome.estimated_tokens},
    }
    if outcome.error is not None:
        result["error"] = outcome.error
        log.warning("chat %s failed: %s", chat_id, outcome.error)
    return result


def register(server: CodeloopServer) -> None:
    server.commands.add(CommandSpec(CMD_APPLY_PROPOSAL, apply_proposal, {"id": NAME.needed()}))
    server.commands.add(CommandSpec(CMD_DISCARD_PROPOSAL, discard_proposal, {"id": NAME.needed()}))


async def apply_proposal(ls: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Apply proposal ``id`` if its file is still what the proposal was made against."""
    proposals = ls.services.proposals
    proposal = proposals.get(args["id"])
    if proposal is None:
        return {"applied": False, "reason": "no such proposal (applied or discarded already, or from an earlier "
                                            "server)"}
    uri = Path(proposal.path).as_uri()
    doc = _open_document(ls, Path(proposal.path))
    if doc is not None:
        text, version = doc
        stale = version != proposal.version if proposal.version is not None else text != proposal.before
        edit = convert.whole_file_edit(uri, version, text, proposal.after)
    else:
        stale = disk_fingerprint(proposal.path) != proposal.fingerprint
        edit = convert.whole_file_edit(uri, None, proposal.before, proposal.after, create=proposal.fingerprint is None)
    if stale:
        return {"applied": False, "reason": STALE}
    applied, reason = await ls.apply_edit(edit, "codeloop: apply the chat's proposal")
    if not applied:
        return {"applied": False, "reason": reason}
    proposals.pop(args["id"], None)
    _reward(ls, proposal, True)
    return {"applied": True}


def discard_proposal(ls: Any, args: dict[str, Any]) -> dict[str, Any]:
    proposal = ls.services.proposals.pop(args["id"], None)
    if proposal is not None:
        _reward(ls, proposal, False)
    return {"discarded": proposal is not None}


def _reward(ls: Any, proposal: Any, accepted: bool) -> None:
    """Mark the implement candidates ``proposal`` brings in (the LSP implement path's log)."""
    from codeloop.tools.reward import mark

    if not proposal.log_ids:
        return
    settings = getattr(ls, "settings", None)
    service = ls.services.implement
    problem = mark(proposal.log_ids, accepted, settings, service.log(settings) if service is not None else None)
    if problem:
        log.warning("%s", problem)
