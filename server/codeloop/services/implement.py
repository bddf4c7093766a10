"""Implement a stub or a describing comment with verified code: the service.

:func:`implement` is what ``codeloop implement`` and the ``codeloop.implement`` command
call (no pygls, no printing here). For the intent at a line it:

1. finds the stub or comment (kinds ``implement``/``from_comment``, the smallest span);
   a model that is not configured is an outcome with ``error_kind="not_configured"``;
2. opens the reward log (:mod:`codeloop.learn`; a :class:`DisabledLog` when learning is
   off or the log cannot be opened, with the reason in ``log_warning``) and builds the
   sandbox policy of the settings;
3. runs the pipeline (:func:`implement_intent`): asks the model for N candidates
   (generation: :mod:`codeloop.generate.implement`), extracts and audits each, collects
   the checks (examples, existing tests of the function, tests the model writes in a
   separate request, shared inputs whose outputs are compared between candidates),
   verifies every candidate in the sandbox (:mod:`codeloop.verify.candidates`), judges
   them (:mod:`codeloop.verify.evidence`: the user's checks are gates, the model's tests
   votes, candidates grouped into behaviours by their outputs on the shared inputs),
   asks once more for ``settings.generate.extra_samples`` candidates while the top
   behaviours are close and, when no candidate passes the user's checks, repairs the best
   failing ones for ``settings.generate.repair_rounds`` rounds, escalating through the
   models; every candidate's outcome goes to the reward log, which picks the model order
   and the budget (:func:`codeloop.learn.plan.choose_plan`: never more than configured).

The outcome (:class:`ImplementOutcome`) holds the evidence level (``verified``,
``ambiguous``, ``plausible``, ``unverified``), the best candidate, the evidence line
(``3/3 examples, 12/12 model tests pass, ...``), the behaviours and the inputs they
disagree on, what failed, every candidate's record and the new document text. Nothing is
written anywhere: the caller applies ``new_text`` (or :meth:`ImplementOutcome.edit`, or a
behaviour's :meth:`ImplementOutcome.pick`) or not, and says so with :func:`record_acceptance`.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codeloop.audit import AuditPolicy, ModuleIndex, audit_code
from codeloop.generate.extract import extract_function
from codeloop.generate.implement import (
    ImplementError,
    ImplementTarget,
    LineEdit,
    generated_tests,
    last_defined_function,
    line_edit,
    locate,
    splice,
    stub_annotations,
    stub_returns,
)
from codeloop.generate.prompts import PromptContext, file_context, implement_messages, repair_messages, tests_messages
from codeloop.job import Job, Progress
from codeloop.learn.log import DisabledLog, LearnError, Outcome, RewardLog, open_log
from codeloop.learn.plan import Plan, choose_plan, configured_budget
from codeloop.learn.ranking import choose_models
from codeloop.model.client import ModelClient
from codeloop.text import first_line
from codeloop.verify.candidates import CandidateRecord, Checks, generated_tests_file, verify_candidate
from codeloop.verify.evidence import Behaviour, Disagreement, Verdict, judge
from codeloop.verify.examples import build_example_tests
from codeloop.verify.existing_tests import existing_tests
from codeloop.verify.output_probe import calls_in, outputs_probe, shared_inputs, typed_inputs
from codeloop.verify.rank import CandidateEvidence, rank
from codeloop.workspace import kinds
from codeloop.workspace.model import Intent


class NoIntentError(ImplementError):
    """No stub or describing comment at the requested line."""


@dataclass
class ImplementRequest:
    """One implementation to make: the intent at ``line`` of ``path`` (or ``intent``)."""

    path: str  # the document's file
    document_text: str  # its text now (the editor's buffer, not necessarily the disk)
    workspace: str  # the project root, copied into the sandbox
    settings: Any  # codeloop.config.Settings (model, candidates, repair rounds, sandbox, learn)
    line: int | None = None  # 0-based line of the stub or comment
    intent: Intent | None = None  # the intent itself (then ``line`` is not needed)
    intents: Sequence[Intent] | None = None  # the intents already found at ``line``; None: find them
    models: Sequence[str] | None = None  # models to escalate through, cheapest first (default: the configured one)
    learn: bool = True  # record the candidates in the reward log
    log: RewardLog | DisabledLog | None = None  # an open log to use (left open); None: open one for settings
    llm: ModelClient | None = None  # a model client to use (left open); None: one for settings.model, closed after


@dataclass
class ImplementOutcome:
    """What implementing found. ``new_text`` is set only when there is a candidate (for an
    ambiguous outcome: the top behaviour's, never written without the user's pick)."""

    name: str
    level: str = "unverified"  # "verified", "ambiguous", "plausible", "unverified" (codeloop.verify.evidence)
    best: CandidateRecord | None = None
    evidence: str = ""
    failed: list[str] = field(default_factory=list)
    candidates: list[CandidateRecord] = field(default_factory=list)
    new_text: str | None = None
    error: str | None = None  # a model or sandbox failure, one line
    error_kind: str | None = None  # ModelError kind, "not_configured", "sandbox", "cancelled"
    cancelled: bool = False
    models_tried: list[str] = field(default_factory=list)
    generated_tests: str | None = None  # the model-written tests file that was used
    notes: list[str] = field(default_factory=list)
    document_text: str | None = field(default=None, repr=False)  # the text the candidates were made for
    intent: Intent | None = field(default=None, repr=False)  # the intent implemented
    log_warning: str | None = None  # the reward log could not be opened or written: (some) outcomes not recorded
    reward_log: RewardLog | DisabledLog | None = field(default=None, repr=False)  # where the candidates were logged
    owns_log: bool = field(default=False, repr=False)  # the service opened reward_log: close() closes it
    verdict: Verdict | None = field(default=None, repr=False)  # what the level rests on
    module: str | None = None  # the module the function is imported from (for a picked behaviour's test)
    test_files: tuple[str, ...] = ()  # existing test files of the function, relative to the workspace
    workspace: str | None = None

    @property
    def verified(self) -> bool:
        return self.level == "verified"

    @property
    def behaviours(self) -> tuple[Behaviour, ...]:
        """The behaviours that pass the user's checks, best first (several when ambiguous)."""
        return self.verdict.behaviours if self.verdict is not None else ()

    @property
    def disagreements(self) -> tuple[Disagreement, ...]:
        return self.verdict.disagreements if self.verdict is not None else ()

    def disagreement_lines(self, limit: int = 5) -> list[str]:
        """``split_words('a  b'): ['a', 'b'] (3 candidates) vs ['a', '', 'b'] (2)``, one per input."""
        return self.verdict.lines(limit) if self.verdict is not None else []

    def pick(self, number: int) -> CandidateRecord:
        """The candidate that represents behaviour ``number`` (1-based); ValueError when there is none."""
        behaviours = self.behaviours
        if not 1 <= number <= len(behaviours):
            raise ValueError(f"there {'is' if len(behaviours) == 1 else 'are'} {len(behaviours)} "
                             f"behaviour{'s' if len(behaviours) != 1 else ''}; {number} is not one of them")
        wanted = behaviours[number - 1].representative
        return next(c for c in self.candidates if c.id == wanted)

    def pick_cases(self, number: int) -> list[tuple[str, str]]:
        """The (call, output) pairs behaviour ``number`` gave on the disagreeing inputs: the
        user's choice, to keep as a regression test."""
        behaviour = self.behaviours[number - 1]
        return list(behaviour.outputs.items())

    def close(self) -> None:
        """Close the reward log if :func:`implement` opened it (after :func:`record_acceptance`)."""
        if self.owns_log and self.reward_log is not None:
            self.reward_log.close()
            self.owns_log = False

    def edit(self) -> LineEdit | None:
        """The smallest whole-line replacement turning ``document_text`` into ``new_text``."""
        if self.new_text is None or self.document_text is None:
            return None
        return line_edit(self.document_text, self.new_text)

    @property
    def title(self) -> str:
        """The offer's title, which always says the level: ``Implement f (verified): 2/2
        examples ...``, ``Implement f (ambiguous: 2 behaviours pass the examples)``,
        ``Implement f (plausible: 6/10 candidates agree, 9/12 model tests; no examples to
        check)``, ``Implement f (unverified): 1/2 examples ...``."""
        if self.best is None:
            return f"Implement {self.name}: no candidate" + (f" ({self.error})" if self.error else "")
        verdict = self.verdict
        if self.level == "verified":
            agree = (f"; {verdict.agree}/{verdict.eligible} passing candidates agree"
                     if verdict is not None and verdict.eligible > 1 else "")
            return f"Implement {self.name} (verified): {self.evidence}{agree}"
        if self.level == "ambiguous" and verdict is not None:
            return (f"Implement {self.name} (ambiguous: {len(verdict.behaviours)} behaviours pass your checks; "
                    f"{', '.join(f'{b.support}' for b in verdict.behaviours)} candidates)")
        if self.level == "plausible" and verdict is not None:
            return f"Implement {self.name} (plausible: {verdict.summary()}; no examples to check)"
        return f"Implement {self.name} (unverified): {self.evidence}"

    def behaviour_title(self, number: int) -> str:
        """The title of taking behaviour ``number`` of an ambiguous outcome:
        ``Implement f as behaviour 1: f('a  b') -> ['a', 'b'] (3 candidates)``."""
        b = self.behaviours[number - 1]
        shown = next(iter(b.outputs.items()), None)
        what = f"{shown[0]} -> {shown[1]}" if shown else f"{b.model_tests_passed} model tests pass"
        return f"Implement {self.name} as behaviour {number}: {what} ({b.support} candidate{'s' if b.support != 1 else ''})"


