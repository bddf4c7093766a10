"""Chat over LSP: ``codeloop/chat`` with streamed ``codeloop/chatChunk``, cancel, and the
``codeloop.applyCode`` command. Thin: the answer comes from :mod:`codeloop.services.chat`.

Protocol (the VS Code client relies on it):

* request ``codeloop/chat`` ``{id, message, history: [{role, content}], context?: {uri?,
  languageId?, text?, selection?, selectionText?}}`` → ``{id, text, finishReason, error?}``
  with ``finishReason`` one of ``stop``, ``length``, ``cancelled``, ``error``, ``no_model``;
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
from codeloop.services import chat as service

if TYPE_CHECKING:  # pragma: no cover
    from codeloop.lsp.server import CodeloopServer

log = logging.getLogger(__name__)

CHAT = "codeloop/chat"
CHAT_CHUNK = "codeloop/chatChunk"
CHAT_CANCEL = "codeloop/chatCancel"
CMD_APPLY_CODE = "codeloop.applyCode"
STALE = "document changed since the answer was produced"
APPLY_TIMEOUT = 30.0


def chat_request(ls: Any, params: Any) -> tuple[str, service.ChatRequest]:
    """The chat id and the request from ``codeloop/chat`` params (invalid params raise)."""
    p = as_mapping(params) or {}
    chat_id, message = p.get("id"), p.get("message")
    if not isinstance(chat_id, str) or not chat_id:
        raise _invalid("codeloop/chat: 'id' must be a non-empty string")
    if not isinstance(message, str):
        raise _invalid("codeloop/chat: 'message' must be a string")
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

    @server.command(CMD_APPLY_CODE)
    async def apply_code(ls: LanguageServer, *args: Any) -> dict[str, Any]:
        return await apply_code_edit(ls, args)


async def apply_code_edit(ls: Any, args: tuple[Any, ...]) -> dict[str, Any]:
    """Check ``[{uri, version, text, range?}]`` and apply it with a versioned edit."""
    arg = as_mapping(args[0]) if len(args) == 1 else None
    if arg is None:
        raise _invalid(f'{CMD_APPLY_CODE} expects one argument {{"uri", "version", "text", "range"?}}')
    uri, version, text = arg.get("uri"), arg.get("version"), arg.get("text")
    if not isinstance(uri, str) or not uri:
        raise _invalid(f"{CMD_APPLY_CODE}: missing or invalid 'uri'")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _invalid(f"{CMD_APPLY_CODE}: 'version' must be an integer")
    if not isinstance(text, str):
        raise _invalid(f"{CMD_APPLY_CODE}: 'text' must be a string")
    doc = _open_document(ls, uri)
    if doc is None:
        return {"applied": False, "reason": "the document is not open in codeloop (only open Python files can be edited)"}
    if doc.version != version:
        return {"applied": False, "reason": STALE}
    if arg.get("range") is not None:
        rng = _parse_range(arg.get("range"))
        if rng is None:
            raise _invalid(f"{CMD_APPLY_CODE}: 'range' must be {{start: {{line, character}}, end: {{line, character}}}}")
        if (rng.start.line, rng.start.character) > (rng.end.line, rng.end.character):
            raise _invalid(f"{CMD_APPLY_CODE}: the range's start is after its end")
        if rng.end.line > doc.line_count:
            return {"applied": False, "reason": STALE}
        new_text = text
    else:
        rng, new_text = placement(doc, text)
    edit = types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
        edits=[types.TextEdit(range=rng, new_text=new_text)],
    )])
    try:
        result = await asyncio.wait_for(
            ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label="codeloop: apply code")),
            timeout=APPLY_TIMEOUT,
        )
    except asyncio.TimeoutError:
        return {"applied": False, "reason": "the editor did not answer the edit request"}
    except Exception as exc:  # noqa: BLE001 - the client refused in its own way
        return {"applied": False, "reason": f"the editor refused the edit: {exc}"}
    if result is None or not result.applied:
        reason = getattr(result, "failure_reason", None) or "the editor did not apply the edit"
        return {"applied": False, "reason": reason}
    return {"applied": True}


def placement(doc: Any, text: str) -> tuple[types.Range, str]:
    """Where code without a range goes: over the top-level definition of the same name
    when the code is one function or class that the file already defines, else appended
    at the end of the file."""
    name = _single_definition_name(text)
    if name is not None:
        for node in doc.tree.root_node.children:
            if _definition_name(node, doc.source) == name:
                span = doc.node_span(node)
                return (types.Range(start=types.Position(line=span.start_line, character=span.start_col),
                                    end=types.Position(line=span.end_line, character=span.end_col)),
                        text.strip("\n"))
    last = max(doc.line_count - 1, 0)
    end = types.Position(line=last, character=len(doc.line_text(last).encode("utf-16-le")) // 2)
    source = doc.text
    if not source.strip():
        prefix = ""
    else:  # one blank line before a statement, two before a definition (PEP 8)
        trailing = len(source) - len(source.rstrip("\n"))
        prefix = "\n" * max(0, (3 if _needs_two(text) else 2) - trailing)
    body = text if text.endswith("\n") else text + "\n"
    return types.Range(start=end, end=end), prefix + body


def _needs_two(text: str) -> bool:
    return text.lstrip().startswith(("def ", "async def ", "class ", "@"))


def _single_definition_name(text: str) -> str | None:
    from codeloop.workspace.document import new_parser

    source = text.encode("utf-8", "surrogatepass")
    tree = new_parser().parse(source)
    if tree.root_node.has_error:
        return None
    defs = [n for n in tree.root_node.children if n.type != "comment"]
    if len(defs) != 1:
        return None
    return _definition_name(defs[0], source)


def _definition_name(node: Any, source: bytes) -> str | None:
    if node.type == "decorated_definition":
        node = node.child_by_field_name("definition")
        if node is None:
            return None
    if node.type not in ("function_definition", "class_definition"):
        return None
    name = node.child_by_field_name("name")
    return source[name.start_byte:name.end_byte].decode("utf-8", "surrogatepass") if name is not None else None


def _parse_range(raw: Any) -> types.Range | None:
    raw = as_mapping(raw)
    if raw is None:
        return None
    try:
        start, end = as_mapping(raw.get("start")), as_mapping(raw.get("end"))
        values = [start["line"], start["character"], end["line"], end["character"]]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        return None
    return types.Range(start=types.Position(line=values[0], character=values[1]),
                       end=types.Position(line=values[2], character=values[3]))


def _open_document(ls: Any, uri: str) -> Any | None:
    documents = getattr(ls, "documents", None)
    if documents is None:
        return None
    try:
        return documents.get(uri)
    except Exception:  # noqa: BLE001
        return None


def _invalid(message: str) -> Exception:
    from pygls.exceptions import JsonRpcInvalidParams

    return JsonRpcInvalidParams(f"codeloop: {message}")
