"""The GENERATE TESTS capability: verified pytest tests for a module, function or class.

:func:`generate_tests` is the one sequence behind ``codeloop gen-tests`` (the CLI) and
``codeloop.generateTests`` (the language server): resolve the target, take the
project's settings (``engine`` overrides ``generate.engine``) and sandbox policy, note the
test file's state, run the engine in effect (:mod:`codeloop.generate.engines`: tests
written and verified in the sandbox, coverage before and after) and return the merged
test-file text. It writes nothing: the CLI writes atomically (``fingerprint`` tells it
whether the file changed meanwhile), the server sends a ``WorkspaceEdit``.

Errors: :class:`~codeloop.generate.tests_model.GenerationError` for bad input (a target
that cannot be resolved or imported), :class:`~codeloop.generate.tests_model.ModelFailure`
when a model asked for by name gave nothing usable, ``codeloop_sandbox.SandboxUnavailable``
when no acceptable sandbox exists.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeloop.config import Settings
from codeloop.generate.engines import engine_in_effect
from codeloop.generate.engines import generate_tests as run_engine
from codeloop.generate.targets import Target
from codeloop.generate.test_files import default_test_file, resolve
from codeloop.generate.tests_model import GenerationResult
from codeloop.job import Job


@dataclass
class GenerateTestsRequest:
    target: str  # dotted module or file path, optionally ::function, ::Class or ::Class.method
    project: Path | None = None  # None: the current directory
    out: Path | None = None  # the test file's directory; None: the project's tests folder
    budget: float = 20.0  # wall-time seconds
    seed: int = 0  # the same seed gives the same tests (offline engine)
    engine: str | None = None  # a registered engine name; None: the settings' generate.engine
    settings: Settings | None = None  # None: read from the project (settings_for_workspace)
    policy: Any = None  # codeloop_sandbox.Policy; None: from the settings' sandbox section
    resolved: Target | None = None  # the target, when the caller resolved it already


@dataclass
class GenerateTestsOutcome:
    result: GenerationResult
    target: Target
    engine: str  # the engine asked for ("auto" resolved); result.engine says which one gave the tests
    fingerprint: str | None = None  # the test file's state before generation (codeloop.generate.merge.fingerprint)
    warnings: list[str] = field(default_factory=list)  # settings problems (when read here)

    @property
    def handed_over(self) -> bool:
        """"auto" picked the model, which gave nothing: the tests come from the offline engine."""
        return self.engine == "llm" and self.result.engine != "llm"


def settings_for(project: Path, engine: str | None = None) -> tuple[Settings, list[str]]:
    """The project's settings (as ``codeloop implement`` reads them), ``engine`` applied; the warnings."""
    from codeloop.config import settings_for_workspace

    settings, warnings = settings_for_workspace(project)
    return with_engine(settings, engine), list(warnings)


def with_engine(settings: Settings, engine: str | None) -> Settings:
    if engine is None:
        return settings
    return dataclasses.replace(settings, generate=dataclasses.replace(settings.generate, engine=engine))


def index_context(target: Target, settings: Settings) -> str:
    """Related definitions elsewhere in the workspace for a model's prompt (services/gen_context.py)."""
    from codeloop.services.gen_context import DEFAULT_TOKENS, related_context

    assert target.member is not None
    tokens = int(getattr(settings.generate, "context_tokens", DEFAULT_TOKENS) or 0)
    return related_context(target.project, target.file, target.member.split(".")[-1], tokens=tokens).text


def generate_tests(request: GenerateTestsRequest, job: Job | None = None) -> GenerateTestsOutcome:
    """Resolve, generate and verify; the merged test-file text is in ``outcome.result``."""
    from codeloop.generate.merge import fingerprint
    from codeloop.verify.sandbox_policy import sandbox_policy

    job = job or Job()
    target = request.resolved or resolve(request.target, request.project)
    warnings: list[str] = []
    if request.settings is None:
        settings, warnings = settings_for(target.project, request.engine)
    else:
        settings = with_engine(request.settings, request.engine)
    policy = request.policy if request.policy is not None else sandbox_policy(settings.sandbox)
    out_dir = request.out.resolve() if request.out is not None else None
    before = fingerprint(default_test_file(target, out_dir))
    if engine_in_effect(settings) != "offline" and target.member and target.in_project and not target.context:
        target = dataclasses.replace(target, context=index_context(target, settings))
    result = run_engine(target, request.target, settings, budget=request.budget, seed=request.seed, policy=policy,
                        progress=job.report, cancel=job.cancel, out_dir=out_dir)
    return GenerateTestsOutcome(result, target, engine_in_effect(settings), before, warnings)


__all__ = ["GenerateTestsOutcome", "GenerateTestsRequest", "generate_tests", "settings_for", "with_engine"]