class _Run:
    """State of one :func:`implement_intent` call (kept off module globals)."""

    def __init__(self, intent: Intent, document_text: str, workspace: Path, llm: ModelClient, policy: Any, settings: Any,
                 progress: Progress | None, cancel: threading.Event | None, log: Any, modules: ModuleIndex | None,
                 audit_policy: AuditPolicy | None, path: Path) -> None:
        self.intent = intent
        self.document_text = document_text
        self.workspace = workspace
        self.llm = llm
        self.policy = policy
        self.settings = settings
        self.progress = progress
        self.cancel = cancel
        self.log = log
        self.audit_policy = audit_policy or AuditPolicy()
        self.path = path
        self.records: list[CandidateRecord] = []
        self.secrets = tuple(s for s in [_resolve_key(settings)] if s)
        self.modules = modules
        self.target: ImplementTarget | None = None
        self.checks: Checks | None = None
        self.notes: list[str] = []
        self.log_problem: str | None = None  # the first reward-log failure of this run: no more tries
        self.input_labels: dict[str, str] = {}  # shared input's test name -> the call, for the disagreement

    def report(self, message: str, fraction: float) -> None:
        if self.progress is not None:
            with contextlib.suppress(Exception):  # a progress sink must not break the pipeline
                self.progress(message, fraction)

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    # -- candidates --------------------------------------------------------------------

    def prepare(self, rec: CandidateRecord) -> None:
        """Extract and audit ``rec``; on success, splice it into the document."""
        target = self.target
        assert target is not None
        name = target.name
        if not name.isidentifier():
            name = last_defined_function(rec.answer) or name
        ex = extract_function(rec.answer, name, target.stub, class_name=target.class_name, known_names=target.known_names)
        if not ex.ok:
            rec.rejected = ex.reason
            rec.failures.append(ex.reason)
            return
        rec.code = ex.code
        rec.function = ex.function
        try:
            rec.new_text, rec.func_lines, rec.code_lines = splice(self.document_text, target, ex)
            compile(rec.new_text, str(target.path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            rec.rejected = f"the file does not parse with it: {exc.msg} (line {exc.lineno})"
            rec.failures.append(rec.rejected)
            return
        if self.modules is None:
            self.modules = ModuleIndex.for_workspace(self.workspace, getattr(self.policy, "python", None),
                                                     extra_dirs=[target.path.parent])
        rec.audit = audit_code(ex.code, self.modules, self.audit_policy)
        if not rec.audit.ok:
            first = rec.audit.rejections[0]
            rec.rejected = f"{first.message} (audit {first.check}, line {first.line})"
            rec.failures += [f"audit rejected: {f.message} ({f.check}, line {f.line})" for f in rec.audit.rejections]

    def verify_all(self, recs: Sequence[CandidateRecord], fraction: float) -> None:
        runnable = [r for r in recs if r.rejected is None]
        for r in recs:
            if r.rejected is not None:
                self.log_outcome(r)
        if not runnable:
            return
        self.report(f"verifying {len(runnable)} candidate{'s' if len(runnable) != 1 else ''} in the sandbox", fraction)
        assert self.target is not None and self.checks is not None
        workers = max(1, min(4, len(runnable)))

        def one(rec: CandidateRecord) -> None:
            try:
                verify_candidate(rec, self.checks, self.workspace, self.target.rel_path, self.target.path,
                                 self.policy, self.cancel)
            except Exception as exc:  # noqa: BLE001 - SandboxUnavailable and friends: reported on the record
                rec.run_problem = f"the sandbox could not run it: {first_line(str(exc)) or type(exc).__name__}"
                rec.failures.append(rec.run_problem)
                rec.verified = False
                if any(c.__name__ == "SandboxUnavailable" for c in type(exc).__mro__):
                    self.notes.append(rec.run_problem)

        if workers == 1:
            one(runnable[0])
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="codeloop-verify") as pool:
                list(pool.map(one, runnable))
        for r in runnable:
            self.log_outcome(r)

    def log_outcome(self, rec: CandidateRecord) -> None:
        if self.cancelled() or self.log_problem is not None:
            return
        try:
            rec.log_id = self.log.record(
                Outcome(
                    workspace=str(self.workspace),
                    intent_kind=self.intent.kind,
                    prompt=rec.prompt,
                    model=rec.model,
                    candidate=rec.code or rec.answer,
                    verified=rec.verified,
                    checks=rec.to_checks(),
                    coverage=rec.coverage,
                    audit=rec.audit.to_list() if rec.audit else [],
                    strategy=rec.origin,
                )
            )
        except Exception as exc:  # noqa: BLE001 - learning must never break implementing
            # One failure is enough: a locked file would make every further record wait.
            self.log_problem = first_line(str(exc)) or type(exc).__name__
            self.notes.append(f"reward log: {self.log_problem}; outcomes of this run not recorded")

    def evidence(self) -> list[CandidateEvidence]:
        """Every candidate as the ranking sees it: examples and the user's other checks
        (existing tests, return-type checks) as gates, the model's tests as votes."""
        examples_total = len(self.checks.examples.tests) if self.checks and self.checks.examples else 0
        return [
            CandidateEvidence(
                id=r.id,
                examples_passed=sum(x.passed for x in r.examples),
                examples_total=len(r.examples) if r.examples else examples_total,
                tests={n: ok for n, ok in r.tests.items() if n.startswith("generated::")},
                outputs=r.outputs,
                rejected=r.rejected is not None or r.run_problem is not None,
                order=i,
                checks={n: ok for n, ok in r.tests.items() if not n.startswith("generated::")},
            )
            for i, r in enumerate(self.records)
        ]

    def ranking(self) -> list[CandidateRecord]:
        by_id = {r.id: r for r in self.records}
        return [by_id[x.id] for x in rank(self.evidence())]

    def verdict(self) -> Verdict:
        user = bool(self.checks and self.checks.user_written)
        return judge(self.evidence(), user, self.input_labels, {r.id: r.precall for r in self.records})

    def eligible(self) -> bool:
        """Some candidate passes every check the user wrote."""
        return any(r.passes_checks for r in self.records)


def _resolve_key(settings: Any) -> str | None:
    model = getattr(settings, "model", None)
    try:
        return model.resolve_api_key() if model is not None else None
    except Exception:  # noqa: BLE001
        return None


def _configured_models(llm: ModelClient, settings: Any, models: Sequence[str] | None) -> list[str]:
    if models:
        return list(dict.fromkeys(m for m in models if m))
    name = getattr(llm, "completion_model", None) or getattr(llm, "chat_model", None)
    return [name] if name else []


def find_intent(request: ImplementRequest) -> Intent | None:
    """The stub or describing comment at ``request.line`` (the smallest one, when a
    comment and a stub both span it)."""
    if request.intent is not None:
        return request.intent
    line = request.line if request.line is not None else -1
    intents = request.intents
    if intents is None:
        from codeloop.workspace.document import Document
        from codeloop.workspace.intents import find_intents

        doc = Document(Path(os.path.abspath(request.path)).as_uri(), request.document_text)
        intents = find_intents(doc, lines=(line, line))
    found = [i for i in intents if kinds.implementable(i.kind) and i.span.contains_line(line)]
    return min(found, key=lambda i: i.span.end_line - i.span.start_line) if found else None


def check(request: ImplementRequest) -> ImplementRequest | ImplementOutcome:
    """The request with its intent found, or the outcome when it cannot run: no model
    configured (``error_kind="not_configured"``). Quick, no model or sandbox call; raises
    :class:`NoIntentError` when nothing at the line can be implemented."""
    from codeloop.model.errors import NOT_CONFIGURED

    intent = find_intent(request)
    if intent is None:
        raise NoIntentError(f"no stub or describing comment at line {(request.line or 0) + 1}")
    if not request.settings.model.configured:
        return ImplementOutcome(name=intent.name, error=NOT_CONFIGURED, error_kind="not_configured",
                                document_text=request.document_text, intent=intent)
    return replace(request, intent=intent)


def open_reward_log(settings: Any, learn: bool = True) -> tuple[RewardLog | DisabledLog, str | None]:
    """The reward log for ``settings`` and, when it cannot be opened (a DisabledLog
    instead), why."""
    if not learn:
        return DisabledLog(), None
    try:
        return open_log(settings, secrets=[k for k in [_resolve_key(settings)] if k]), None
    except LearnError as exc:
        return DisabledLog(), str(exc)


def implement(request: ImplementRequest, job: Job) -> ImplementOutcome:
    """Implement the intent of ``request``; progress and cancellation through ``job``.

    Raises :class:`NoIntentError` and :class:`ImplementError` for bad input (nothing to
    implement at the line, the file does not parse, the path is outside the workspace).
    Model errors, a missing sandbox and cancellation are in the outcome, never raised.
    Call :meth:`ImplementOutcome.close` when done with it (after :func:`record_acceptance`)."""
    from codeloop.model.providers import create_client
    from codeloop.verify.sandbox_policy import sandbox_policy

    checked = check(request)
    if isinstance(checked, ImplementOutcome):
        return checked
    assert checked.intent is not None
    settings = request.settings
    reward_log, warning = (request.log, None) if request.log is not None else open_reward_log(settings, request.learn)
    owns_log = request.log is None
    llm = request.llm if request.llm is not None else create_client(settings.model)
    try:
        outcome = implement_intent(checked.intent, request.document_text, request.workspace, llm,
                                   sandbox_policy(settings.sandbox), settings, job.report, job.cancel,
                                   path=request.path, log=reward_log, models=request.models)
    except BaseException:
        if owns_log:
            reward_log.close()
        raise
    finally:
        if request.llm is None:
            llm.close()
    outcome.intent = checked.intent
    outcome.log_warning = warning or outcome.log_warning
    outcome.reward_log, outcome.owns_log = reward_log, owns_log
    return outcome


def record_acceptance(outcome: ImplementOutcome, applied: bool) -> str | None:
    """Record in the reward log whether the user took the best candidate (the reward
    signal). None when recorded (or nothing to record), else why not, in one line."""
    if outcome.best is None or not outcome.best.log_id or outcome.reward_log is None:
        return None
    try:
        outcome.reward_log.mark_accepted(outcome.best.log_id, applied)
    except Exception as exc:  # noqa: BLE001 - learning never breaks implementing
        return f"reward log: cannot record acceptance: {first_line(str(exc)) or type(exc).__name__}"
    return None


def implement_intent(
    intent: Intent,
    document_text: str,
    workspace: str | os.PathLike[str],
    llm_client: ModelClient,
    policy: Any,
    settings: Any,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    log: RewardLog | DisabledLog | None = None,
    models: Sequence[str] | None = None,
    modules: ModuleIndex | None = None,
    audit_policy: AuditPolicy | None = None,
) -> ImplementOutcome:
    """Implement ``intent`` (kind ``implement`` or ``from_comment``) in ``document_text``.

    ``workspace`` is the project root (copied into the sandbox); ``path`` the
    document's file (default ``intent.path``); ``llm_client`` an
    :class:`codeloop.model.client.ModelClient`; ``policy`` a
    :class:`codeloop_sandbox.Policy`; ``settings`` a :class:`codeloop.config.Settings`
    (candidates, repair rounds, learn). ``models``: the models to try in order of
    preference (default: the client's completion model); the reward log may move a
    model that keeps failing here behind the others. ``log``: the reward log (default:
    :func:`codeloop.learn.open_log` for ``settings``).

    The pipeline for an intent already found (:func:`implement` finds it, checks the
    model, opens the log and builds the policy first). Raises :class:`ImplementError`
    for bad input (the function is not in the file, the file does not parse, the path is
    outside the workspace). Model errors, a missing sandbox and cancellation are
    reported in the outcome, never raised.
    """
    from codeloop.model.errors import Cancelled, ModelError

    workspace = Path(os.path.abspath(os.fspath(workspace)))
    file = Path(os.path.abspath(os.fspath(path or intent.path or "")))
    if not (path or intent.path):
        raise ImplementError("the intent has no file path")
    if not kinds.implementable(intent.kind):
        raise ImplementError(f"cannot implement an intent of kind {intent.kind!r}")
    own_log = log is None
    if log is None:
        log = open_log(settings, secrets=[k for k in [_resolve_key(settings)] if k])
    run = _Run(intent, document_text, workspace, llm_client, policy, settings, progress, cancel, log, modules,
               audit_policy, file)
    result = ImplementOutcome(name=intent.name, document_text=document_text)
    try:
        return _pipeline(run, result, models, ModelError, Cancelled)
    finally:
        if own_log:
            log.close()


def _index_context(run: _Run, target: Any) -> str:
    """Related definitions elsewhere in the workspace, from its index (services/gen_context.py)."""
    from codeloop.services.gen_context import DEFAULT_TOKENS, related_context

    tokens = int(getattr(run.settings.generate, "context_tokens", DEFAULT_TOKENS) or 0)
    words = "\n".join(t for t in (run.intent.comment, run.intent.docstring, target.stub) if t)
    return related_context(run.workspace, target.path, target.name, target.start + 1, words, tokens).text


def _pipeline(run: _Run, result: ImplementOutcome, models: Sequence[str] | None, ModelError: type, Cancelled: type) -> ImplementOutcome:
    intent, settings = run.intent, run.settings
    target = run.target = locate(intent, run.document_text, run.path, run.workspace)
    configured = _configured_models(run.llm, settings, models)
    if not configured:
        result.error, result.error_kind = "no model configured", "not_configured"
        return result
    try:
        order = choose_models(run.log, str(run.workspace), intent.kind, configured)
    except Exception as exc:  # noqa: BLE001 - a broken log must not stop implementing
        run.log_problem = first_line(str(exc)) or type(exc).__name__
        run.notes.append(f"reward log: {run.log_problem}; outcomes of this run not recorded")
        order = list(configured)
    # How many samples and repair rounds: the configured caps, lowered by the log's evidence.
    plan = _plan(run)
    n, rounds = plan.samples, plan.repair_rounds
    ctx = file_context(run.document_text, exclude=target.name, path=target.rel_path, module=target.module)
    ctx = replace(ctx, related=_index_context(run, target))
    base = implement_messages(intent, target.stub, ctx, run.secrets)
    import_name = target.class_name or target.name

    run.report("building checks", 0.05)
    examples = build_example_tests(intent.examples, target.module, str(target.import_root), title=target.name,
                                   guard_file=str(target.path)) if intent.examples else None
    existing, existing_files = existing_tests(run.workspace, target.name)
    run.checks = Checks(examples, None, (), None, existing, existing_files)
    _set_shared_inputs(run)
    tests_asked = False
    extra_left = max(0, int(getattr(settings.generate, "extra_samples", 0) or 0))

    try:
        for m_index, model in enumerate(order):
            result.models_tried.append(model)
            if run.cancelled():
                raise Cancelled()
            run.report(f"asking {model} for {n} candidate{'s' if n != 1 else ''}", 0.1 + 0.8 * m_index / len(order))
            try:
                answers = run.llm.chat(base, n=n, model=model, cancel=run.cancel)
            except ModelError as exc:
                if run.records:  # an escalation failed: keep what the earlier model gave
                    run.notes.append(f"{model}: {exc.message}")
                    break
                result.error, result.error_kind = exc.message, exc.kind
                return result
            new = _samples(run, answers, model, base, f"{f'm{m_index + 1}.' if m_index else ''}c")
            if not tests_asked:
                tests_asked = True
                if import_name.isidentifier():  # a comment without a name: nothing to import in tests
                    _ask_for_tests(run, ctx, import_name, model, ModelError, result)
                    if run.checks.generated:  # the model tests' inputs split behaviours further
                        _set_shared_inputs(run, calls_in(run.checks.generated, target.name))
            if run.cancelled():
                raise Cancelled()
            run.verify_all(new, 0.3)
            if extra_left and run.eligible() and run.verdict().close:
                # The top behaviours are close: one more request may settle it.
                extra, extra_left = min(n, extra_left), 0
                if run.cancelled():
                    raise Cancelled()
                run.report(f"behaviours disagree: asking {model} for {extra} more", 0.4)
                try:
                    more = run.llm.chat(base, n=extra, model=model, cancel=run.cancel)
                except ModelError as exc:
                    run.notes.append(f"more samples: {exc.message}")
                    more = []
                added = _samples(run, more, model, base, f"{f'm{m_index + 1}.' if m_index else ''}x")
                if run.cancelled():
                    raise Cancelled()
                run.verify_all(added, 0.45)
            if run.eligible():  # repairs are for candidates failing the user's checks only
                break
            for round_no in range(1, rounds + 1):
                if run.cancelled():
                    raise Cancelled()
                parent = _repair_target(run)
                if parent is None:
                    break
                run.report(f"repair round {round_no} of {rounds}", 0.5 + 0.4 * round_no / max(rounds, 1))
                messages = repair_messages(parent.prompt, parent.code or parent.answer, parent.failures, run.secrets)
                try:
                    (answer,) = run.llm.chat(messages, n=1, model=model, cancel=run.cancel)[:1]
                except ModelError as exc:
                    run.notes.append(f"repair round {round_no}: {exc.message}")
                    break
                rec = CandidateRecord(id=f"{parent.id}.r{round_no}", origin=f"repair-{round_no}", model=model,
                                      answer=answer.text, prompt=messages, parent=parent.id)
                run.prepare(rec)
                run.records.append(rec)
                run.verify_all([rec], 0.6)
                if rec.passes_checks:
                    break
            if run.eligible():
                break
    except Cancelled:
        result.cancelled, result.error, result.error_kind = True, "cancelled", "cancelled"
        result.candidates = run.records
        return result
    if run.cancelled():
        result.cancelled, result.error, result.error_kind = True, "cancelled", "cancelled"
        result.candidates = run.records
        return result

    verdict = run.verdict()
    by_id = {r.id: r for r in run.records}
    ranked = run.ranking()
    result.candidates = run.records
    result.notes = run.notes
    result.log_warning = result.log_warning or run.log_problem
    result.generated_tests = run.checks.generated if run.checks else None
    best = by_id.get(verdict.best) if verdict.best else None
    if best is None or best.new_text is None:
        best = next((r for r in ranked if r.new_text is not None), None)
    result.best = best
    if best is None:
        result.failed = sorted({f for r in run.records for f in r.failures[:1]})
        result.evidence = "no usable candidate"
        return result
    result.verdict = verdict
    result.module, result.workspace = target.module, str(run.workspace)
    result.test_files = tuple(run.checks.existing_files) if run.checks else ()
    result.level = verdict.level if best.passes_checks else "unverified"
    if verdict.dropped:
        run.notes.append(f"model tests not counted (no candidate passes them, or they fail before the call): "
                         f"{', '.join(n.split('::', 1)[1] for n in verdict.dropped)}")
    result.evidence = best.evidence()
    if result.level == "verified":
        result.failed = []
    elif result.level == "ambiguous":
        result.failed = [f"{len(verdict.behaviours)} behaviours pass your checks: " + line
                         for line in verdict.lines(3)]
    elif result.level == "unverified":
        result.failed = list(dict.fromkeys(best.failures))
    else:  # plausible: a failing model test is a vote, not a failure
        votes = _model_test_names(best)
        result.failed = [f for f in dict.fromkeys(best.failures) if f.split(" failed:")[0] not in votes]
    if result.level == "plausible":
        result.failed.insert(0, "nothing the user wrote to check it against: no examples, no tests of the function")
    unavailable = [n for n in run.notes if n.startswith("the sandbox could not run it")]
    if unavailable and not result.verified:
        result.error = f"cannot verify: {unavailable[0].split(': ', 1)[1]}"
        result.error_kind = "sandbox"
    result.new_text = best.new_text
    run.report("done", 1.0)
    return result


def _samples(run: _Run, answers: Sequence[Any], model: str, prompt: list[dict[str, str]],
             prefix: str) -> list[CandidateRecord]:
    """The model's ``answers`` as prepared candidate records ``<prefix>1``, ``<prefix>2``...,
    added to the run."""
    new = []
    for i, answer in enumerate(answers, start=1):
        rec = CandidateRecord(id=f"{prefix}{i}", origin="sample", model=model, answer=answer.text, prompt=prompt)
        run.prepare(rec)
        new.append(rec)
    run.records += new
    return new


def _plan(run: _Run) -> Plan:
    try:
        plan = choose_plan(run.log, str(run.workspace), run.intent.kind, run.settings)
    except Exception as exc:  # noqa: BLE001 - a broken log must not stop implementing
        if run.log_problem is None:
            run.log_problem = first_line(str(exc)) or type(exc).__name__
            run.notes.append(f"reward log: {run.log_problem}; outcomes of this run not recorded")
        return Plan(*configured_budget(run.settings))
    if plan.scope != "defaults":
        run.notes.append(f"plan: {plan.describe()}")
    return plan


def _set_shared_inputs(run: _Run, extra: Sequence[str] = ()) -> None:
    """The shared-inputs probe of ``run.checks`` and the labels of its inputs."""
    target, intent = run.target, run.intent
    assert target is not None and run.checks is not None
    if not target.name.isidentifier():
        return
    own = shared_inputs(target.name, target.params, target.is_method, intent.examples, stub_annotations(target),
                        doc=intent.docstring, code=target.stub)
    inputs = shared_inputs(target.name, target.params, target.is_method, intent.examples, stub_annotations(target),
                           doc=intent.docstring, code=target.stub, extra=extra) if extra else own
    # The return annotation refuses a candidate only on inputs the docstring and examples allow
    # (never on the model's inputs: a wrong test must not become a gate through them).
    typed = typed_inputs(own, target.name, target.params, intent.examples, intent.docstring, target.stub)
    probe = outputs_probe(target.name, target.module, str(target.import_root), str(target.path),
                          stub_returns(target), inputs, typed=typed)
    run.checks = replace(run.checks, outputs=probe)
    run.input_labels = {f"test_output_{i}": f"{target.name}({args})" for i, args in enumerate(inputs)}


def _ask_for_tests(run: _Run, ctx: PromptContext, import_name: str, model: str, ModelError: type, result: ImplementOutcome) -> None:
    """One separate request: tests written from the description only."""
    target = run.target
    assert target is not None and run.checks is not None
    run.report("asking for tests of the description", 0.2)
    messages = tests_messages(run.intent, target.stub, ctx, f"from {target.module} import {import_name}", run.secrets)
    try:
        (answer,) = run.llm.chat(messages, n=1, model=model, cancel=run.cancel)[:1]
    except ModelError as exc:
        run.notes.append(f"no generated tests: {exc.message}")
        return
    code, names, note, import_line = generated_tests(answer.text, target, import_name)
    if note:
        run.notes.append(note)
    if code:
        source = generated_tests_file(code, target.name, str(target.import_root), str(target.path), import_line)
        run.checks = replace(run.checks, generated=source, generated_names=names)


@dataclass(frozen=True)
class PickedTest:
    """The test that keeps the user's choice of a behaviour: ``text`` is the whole new test
    file (``before`` its text now, None when it does not exist)."""

    path: str
    text: str
    before: str | None
    name: str
    cases: tuple[tuple[str, str], ...]


def pick_test(outcome: ImplementOutcome, number: int) -> PickedTest | None:
    """A pytest test asserting behaviour ``number``'s outputs on the inputs the behaviours
    disagree on, merged into the function's test file (the first existing test file that
    refers to it, else ``tests/test_<module>.py``). None when no output can be written
    as an assertion (or the outcome has no module). Raises ValueError for a bad number and
    codeloop.generate.merge.MergeError when the test file does not parse."""
    import ast

    from codeloop.generate.merge import merge_tests
    from codeloop.generate.tests_model import GeneratedTest
    from codeloop.workspace.testfiles import TEST_DIR_NAMES

    outcome.pick(number)  # checks the number
    if not outcome.module or not outcome.workspace or not outcome.name.isidentifier():
        return None
    body = []
    cases = []
    for call, out in outcome.pick_cases(number):
        if out.startswith("raises "):
            body.append(f"    with pytest.raises({out.split()[1]}):\n        {call}")
        else:
            try:
                ast.literal_eval(out)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue  # an output with no literal form (an object, "hangs"): nothing to assert
            body.append(f"    assert {call} == {out}")
        cases.append((call, out))
    if not body:
        return None
    root = Path(outcome.workspace)
    if outcome.test_files:
        path = root / outcome.test_files[0]
    else:
        folder = next((root / d for d in TEST_DIR_NAMES if (root / d).is_dir()), root / "tests")
        path = folder / f"test_{outcome.module.rsplit('.', 1)[-1]}.py"
    name = f"test_{outcome.name}_chosen_behaviour"
    code = (f"def {name}():\n    # The behaviour chosen among candidates that disagreed (codeloop implement).\n"
            + "\n".join(body) + "\n")
    imports = [f"from {outcome.module} import {outcome.name}"]
    if any(line.startswith("    with pytest.raises") for line in body):
        imports.append("import pytest")
    try:
        before: str | None = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        before = None
    text = merge_tests(before, [GeneratedTest(name, code, imports, outcome.name)], module=outcome.module)
    return PickedTest(str(path), text, before, name, tuple(cases))


def _model_test_names(rec: CandidateRecord) -> set[str]:
    return {n.split("::", 1)[1] for n in rec.tests if n.startswith("generated::")}


def _repair_target(run: _Run) -> CandidateRecord | None:
    """The best candidate failing the user's checks that has code and has not been repaired yet."""
    repaired = {r.parent for r in run.records if r.parent}
    for rec in run.ranking():
        if rec.passes_checks or rec.id in repaired or not (rec.code or rec.answer.strip()):
            continue
        if rec.rejected and not rec.code:
            continue  # no function at all: nothing to repair
        return rec
    return None


__all__ = ["ImplementError", "ImplementOutcome", "ImplementRequest", "NoIntentError", "PickedTest", "check",
           "find_intent", "implement", "implement_intent", "open_reward_log", "pick_test", "record_acceptance"]
