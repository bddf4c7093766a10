"""``run_tests {path?, test_id?}``: a sandboxed pytest run with per-test outcomes and the
failure locations. No argument: the whole suite; a source file: the tests that import it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codeloop.services.run_tests import RunTestsRequest, run_tests
from codeloop.tools.base import Tool, ToolContext, ToolError, ToolResult, bounded, clip
from codeloop.tools.paths import relative, root_of, workspace_file
from codeloop.workspace.testfiles import is_test_file


def _request(args: Mapping[str, Any], context: ToolContext) -> RunTestsRequest:
    root = str(root_of(context))
    policy = None
    if context.settings is not None:
        from codeloop.verify.sandbox_policy import sandbox_policy, user_tests_policy

        policy = user_tests_policy(sandbox_policy(context.settings.sandbox))
    if "test_id" in args:
        test_id = args["test_id"].strip()
        file = test_id.partition("::")[0]
        workspace_file(context, file, "run_tests", allow_dir=True)
        return RunTestsRequest(root, targets=[test_id], policy=policy)
    if "path" in args:
        where = workspace_file(context, args["path"], "run_tests", allow_dir=True)
        if where.path.is_dir() or is_test_file(where.path):
            return RunTestsRequest(root, targets=[where.rel], policy=policy)
        return RunTestsRequest(root, current_files=[str(where.path)], policy=policy)
    return RunTestsRequest(root, policy=policy)


def run(args: Mapping[str, Any], context: ToolContext) -> ToolResult:
    from codeloop_sandbox import SandboxUnavailable

    request = _request(args, context)
    try:
        summary = run_tests(request, context.job).summary
    except SandboxUnavailable as exc:
        raise ToolError(f"run_tests: no usable sandbox: {exc}") from None
    findings = summary.all_findings()  # the failing tests, where each raised, collection errors
    lines = [f"{relative(context, f.path)}:{f.line}: {f.message.splitlines()[0] if f.message else f.code}"
             for f in findings]
    head = f"tests: {summary.text()}"
    if summary.level:
        head += f" (sandbox level {summary.level})"
    if summary.coverage:
        covered = sorted(summary.coverage.items(), key=lambda kv: kv[1])[:10]
        head += "\nbranch coverage: " + ", ".join(f"{relative(context, p)} {v:.0f}%" for p, v in covered)
    body = bounded(lines, "no failures" if summary.executed else "")
    text = clip(head + ("\n" + body if body else "") + "".join(f"\n{e}" for e in summary.collection_errors[:3]))
    data = {"passed": summary.passed, "failed": summary.failed, "errors": summary.errors, "skipped": summary.skipped,
            "cancelled": summary.cancelled, "selected": summary.selected, "summary": summary.text(),
            "failures": [{"path": relative(context, f.path), "line": f.line, "message": f.message, "test": f.origin}
                         for f in findings],
            "coverage": {relative(context, p): v for p, v in summary.coverage.items()}}
    return ToolResult(text, data)


TOOL = Tool(
    name="run_tests",
    description="Run the project's tests in the sandbox (all, a test file/folder, a test id, or a file's tests).",
    parameters={"type": "object", "properties": {
        "path": {"type": "string", "description": "a test file or folder, or a source file (runs the tests that "
                                                  "import it); default: the whole suite"},
        "test_id": {"type": "string", "description": "one test, such as tests/test_x.py::test_y"},
    }},
    run=run,
)
