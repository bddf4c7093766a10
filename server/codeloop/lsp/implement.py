"""The ``codeloop.implement`` command and its offer: apply what verified, show what did not.

Arguments ``[{"uri", "line", "version", "acceptUnverified"?: bool}]`` (as the code
action sends them, see :mod:`codeloop.lsp.code_actions`). Thin: the work is
:func:`codeloop.services.implement.implement`, run off the event loop as an
``implement`` job (``Implement parse_date`` in the busy status) with cancellable
``$/progress`` (token ``codeloop-implement-*``; also stopped by ``codeloop.cancel`` and
``$/cancelRequest``).

Result ``{"applied", "verified", "title", "evidence", "failed", "reason"?, "error"?,
"errorKind"?}``. What happens next (the offer, issue 6 item 3):

* verified: the edit is applied (a ``TextDocumentEdit`` for the version the command was
  given) and kept as an offer: a later code action request on that function at the same
  document version shows ``Implement parse_date: 3/3 examples, ... pass`` with the edit;
* ambiguous (several behaviours pass the user's checks): nothing is applied. A Warning at
  the ``def`` line shows the first input they disagree on, and each behaviour is offered as
  its own code action (``Implement split_words as behaviour 1: split_words('a  b') ->
  ['a', 'b'] (3 candidates)``) whose edit applies it and adds its outputs on the
  disagreeing inputs as a test to the function's test file;
* plausible or unverified: nothing is applied (unless ``acceptUnverified``). A Warning
  diagnostic at the ``def`` line says in one line what failed, and the best candidate is
  offered as a code action whose title says the level (``Implement parse_date
  (unverified: 2/3 examples pass)``, ``Implement f (plausible: 6/10 candidates agree, ...;
  no examples to check)``) and whose edit is version-checked. Never presented as verified.

Offers live per document, keyed by the intent (first line, name) and the document
version they were made for. A change inside the function (or of the whole document),
closing it, or applying an implementation drops the offer and its diagnostic; a change
elsewhere only moves the diagnostic with its lines. Nothing is applied or offered when
the document changed during the run or the run was cancelled. The outcome (applied or
not) goes to the reward log as the user's acceptance.

An offer's code action also carries the command ``codeloop.offerAccepted`` with
``[{"logId": <reward log row>}]``: the client runs it after applying the action's edit, and
the row is marked accepted. Only ids this server offered are taken (InvalidParams otherwise).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

from lsprotocol import types

from codeloop.job import Job
from codeloop.lsp import convert
from codeloop.lsp.command_table import CMD_IMPLEMENT, CMD_OFFER_ACCEPTED, FLAG, LINE, LOG_ID, URI, VERSION, CommandSpec
from codeloop.lsp.commands import Target, target_of
from codeloop.lsp.errors import invalid_params, request_failed
from codeloop.lsp.progress import job_progress, request_future
from codeloop.lsp.registry import Change
from codeloop.lsp.server import CodeloopServer
from codeloop.model.cache import ClientCache
from codeloop.workspace import kinds
from codeloop.workspace.document import Document, path_to_uri, utf16_len

log = logging.getLogger(__name__)

STALE = "the document changed while the implementation was generated; nothing was applied"
JOB_KIND = "implement"
DIAGNOSTICS_SOURCE = "implement"  # this feature's key on the diagnostics board
DIAGNOSTIC_CODE = "codeloop.unverified"


@dataclass
class Offer:
    """One implement result kept for the code actions of its document version."""

    version: int | None
    name: str
    first: int  # the function's (or comment's) lines, moved by edits above it
    last: int
    verified: bool
    title: str
    edit: Any  # codeloop.generate.implement.LineEdit, or None when nothing can be applied
    diagnostic: types.Diagnostic | None = None
    log_id: int = 0  # the candidate's reward log row (0: not logged)
    action_kind: str = ""  # the code-action kind the intent's kind files its offer under
    behaviour: int = 0  # the behaviour of an ambiguous result it applies (0: the one best candidate)
    test: tuple[str, str | None, str] | None = None  # (test file uri, its text now or None, new text)

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.first, self.name, self.behaviour)

    def shift(self, delta: int) -> None:
        self.first += delta
        self.last += delta
        if self.diagnostic is not None:
            self.diagnostic.range = convert.shifted(self.diagnostic.range, delta)


class ImplementService:
    """Per-server state: the model client (rebuilt when the settings change), the reward
    log, running implementations and the offers per document."""

    def __init__(self, models: ClientCache | None = None) -> None:
        self._clients = models if models is not None else ClientCache()  # the server's shared cache
        self._log: Any = None
        self._log_key: Any = None
        self.log_warning: str | None = None  # why the reward log could not be opened last time
        self._lock = threading.Lock()
        self.offers: dict[str, dict[tuple[int, str, int], Offer]] = {}  # uri -> (first line, name, behaviour) -> offer
        self.offered_log_ids: set[int] = set()  # rows whose offer went out in a code action

    def llm(self, model_settings: Any) -> Any:
        return self._clients.get(model_settings)

    def log(self, settings: Any) -> Any:
        """The reward log for ``settings``; one that could not be opened (locked, damaged,
        no space) is tried again on the next call, so recording resumes once it is fixed."""
        from codeloop.services.implement import open_reward_log

        key = (settings.learn.enabled,)
        with self._lock:
            if self._log is None or self._log_key != key or self.log_warning is not None:
                if self._log is not None:
                    self._log.close()
                self._log, self.log_warning = open_reward_log(settings)
                if self.log_warning:
                    log.warning("reward log unavailable: %s", self.log_warning)
                self._log_key = key
            return self._log

    # -- offers ----------------------------------------------------------------------------

    def keep(self, ls: CodeloopServer, uri: str, *offers: Offer) -> None:
        """Remember ``offers`` of one intent (replacing every earlier one for it)."""
        with self._lock:
            kept = self.offers.setdefault(uri, {})
            for offer in offers:
                for key in [k for k in kept if k[:2] == (offer.first, offer.name)]:
                    del kept[key]
            for offer in offers:
                kept[offer.key] = offer
        self.publish(ls, uri)

    def drop(self, ls: CodeloopServer, uri: str) -> None:
        """Forget every offer of ``uri`` (the document was closed)."""
        with self._lock:
            offers = self.offers.pop(uri, {})
        if any(o.diagnostic is not None for o in offers.values()):
            self.publish(ls, uri)

    def document_changed(self, ls: CodeloopServer, uri: str, changes: list[Change]) -> None:
        """Drop the offers of functions a change touched; move the others with their lines."""
        with self._lock:
            offers = self.offers.get(uri)
            if not offers:
                return
            before = [(o.first, o.diagnostic.range.start.line if o.diagnostic else None) for o in offers.values()]
            for span, text in changes:
                for key, offer in list(offers.items()):
                    if span is None or span.start_line <= offer.last and span.end_line >= offer.first:
                        del offers[key]
                    elif span.end_line < offer.first:
                        offer.shift(text.count("\n") - (span.end_line - span.start_line))
            if offers:
                self.offers[uri] = {o.key: o for o in offers.values()}
            else:
                del self.offers[uri]
            after = [(o.first, o.diagnostic.range.start.line if o.diagnostic else None) for o in offers.values()]
        if before != after:
            self.publish(ls, uri)

    def publish(self, ls: CodeloopServer, uri: str) -> None:
        with self._lock:
            diagnostics = [o.diagnostic for o in self.offers.get(uri, {}).values() if o.diagnostic is not None]
        ls.diagnostics.set(uri, DIAGNOSTICS_SOURCE, diagnostics)

    def code_actions(self, ls: CodeloopServer, params: types.CodeActionParams, doc: Document) -> list[types.CodeAction]:
        """The kept offers at the requested lines, for this very document version."""
        first, last = params.range.start.line, params.range.end.line
        uri, only = params.text_document.uri, params.context.only
        with self._lock:
            offers = [o for o in self.offers.get(uri, {}).values()
                      if o.version == doc.version and o.edit is not None and o.first <= last and o.last >= first
                      and convert.kind_allowed(o.action_kind, only)]
            self.offered_log_ids.update(o.log_id for o in offers if o.log_id)
        return [convert.code_action(
            o.title, o.action_kind,
            edit=convert.line_edit(uri, o.version, o.edit) if o.test is None
            else convert.edit_with_file(uri, o.version, o.edit, *o.test),
            run=convert.command(o.title, CMD_OFFER_ACCEPTED, [{"logId": o.log_id}]) if o.log_id else None,
            diagnostics=[o.diagnostic] if o.diagnostic is not None else None,
            preferred=o.verified or None,
        ) for o in offers]

    def accepted(self, ls: CodeloopServer, args: dict[str, Any]) -> dict[str, Any]:
        """``codeloop.offerAccepted``: the user applied the offer of reward log row ``logId``."""
        log_id = args["logId"]
        with self._lock:
            known = log_id in self.offered_log_ids
        if not known:
            raise invalid_params(f"codeloop: {CMD_OFFER_ACCEPTED}: {log_id} is not the log id of an offer of this server")
        try:
            self.log(ls.settings).mark_accepted(log_id, True)
        except Exception as exc:  # noqa: BLE001 - the edit is in; learning only logs its failure
            log.warning("reward log: cannot record acceptance of %s: %s", log_id, exc)
            return {"recorded": False}
        return {"recorded": True}


def register(server: CodeloopServer) -> None:
    service = server.services.implement = ImplementService(server.services.models)
    server.code_action_providers.append(service.code_actions)
    server.hooks.on("change", lambda uri, changes: service.document_changed(server, uri, changes))
    server.hooks.on("close", lambda uri: service.drop(server, uri))

    async def implement_command(ls: CodeloopServer, args: dict[str, Any]) -> dict[str, Any]:
        return await run_implement(ls, service, args)

    server.commands.add(CommandSpec(CMD_IMPLEMENT, implement_command, {
        "uri": URI.needed(), "line": LINE.needed(), "version": VERSION, "acceptUnverified": FLAG}))
    server.commands.add(CommandSpec(CMD_OFFER_ACCEPTED, service.accepted, {"logId": LOG_ID.needed()}))


async def run_implement(ls: CodeloopServer, service: ImplementService, args: dict[str, Any]) -> dict[str, Any]:
    from codeloop.services.implement import ImplementError, implement

    request = request_future(ls)  # before the first await: it reads the current message id
    target = target_of(ls, args, CMD_IMPLEMENT)
    checked = _checked_request(ls, service, target)
    label, version = f"Implement {checked.intent.name}", target.doc.version  # the document changes in place
    cancel = threading.Event()
    try:
        async with job_progress(ls, JOB_KIND, label, checked.workspace, cancel, uri=target.uri, request=request,
                                feature="implement", title=label, percentage=0) as progress:
            result = await asyncio.to_thread(implement, checked, Job(progress.report, cancel))
    except ImplementError as exc:
        raise invalid_params(f"codeloop: {exc}") from None
    answer: dict[str, Any] = {"applied": False, "verified": result.verified, "level": result.level,
                              "title": result.title, "evidence": result.evidence, "failed": result.failed,
                              "disagreements": [d.line() for d in result.disagreements],
                              "behaviours": [result.behaviour_title(b.number) for b in result.behaviours]
                              if result.level == "ambiguous" else []}
    if result.cancelled or cancel.is_set():
        answer["reason"] = "cancelled"
        return answer
    problem = result.log_warning or service.log_warning
    if problem:  # learning is off until it is fixed; implementing goes on
        answer["logWarning"] = problem
        ls.show_once(f"codeloop: reward log: {problem}; outcomes are not recorded until then")
    current = ls.documents.get(target.uri)
    if current is not None and (current.version != version or current.text != checked.document_text):
        answer["reason"] = STALE
        ls.show(f"codeloop: {STALE}", types.MessageType.Warning)
        return answer
    if result.error and result.best is None:
        answer.update(error=result.error, errorKind=result.error_kind, reason=result.error)
        ls.show(f"codeloop: {label}: {result.error}", types.MessageType.Error)
        return answer
    return await _offer_or_apply(ls, service, target, version, result, answer, args.get("acceptUnverified", False))


def _checked_request(ls: CodeloopServer, service: ImplementService, target: Target) -> Any:
    """The service request for the command's target, its intent found and the model
    checked; InvalidParams / RequestFailed (with a message shown) otherwise."""
    from codeloop.services.implement import ImplementOutcome, ImplementRequest, NoIntentError, check

    doc, settings, cmd, line = target.doc, ls.settings, CMD_IMPLEMENT, target.line or 0  # the schema needs a line
    ask = ImplementRequest(path=doc.path or "", document_text=doc.text, workspace=ls.workspace_root(target.uri),
                           settings=settings, line=line, intents=ls.intents_on_lines(doc, line, line))
    try:
        checked = check(ask)
    except NoIntentError:
        raise invalid_params(f"codeloop: {cmd}: no stub or describing comment at line {line}") from None
    if doc.path is None:
        raise invalid_params(f"codeloop: {cmd}: only files on disk can be implemented")
    if isinstance(checked, ImplementOutcome):  # no model configured
        ls.show(f"codeloop: {checked.error}", types.MessageType.Warning)
        raise request_failed(f"codeloop: {checked.error}")
    checked.log, checked.llm = service.log(settings), service.llm(settings.model)
    return checked


async def _offer_or_apply(ls: CodeloopServer, service: ImplementService, target: Target, version: int | None,
                          result: Any, answer: dict[str, Any], accept_unverified: bool) -> dict[str, Any]:
    """Keep the result as an offer; apply it when verified (or accepted unverified) and
    record whether it went in."""
    from codeloop.services.implement import record_acceptance

    doc, intent = target.doc, result.intent
    edit = result.edit()
    kind = kinds.lookup(intent.kind)
    if result.level == "ambiguous":
        offers = behaviour_offers(target.uri, version, result, kind.offer.action_kind if kind and kind.offer else "")
        if offers:
            offers[0].diagnostic = failure_diagnostic(doc, intent, result)
            service.keep(ls, target.uri, *offers)
            answer["reason"] = "ambiguous: not applied (each behaviour is offered as a code action)"
            ls.show(f"codeloop: {result.title}. Not applied. {'; '.join(result.disagreement_lines(2))}",
                    types.MessageType.Warning)
            return answer
    offer = Offer(version, intent.name, intent.span.start_line, intent.span.end_line, result.verified,
                  offer_title(result), edit, log_id=result.best.log_id if result.best is not None else 0,
                  action_kind=kind.offer.action_kind if kind is not None and kind.offer is not None else "")
    if not result.verified:
        offer.diagnostic = failure_diagnostic(doc, intent, result)
    if edit is None or (not result.verified and not accept_unverified):
        service.keep(ls, target.uri, offer)
        return _not_applied(ls, answer, result)
    applied, reason = await ls.apply_edit(convert.line_edit(target.uri, version, edit), f"codeloop: {offer.title}")
    answer["applied"] = applied
    if reason:
        answer["reason"] = reason
    if applied:
        offer.diagnostic = None  # an implementation is in: what failed before no longer applies
    service.keep(ls, target.uri, offer)
    problem = record_acceptance(result, applied)
    if problem:
        log.error("%s", problem)
    ls.show(f"codeloop: {result.title}" + ("" if applied else f" (not applied: {reason})"),
            types.MessageType.Info if applied else types.MessageType.Warning)
    return answer


def behaviour_offers(uri: str, version: int | None, result: Any, action_kind: str) -> list[Offer]:
    """One offer per behaviour of an ambiguous ``result``: its edit, and the test that
    keeps the choice (when its outputs can be asserted and the test file parses)."""
    from codeloop.generate.implement import line_edit
    from codeloop.generate.merge import MergeError
    from codeloop.services.implement import pick_test

    intent, offers = result.intent, []
    for b in result.behaviours:
        chosen = result.pick(b.number)
        if chosen.new_text is None or result.document_text is None:
            continue
        test = None
        try:
            picked = pick_test(result, b.number)
        except (MergeError, OSError) as exc:
            log.warning("no test for behaviour %s of %s: %s", b.number, result.name, exc)
            picked = None
        if picked is not None:
            test = (path_to_uri(picked.path), picked.before, picked.text)
        offers.append(Offer(version, intent.name, intent.span.start_line, intent.span.end_line, False,
                            result.behaviour_title(b.number), line_edit(result.document_text, chosen.new_text),
                            log_id=chosen.log_id, action_kind=action_kind, behaviour=b.number, test=test))
    return offers


def _not_applied(ls: CodeloopServer, answer: dict[str, Any], result: Any) -> dict[str, Any]:
    """The answer (and the message) when the result is only offered: no candidate, or unverified."""
    if result.edit() is None:
        answer["reason"] = "no candidate to apply"
        ls.show(f"codeloop: {result.title}", types.MessageType.Warning)
        return answer
    answer["reason"] = "unverified: not applied (offered as an unverified code action)"
    failed = "; ".join(f.splitlines()[0] for f in result.failed[:3] if f.strip())
    ls.show(f"codeloop: {result.title}. Not applied. {failed}", types.MessageType.Warning)
    return answer


def offer_title(result: Any) -> str:
    """The code action title, which says the level: the evidence when verified, the
    agreement when plausible, an explicit ``unverified`` otherwise."""
    if result.level in ("verified", "plausible"):
        return result.title
    return f"Implement {result.name} (unverified: {result.evidence})"


def failure_line(result: Any) -> str:
    """What kept the implementation from verifying, in one line."""
    first = next((f.splitlines()[0] for f in result.failed if f.strip()), None)
    if result.level == "ambiguous" and result.disagreement_lines(1):
        return (f"ambiguous: {len(result.behaviours)} behaviours pass your checks: {result.disagreement_lines(1)[0]}; "
                "pick one (a code action each)")
    if result.level == "plausible":
        return f"plausible only: no examples or tests to check {result.name} against; {result.verdict.summary()}"
    best = result.best
    if best is None:
        return f"no verified implementation: {first or result.error or 'no usable candidate'}"
    fails = []
    if best.examples:
        passed = sum(r.passed for r in best.examples)
        if passed < len(best.examples):
            fails.append(f"{len(best.examples) - passed}/{len(best.examples)} examples")
    for prefix, what in (("existing::", "existing tests"), ("property::", "return-type checks")):  # model tests only vote
        passed, total = best.counts(prefix)
        if passed < total:
            fails.append(f"{total - passed}/{total} {what}")
    head = "best candidate fails " + ", ".join(fails) if fails else f"best candidate: {best.evidence()}"
    return f"no verified implementation: {head}" + (f": {first}" if first else "")


def def_line(doc: Document, first: int, last: int) -> int:
    """The ``def`` line of the function spanning ``first..last`` (past decorators), else ``first``."""
    for line in range(first, min(last, doc.line_count - 1) + 1):
        stripped = doc.line_text(line).lstrip()
        if stripped.startswith(("def ", "async def ")):
            return line
    return first


def failure_diagnostic(doc: Document, intent: Any, result: Any) -> types.Diagnostic:
    line = def_line(doc, intent.span.start_line, intent.span.end_line)
    text = doc.line_text(line)
    indent = len(text) - len(text.lstrip())
    return convert.diagnostic(convert.range_between(line, indent, line, utf16_len(text)), failure_line(result),
                              "warning", DIAGNOSTIC_CODE, data={"name": intent.name})


__all__ = ["ImplementService", "Offer", "failure_line", "register", "run_implement"]
