"""``generate_tests {target}``: tests verified in the sandbox, with coverage evidence.
Nothing is written (the MCP server writes them with ``write: true``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codeloop.tools.base import Tool, ToolContext, ToolError, ToolResult, clip
from codeloop.tools.paths import relative, root_of
from codeloop.tools.settings import settings_of
from codeloop.tools.targets import resolve


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}%"


def run(args: Mapping[str, Any], context: ToolContext) -> ToolResult:
    from codeloop.generate.tests_model import GenerationError, ModelFailure
    from codeloop.services.gen_tests import GenerateTestsRequest, generate_tests
    from codeloop_sandbox import SandboxUnavailable

    resolved = resolve(context, args["target"], "generate_tests", allow_module=True)
    settings = settings_of(context)
    request = GenerateTestsRequest(resolved.spec, project=root_of(context), budget=settings.generate.budget,
                                   settings=settings)
    try:
        outcome = generate_tests(request, context.job)
    except ModelFailure as exc:
        raise ToolError(f"generate_tests: the model gave no usable tests: {exc}") from None
    except GenerationError as exc:
        raise ToolError(f"generate_tests: {exc}") from None
    except SandboxUnavailable as exc:
        raise ToolError(f"generate_tests: no usable sandbox: {exc}") from None
    result = outcome.result
    test_file = relative(context, result.test_file) if result.test_file else None
    passing = len(result.passing)
    xfail = len(result.tests) - passing
    if not result.tests and result.already_covered is not None:
        n = result.already_covered
        head = (f"no new tests for {resolved.spec}: already covered by {n} test{'' if n == 1 else 's'} "
                "(every branch the search reached is covered by them)")
    elif not result.tests:
        head = f"no verified tests for {resolved.spec}" + (f": {result.errors[0]}" if result.errors else "")
    else:
        head = (f"{passing} verified tests" + (f" and {xfail} strict-xfail tests for probable bugs" if xfail else "")
                + f" for {resolved.spec}, meant for {test_file} (nothing written)")
    lines = [head, f"branch coverage of {result.module}: {_pct(result.coverage_before)} -> "
                   f"{_pct(result.coverage_after)} ({result.engine} engine, {result.duration:.1f} s)"]
    if result.mutation_score is not None:
        lines.append(f"mutation score: {result.mutation_score:.0f}% ({result.mutation['killed']} of "
                     f"{result.mutation['tried']} sampled mutants killed)")
    lines += [f"probable bug: {relative(context, b.file)}:{b.line}: {b.message}" for b in result.probable_bugs[:10]]
    if result.dropped:
        lines.append(f"{result.dropped} tests dropped as failing or flaky")
    if result.tests:
        lines.append("```python")
        lines += [t.code.rstrip() + "\n" for t in result.tests]
        lines.append("```")
    data = {"target": resolved.spec, "test_file": test_file, "tests": [
        {"name": t.name, "target": t.target, "kind": t.kind} for t in result.tests],
        "coverage_before": result.coverage_before, "coverage_after": result.coverage_after,
        "mutation_score": result.mutation_score,
        "probable_bugs": [{"file": relative(context, b.file), "line": b.line, "message": b.message}
                          for b in result.probable_bugs],
        "merged_text": result.merged_text, "fingerprint": outcome.fingerprint,
        "test_path": str(result.test_file) if result.test_file else None}
    return ToolResult(clip("\n".join(lines)), data)


TOOL = Tool(
    name="generate_tests",
    description="Write pytest tests for a function, class or module, verified in the sandbox, with coverage.",
    parameters={"type": "object", "required": ["target"], "properties": {
        "target": {"type": "string", "description": "pkg.mod, pkg.mod.func, pkg.mod.Class.method or "
                                                    "path/to/mod.py::func"}}},
    run=run,
    read_only=False,  # sandboxed, writes nothing here; the MCP server's write: true writes
)
