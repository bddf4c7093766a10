"""The test-generation engines by name, and the run that picks one.

Every engine has the one signature of :class:`TestEngine` and returns a
:class:`~codeloop.generate.tests_model.GenerationResult` (tests verified in the sandbox,
the merged test-file text, coverage before and after). ``"offline"`` searches for inputs
(:mod:`codeloop.generate.offline.engine`), ``"llm"`` asks the configured model
(:mod:`codeloop.generate.llm_tests`). ``generate.engine = "auto"`` picks ``"llm"`` when a
model is configured, else ``"offline"`` (:attr:`codeloop.config.Settings.engine`); when
"auto" picked the model and it gave no test, the offline engine still runs.
The engines are imported when first used: the CLI lists the names without loading them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from codeloop.config import Settings
from codeloop.generate.targets import Target
from codeloop.generate.tests_model import GenerationError, GenerationResult, ModelFailure
from codeloop.job import Progress

if TYPE_CHECKING:
    from codeloop_sandbox import Policy

# Seconds the offline engine gets at least when it takes over from a model that gave nothing.
FALLBACK_MIN_BUDGET = 5.0


class TestEngine(Protocol):
    """Generate and verify tests for ``tgt``; raises GenerationError on bad input."""

    __test__ = False

    def __call__(self, tgt: Target, target: str, settings: Settings | None, *, budget: float, seed: int,
                 policy: Policy, progress: Progress, cancel: threading.Event | None,
                 out_dir: Path | None) -> GenerationResult: ...


def _offline(tgt: Target, target: str, settings: Settings | None, *, budget: float, seed: int, policy: Policy,
             progress: Progress, cancel: threading.Event | None, out_dir: Path | None) -> GenerationResult:
    from codeloop.generate.merge import MergeError
    from codeloop.generate.offline.engine import generate_offline_tests

    try:
        return generate_offline_tests(tgt, target, budget, seed, policy, progress, cancel, out_dir)
    except MergeError as exc:
        raise GenerationError(str(exc)) from None


def _llm(tgt: Target, target: str, settings: Settings | None, *, budget: float, seed: int, policy: Policy,
         progress: Progress, cancel: threading.Event | None, out_dir: Path | None) -> GenerationResult:
    from codeloop.generate.llm_tests import generate_llm_tests  # imports openai: only when used

    return generate_llm_tests(tgt, target, settings or Settings(), budget=budget, policy=policy, progress=progress,
                              cancel=cancel, out_dir=out_dir)


ENGINES: dict[str, TestEngine] = {"offline": _offline, "llm": _llm}


def engine_names() -> tuple[str, ...]:
    """The registered engines' names (the CLI's ``--engine`` choices)."""
    return tuple(ENGINES)


def engine_in_effect(settings: Settings | None) -> str:
    """The engine ``settings`` ask for, "auto" resolved; the offline one without settings."""
    return settings.engine if settings is not None else "offline"


def report_to(progress: Progress | None) -> Progress:
    """``progress`` guarded: a broken progress callback never stops a generation."""

    def report(msg: str, frac: float) -> None:
        if progress is not None:
            with contextlib.suppress(Exception):
                progress(msg, frac)

    return report


def generate_tests(tgt: Target, target: str, settings: Settings | None, *, budget: float = 20.0, seed: int = 0,
                   policy: Policy | None = None, progress: Progress | None = None,
                   cancel: threading.Event | None = None, out_dir: Path | None = None) -> GenerationResult:
    """Run the engine in effect; "auto" falls back to the offline engine when the model gave nothing.

    Raises :class:`GenerationError` for a target that cannot be imported,
    :class:`ModelFailure` when a model asked for by name gave nothing usable, and
    ``codeloop_sandbox.SandboxUnavailable`` when no acceptable sandbox exists.
    """
    from codeloop_sandbox import Policy  # the sandbox loads only when tests are generated

    policy = policy or Policy()
    report = report_to(progress)
    name = engine_in_effect(settings)
    run = ENGINES[name]
    if name == "offline":
        return run(tgt, target, settings, budget=budget, seed=seed, policy=policy, progress=report, cancel=cancel,
                   out_dir=out_dir)
    started = time.monotonic()
    chosen = settings is None or settings.generate.engine == name  # asked for by name, not picked by "auto"
    try:
        result = run(tgt, target, settings, budget=budget, seed=seed, policy=policy, progress=report, cancel=cancel,
                     out_dir=out_dir)
    except ModelFailure as exc:
        if chosen:
            raise
        fallback = str(exc)
    else:
        if result.tests or chosen or (cancel is not None and cancel.is_set()):
            return result
        fallback = "; ".join(result.errors[:1]) or "its tests added nothing"
    # "auto" promises tests with or without a model: the search still has its say.
    budget = max(budget - (time.monotonic() - started), min(budget, FALLBACK_MIN_BUDGET))
    result = ENGINES["offline"](tgt, target, settings, budget=budget, seed=seed, policy=policy, progress=report,
                                cancel=cancel, out_dir=out_dir)
    result.errors.append(f"the model gave no usable tests ({fallback}); these come from the offline engine")
    return result


__all__ = ["ENGINES", "FALLBACK_MIN_BUDGET", "TestEngine", "engine_in_effect", "engine_names", "generate_tests",
           "report_to"]
