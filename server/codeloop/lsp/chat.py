"""Chat over LSP: ``codeloop/chat`` with streamed ``codeloop/chatChunk``, cancel, and the
``codeloop.applyCode`` command. Thin: the answer comes from :mod:`codeloop.services.chat`.

Protocol (the VS Code client relies on it):

* request ``codeloop/chat`` ``{id, message, history: [{role, content}], context?: {uri?,
  languageId?, text?, selection?, selectionText?}, tools?}`` → ``{id, text, finishReason, error?}``
  with ``finishReason`` one of ``stop``, ``length``, ``cancelled``, ``error``, ``no_model``
  (the agent adds ``max_steps``); unless ``tools`` is ``false`` the chat agent answers, with
  tool calls (:mod:`codeloop.lsp.agent_chat`: its notifications and result fields);
* notifications ``codeloop/chatChunk`` ``{id, delta}`` while the answer streams;
* cancel with ``$/cancelRequest`` on the request (the result then still arrives, with
  ``finishReason: "cancelled"``) or the notification ``codeloop/chatCancel`` ``{id}``;
* command ``codeloop.applyCode`` ``[{uri, version, text, range?}]`` → ``{applied, reason?}``:
  a version-checked ``workspace/applyEdit``; nothing is edited when the server's copy of
  the document has another version.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codeloop.generate.chat_prompt import ChatContext, as_mapping, parse_history
from codeloop.lsp import convert
from codeloop.lsp.command_table import CMD_APPLY_CODE, INTEGER, RANGE, TEXT, URI, CommandSpec
from codeloop.lsp.errors import invalid_params
from codeloop.services import chat as service
from codeloop.workspace.model import Span
from codeloop.workspace.placement import placement as place

if TYPE_CHECKING:  # pragma: no cover
    from codeloop.lsp.server import CodeloopServer

log = logging.getLogger(__name__)

CHAT = "codeloop/chat"
CHAT_CHUNK = "codeloop/chatChunk"
CHAT_CANCEL = "codeloop/chatCancel"
STALE = "document changed since the answer was produced"


def chat_request(ls: Any, params: Any) -> tuple[str, service.ChatRequest]:
    """The chat id and the request from ``codeloop/chat`` params (invalid params raise)."""
    p = as_mapping(params) or {}
    chat_id, message = p.get("id"), p.get("message")
    if not isinstance(chat_id, str) or not chat_id:
        raise invalid_params("codeloop: codeloop/chat: 'id' must be a non-empty string")
    if not isinstance(message, str):
        raise invalid_params("codeloop: codeloop/chat: 'message' must be a string")
    context = ChatContext.from_dict(p.get("context"))
    if context is not None and not context.text and context.uri:
        doc = _open_document(ls, context.uri)
        if doc is not None:  # the client left out a large file: use the server's copy
            context.text = doc.text
    return chat_id, service.ChatRequest(message, parse_history(p.get("history")), context)


def register(server: CodeloopServer) -> None:
    sessions = server.services.chat

    @server.feature(CHAT)
    async def chat(ls: LanguageServer, params: Any) -> dict[str, Any]:
        chat_id, request = chat_request(ls, params)
        if (as_mapping(params) or {}).get("tools", True) is not False:
            from codeloop.lsp.agent_chat import answer as agent_answer

            return await agent_answer(server, ls, chat_id, request)
        settings = getattr(ls, "settings", None)
        llm = server.services.models.configured(getattr(settings, "model", None))
        answer = service.start(request, llm)
        sessions.begin(chat_id, answer)
        log.info("chat %s: %d chars, %d history turns, model %s", chat_id, len(request.message),
                 len(request.history), llm.chat_model if llm else None)
        try:
            async for delta in answer:
                ls.protocol.notify(CHAT_CHUNK, {"id": chat_id, "delta": delta})
        except asyncio.CancelledError:
            # $/cancelRequest: stop the stream and still answer with what was said.
            answer.cancel()
            answer.finish_reason = "cancelled"
        except Exception as exc:  # noqa: BLE001 - a bug must still end the answer as an error
            answer.cancel()
            log.exception("chat %s failed", chat_id)
            answer.finish_reason = "error"
            answer.error = f"codeloop: internal error in chat ({type(exc).__name__}); see the server log"
        finally:
            sessions.end(chat_id, answer)
        outcome = service.outcome(answer)
        result: dict[str, Any] = {"id": chat_id, "text": outcome.text, "finishReason": outcome.finish_reason}
        if outcome.error is not None:
            result["error"] = outcome.error
            log.warning("chat %s failed: %s", chat_id, outcome.error)
        return result

    @server.feature(CHAT_CANCEL)
    def chat_cancel(ls: LanguageServer, params: Any) -> None:
        chat_id = (as_mapping(params) or {}).get("id")
        if isinstance(chat_id, str) and sessions.cancel(chat_id):
            log.info("chat %s cancelled", chat_id)

    server.commands.add(CommandSpec(CMD_APPLY_CODE, apply_code_edit, {
        "uri": URI.needed(), "version": INTEGER.needed(), "text": TEXT.needed(), "range": RANGE}))


async def apply_code_edit(ls: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Apply the parsed ``{uri, version, text, range?}`` with a version-checked edit."""
    uri, version, text = args["uri"], args["version"], args["text"]
    doc = _open_document(ls, uri)
    if doc is None:
        return {"applied": False, "reason": "the document is not open in codeloop (only open Python files can be edited)"}
    if doc.version != version:
        return {"applied": False, "reason": STALE}
    if "range" in args:
        start, end = args["range"]["start"], args["range"]["end"]
        span = Span(start["line"], start["character"], end["line"], end["character"])
        if (span.start_line, span.start_col) > (span.end_line, span.end_col):
            raise invalid_params(f"codeloop: {CMD_APPLY_CODE}: the range's start is after its end")
        if span.end_line > doc.line_count:
            return {"applied": False, "reason": STALE}
        rng, new_text = convert.range_of(span), text
    else:
        rng, new_text = placement(doc, text)
    edit = convert.workspace_edit(convert.text_document_edit(uri, version, rng, new_text))
    applied, reason = await ls.apply_edit(edit, "codeloop: apply code")
    return {"applied": True} if applied else {"applied": False, "reason": reason}


def placement(doc: Any, text: str) -> tuple[types.Range, str]:
    """Where code without a range goes (:func:`codeloop.workspace.placement.placement`), as an LSP range."""
    span, new_text = place(doc, text)
    return convert.range_of(span), new_text


def _open_document(ls: Any, uri: str) -> Any | None:
    documents = getattr(ls, "documents", None)
    if documents is None:
        return None
    try:
        return documents.get(uri)
    except Exception:  # noqa: BLE001
        return None
