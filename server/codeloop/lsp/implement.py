"""The ``codeloop.implement`` command: run the implement pipeline, apply what verified.

Arguments ``[{"uri", "line", "version", "acceptUnverified"?: bool}]`` (as the code
action sends them, see :mod:`codeloop.lsp.code_actions`). Thin: the work is
:func:`codeloop.generate.implement.implement`, run off the event loop with
``$/progress`` (cancellable from the client's progress UI or with
``$/cancelRequest``).

Result ``{"applied", "verified", "title", "evidence", "failed", "reason"?, "error"?,
"errorKind"?}``. Only a verified implementation is applied, unless
``acceptUnverified`` is true; the edit is a ``TextDocumentEdit`` for the version the
command was given, and nothing is applied when the document changed during the run.
The outcome (applied or not) goes to the reward log as the user's acceptance.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from typing import Any

from lsprotocol import types

from codeloop.lsp import convert
from codeloop.lsp.commands import target_of
from codeloop.lsp.errors import invalid_params, request_failed
from codeloop.lsp.server import CodeloopServer

log = logging.getLogger(__name__)

STALE = "the document changed while the implementation was generated; nothing was applied"
APPLY_TIMEOUT = 30.0


class ImplementService:
    """Per-server state: the model client (rebuilt when the settings change), the reward log."""

    def __init__(self) -> None:
        self._llm: Any = None
        self._llm_key: Any = None
        self._log: Any = None
        self._log_key: Any = None
        self._lock = threading.Lock()
        self.active: dict[str, tuple[str, threading.Event]] = {}  # run id -> (workspace root, cancel)

    def cancel(self, root: str | None = None) -> int:
        """Cancel the running implementations (of one workspace root, or all); how many."""
        with self._lock:
            events = [ev for r, ev in self.active.values() if root is None or r == root]
        for ev in events:
            ev.set()
        return len(events)

    def llm(self, model_settings: Any) -> Any:
        from codeloop.generate.llm import LLMClient

        key = (model_settings, getattr(model_settings, "api_key", None))
        with self._lock:
            if self._llm is None or self._llm_key != key:
                if self._llm is not None:
                    self._llm.close()
                self._llm = LLMClient(model_settings)
                self._llm_key = key
            return self._llm

    def log(self, settings: Any) -> Any:
        from codeloop.learn.log import DisabledLog, LearnError, open_log

        key = (settings.learn.enabled,)
        with self._lock:
            if self._log is None or self._log_key != key:
                if self._log is not None:
                    self._log.close()
                try:
                    secrets = [k for k in [settings.model.resolve_api_key()] if k]
                    self._log = open_log(settings, secrets=secrets)
                except LearnError as exc:
                    log.warning("reward log unavailable: %s", exc)
                    self._log = DisabledLog()
                self._log_key = key
            return self._log


def register(server: CodeloopServer) -> None:
    service = ImplementService()
    server.codeloop_implement = service  # type: ignore[attr-defined]

    @server.command(convert.CMD_IMPLEMENT)
    async def implement_command(ls: CodeloopServer, *args: Any) -> dict[str, Any]:
        return await run_implement(ls, service, args)


async def run_implement(ls: CodeloopServer, service: ImplementService, args: tuple[Any, ...]) -> dict[str, Any]:
    from codeloop_sandbox import Policy

    from codeloop.generate.implement import ImplementError, implement
    from codeloop.generate.llm import NOT_CONFIGURED
    from codeloop.workspace.testindex import find_workspace_root

    target = target_of(ls, args, convert.CMD_IMPLEMENT)
    accept_unverified = bool(args[0].get("acceptUnverified"))
    doc = target.doc
    found = [i for i in ls.intents_on_lines(doc, target.line, target.line)
             if i.kind in ("implement", "from_comment") and i.span.contains_line(target.line)]
    if not found:
        raise invalid_params(f"codeloop: {convert.CMD_IMPLEMENT}: no stub or describing comment at line {target.line}")
    intent = min(found, key=lambda i: i.span.end_line - i.span.start_line)
    if doc.path is None:
        raise invalid_params(f"codeloop: {convert.CMD_IMPLEMENT}: only files on disk can be implemented")
    settings = ls.settings
    if not settings.model.configured:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"codeloop: {NOT_CONFIGURED}"))
        raise request_failed(f"codeloop: {NOT_CONFIGURED}")
    root = find_workspace_root(doc.path) if doc.path else ls.root
    sb = settings.sandbox
    policy = Policy(timeout=sb.timeout, memory_mib=sb.memory_mib, max_processes=sb.max_processes,
                    max_output_kib=sb.max_output_kib, allow_env=sb.allow_env, allow_levels=sb.allow_levels)
    text, version = doc.text, doc.version
    cancel = threading.Event()
    run_id = uuid.uuid4().hex
    with service._lock:
        service.active[run_id] = (str(root), cancel)
    progress = await _Progress.start(ls, f"Implement {intent.name}", cancel)
    reward_log = service.log(settings)
    try:
        result = await asyncio.to_thread(
            implement, intent, text, root, service.llm(settings.model), policy, settings,
            progress.report, cancel, path=doc.path, log=reward_log,
        )
    except asyncio.CancelledError:
        cancel.set()
        raise
    except ImplementError as exc:
        raise invalid_params(f"codeloop: {exc}") from None
    finally:
        progress.end()
        with service._lock:
            service.active.pop(run_id, None)

    answer: dict[str, Any] = {
        "applied": False,
        "verified": result.verified,
        "title": result.title,
        "evidence": result.evidence,
        "failed": result.failed,
    }
    if result.cancelled:
        answer["reason"] = "cancelled"
        return answer
    if result.error and result.best is None:
        answer.update(error=result.error, errorKind=result.error_kind, reason=result.error)
        _show(ls, f"codeloop: Implement {intent.name}: {result.error}", types.MessageType.Error)
        return answer
    current = ls.documents.get(target.uri)
    if current is not None and (current.version != version or current.text != text):
        answer["reason"] = STALE
        _show(ls, f"codeloop: {STALE}", types.MessageType.Warning)
        return answer
    edit = result.edit()
    if edit is None:
        answer["reason"] = "no candidate to apply"
        _show(ls, f"codeloop: {result.title}", types.MessageType.Warning)
        return answer
    if not result.verified and not accept_unverified:
        answer["reason"] = "unverified: not applied (run again with acceptUnverified to apply it anyway)"
        failed = "; ".join(f.splitlines()[0] for f in result.failed[:3])
        _show(ls, f"codeloop: {result.title}. Not applied. {failed}", types.MessageType.Warning)
        return answer
    applied, reason = await _apply(ls, target.uri, version, edit)
    answer["applied"] = applied
    if reason:
        answer["reason"] = reason
    if result.best is not None and result.best.log_id:
        try:
            reward_log.mark_accepted(result.best.log_id, applied)
        except Exception:  # noqa: BLE001 - learning never breaks the command
            log.exception("reward log: cannot record acceptance")
    _show(ls, f"codeloop: {result.title}" + ("" if applied else f" (not applied: {reason})"),
          types.MessageType.Info if applied else types.MessageType.Warning)
    return answer


async def _apply(ls: CodeloopServer, uri: str, version: int | None, edit: Any) -> tuple[bool, str | None]:
    text_edit = types.TextEdit(
        range=types.Range(start=types.Position(line=edit.start_line, character=0),
                          end=types.Position(line=edit.end_line, character=0)),
        new_text=edit.new_text,
    )
    workspace_edit = types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
        edits=[text_edit],
    )])
    try:
        result = await asyncio.wait_for(
            ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=workspace_edit, label="codeloop: implement")),
            timeout=APPLY_TIMEOUT,
        )
    except asyncio.TimeoutError:
        return False, "the editor did not answer the edit request"
    except Exception as exc:  # noqa: BLE001 - the client refused in its own way
        return False, f"the editor refused the edit: {exc}"
    if result is None or not result.applied:
        return False, getattr(result, "failure_reason", None) or "the editor did not apply the edit"
    return True, None


def _show(ls: CodeloopServer, message: str, kind: types.MessageType) -> None:
    try:
        ls.window_show_message(types.ShowMessageParams(type=kind, message=message))
    except Exception:  # noqa: BLE001
        log.exception("showMessage failed")


class _Progress:
    """``$/progress`` for one run when the client supports it (thread-safe reports)."""

    def __init__(self, ls: Any, token: str | None, loop: asyncio.AbstractEventLoop) -> None:
        self.ls, self.token, self.loop = ls, token, loop

    @classmethod
    async def start(cls, ls: Any, title: str, cancel: threading.Event) -> _Progress:
        loop = asyncio.get_running_loop()
        caps = getattr(getattr(ls, "client_capabilities", None), "window", None)
        if not getattr(caps, "work_done_progress", False):
            return cls(ls, None, loop)
        token = f"codeloop-implement-{uuid.uuid4().hex[:12]}"
        try:
            await asyncio.wait_for(ls.work_done_progress.create_async(token), timeout=5)
            ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True, percentage=0))
            future = ls.work_done_progress.tokens.get(token)
            if future is not None:
                future.add_done_callback(lambda _f: cancel.set())
        except Exception:  # noqa: BLE001 - progress is a nicety
            return cls(ls, None, loop)
        return cls(ls, token, loop)

    def report(self, message: str, fraction: float) -> None:
        if self.token is None:
            return
        value = types.WorkDoneProgressReport(message=message, percentage=max(0, min(100, int(fraction * 100))))
        self.loop.call_soon_threadsafe(self.ls.work_done_progress.report, self.token, value)

    def end(self) -> None:
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd())
            self.ls.work_done_progress.tokens.pop(self.token, None)


__all__ = ["ImplementService", "register", "run_implement"]
