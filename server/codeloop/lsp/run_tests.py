"""``codeloop.runTests`` and ``codeloop.cancel``: tests in the sandbox, failures as diagnostics.

``codeloop.runTests`` takes nothing or one object:

* ``{"uri": FILE}``: the file's tests: the file itself when it is a test file, else the
  tests that import it (directly or through other modules of the workspace);
* ``{"uri": FILE, "testId": "tests/test_x.py::test_y"}`` or ``{"testId": ...}``: one test
  (id relative to the workspace root);
* nothing: the whole suite of the server's root.

Tests run with branch coverage in the sandbox (a warm pool per workspace). A failing test
becomes an Error diagnostic at its failing line in the test file, with related
information at the line of the code under test where the exception surfaced (which also
gets an Information diagnostic). Every file that ran without failures has its test
diagnostics cleared. Progress goes to ``$/progress``; the progress UI's cancel,
``$/cancelRequest`` and ``codeloop.cancel`` kill the run (measured: tens of ms). A newer
run for the same workspace cancels the older one. The answer summarises the run:
``{"passed", "failed", "errors", "skipped", "selected", "cancelled", "limit", "level", "note"}``.

Test diagnostics are merged into every ``publishDiagnostics`` the server sends for the
same URI (the documents feature publishes syntax/intent diagnostics on change), so they
stay visible until the next test run clears them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

from lsprotocol import types

from codeloop.lsp import convert
from codeloop.lsp.errors import invalid_params, request_failed
from codeloop.lsp.server import CodeloopServer
from codeloop.workspace.document import path_to_uri

log = logging.getLogger(__name__)

TEST_SOURCE = "codeloop-tests"
SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
}


class TestRuns:
    """Per-server state: running runs (for cancel), warm pools, published test diagnostics."""

    __test__ = False

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[str, threading.Event] = {}  # root -> cancel of its current run
        self.pools: dict[tuple, Any] = {}
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}  # uri -> test diagnostics

    def pool_for(self, root: str, policy: Any) -> Any:
        from codeloop_sandbox import WarmPool

        key = (root, policy)
        with self.lock:
            pool = self.pools.get(key)
            if pool is None:
                for old_key in [k for k in self.pools if k[0] == root]:
                    self.pools.pop(old_key).close()
                pool = self.pools[key] = WarmPool(root, policy)
            return pool

    def close(self) -> None:
        with self.lock:
            for pool in self.pools.values():
                pool.close()
            self.pools.clear()


def register(server: CodeloopServer) -> None:
    runs = TestRuns()
    server.codeloop_tests = runs  # type: ignore[attr-defined]
    _merge_into_publish(server, runs)

    @server.command(convert.CMD_RUN_TESTS)
    async def run_tests_command(ls: CodeloopServer, *args: Any) -> dict[str, Any]:
        return await run_tests_request(ls, runs, args)

    @server.command(convert.CMD_CANCEL)
    def cancel_command(ls: CodeloopServer, *args: Any) -> dict[str, Any]:
        root = None
        if args and isinstance(args[0], dict) and isinstance(args[0].get("uri"), str):
            root = _root_of(ls, args[0]["uri"])
        with runs.lock:
            events = [ev for r, ev in runs.running.items() if root is None or r == root]
        for ev in events:
            ev.set()
        return {"cancelled": len(events)}


def _merge_into_publish(server: CodeloopServer, runs: TestRuns) -> None:
    """Every publishDiagnostics for a URI also carries that URI's test diagnostics."""
    original = server.text_document_publish_diagnostics

    def publish(params: types.PublishDiagnosticsParams) -> None:
        extra = runs.diagnostics.get(params.uri)
        if extra:
            own = [d for d in params.diagnostics if d.source != TEST_SOURCE]
            params = types.PublishDiagnosticsParams(uri=params.uri, version=params.version, diagnostics=own + extra)
        original(params)

    server.text_document_publish_diagnostics = publish  # type: ignore[method-assign]
    server._codeloop_publish_raw = original  # type: ignore[attr-defined]


def _root_of(ls: CodeloopServer, uri: str | None) -> str:
    from codeloop.workspace.testindex import find_workspace_root

    if uri:
        doc = ls.document(uri)
        if doc.path is not None:
            return str(find_workspace_root(doc.path))
    if ls.root is None:
        raise invalid_params(f"codeloop: {convert.CMD_RUN_TESTS}: no workspace folder and no 'uri'")
    return str(ls.root)


def _parse(ls: CodeloopServer, args: tuple[Any, ...]) -> tuple[str, str | None, str | None]:
    """(root, target test id or file, current file) from the command arguments."""
    if not args:
        return _root_of(ls, None), None, None
    if len(args) != 1 or not isinstance(args[0], dict):
        raise invalid_params(f'codeloop: {convert.CMD_RUN_TESTS} expects no argument or one {{"uri", "testId"}}')
    arg = args[0]
    uri, test_id = arg.get("uri"), arg.get("testId")
    if uri is not None and (not isinstance(uri, str) or not uri):
        raise invalid_params(f"codeloop: {convert.CMD_RUN_TESTS}: 'uri' must be a document URI")
    if test_id is not None and (not isinstance(test_id, str) or not test_id):
        raise invalid_params(f"codeloop: {convert.CMD_RUN_TESTS}: 'testId' must be a test id such as tests/test_x.py::test_y")
    root = _root_of(ls, uri)
    current = None
    if uri:
        doc = ls.document(uri)
        if doc.path is None:
            raise invalid_params(f"codeloop: {convert.CMD_RUN_TESTS}: only files on disk have tests")
        current = doc.path
    return root, test_id, current


async def run_tests_request(ls: CodeloopServer, runs: TestRuns, args: tuple[Any, ...]) -> dict[str, Any]:
    from codeloop_sandbox import Policy, SandboxUnavailable

    from codeloop.lsp.implement import _Progress
    from codeloop.verify.runtests import run_tests

    root, test_id, current = _parse(ls, args)
    sb = ls.settings.sandbox
    policy = Policy(timeout=sb.timeout, memory_mib=sb.memory_mib, max_processes=sb.max_processes,
                    max_output_kib=sb.max_output_kib, allow_env=tuple(sb.allow_env), allow_levels=tuple(sb.allow_levels))
    cancel = threading.Event()
    with runs.lock:
        older = runs.running.get(root)
        runs.running[root] = cancel
    if older is not None:
        older.set()  # a newer run for the same workspace wins
    progress = await _Progress.start(ls, "Run tests", cancel)
    def on_output(stream: str, text: str) -> None:
        if stream == "stdout" and text.strip():
            progress.report(text.strip().splitlines()[-1][:80], 0.5)

    try:
        pool = await asyncio.to_thread(runs.pool_for, root, policy)
        report = await asyncio.to_thread(
            run_tests, root, test_id if test_id else None, current if not test_id else None, policy, cancel, on_output, pool
        )
    except asyncio.CancelledError:
        cancel.set()
        raise
    except SandboxUnavailable as exc:
        message = f"codeloop: cannot run tests: {exc}"
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))
        raise request_failed(message) from None
    except (ValueError, FileNotFoundError) as exc:
        raise invalid_params(f"codeloop: {convert.CMD_RUN_TESTS}: {exc}") from None
    finally:
        progress.end()
        with runs.lock:
            if runs.running.get(root) is cancel:
                del runs.running[root]

    summary: dict[str, Any] = {"selected": report.selected, "note": report.note, "passed": 0, "failed": 0,
                               "errors": 0, "skipped": 0, "cancelled": False, "limit": None, "level": None}
    if report.pytest is None:
        return summary
    res = report.pytest.result
    for t in report.pytest.tests:
        key = {"passed": "passed", "failed": "failed", "error": "errors"}.get(t.outcome, "skipped")
        summary[key] += 1
    summary.update(cancelled=res.cancelled, limit=res.limit, level=res.level, collectionErrors=report.pytest.errors)
    if res.cancelled:
        return summary  # keep the previous diagnostics: this run says nothing new
    publish_report(ls, runs, report)
    return summary


def publish_report(ls: CodeloopServer, runs: TestRuns, report: Any) -> None:
    for path, diags in report.diagnostics().items():
        uri = path_to_uri(Path(path))
        converted = [_diagnostic(uri, d) for d in diags]
        if converted:
            runs.diagnostics[uri] = converted
        else:
            runs.diagnostics.pop(uri, None)
        _republish(ls, uri)


def _diagnostic(uri: str, d: Any) -> types.Diagnostic:
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(uri=path_to_uri(Path(p)), range=_line_range(line)), message=msg
        )
        for p, line, msg in d.related
    ]
    return types.Diagnostic(
        range=_line_range(d.line),
        message=d.message,
        severity=SEVERITY.get(d.severity, types.DiagnosticSeverity.Error),
        source=TEST_SOURCE,
        related_information=related or None,
    )


def _line_range(line: int) -> types.Range:
    line = max(0, line)
    return types.Range(start=types.Position(line=line, character=0), end=types.Position(line=line + 1, character=0))


def _republish(ls: CodeloopServer, uri: str) -> None:
    """Publish this URI's syntax/intent diagnostics (if open) plus its test diagnostics."""
    from codeloop.workspace.intents import syntax_issues

    base: list[types.Diagnostic] = []
    version = None
    doc = ls.documents.get(uri)
    if doc is not None:
        try:
            base = convert.diagnostics(doc, syntax_issues(doc), ls.intents(doc))
            version = doc.version
        except Exception:  # noqa: BLE001 - test diagnostics still go out
            log.exception("intent diagnostics failed for %s", uri)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=base))


__all__ = ["TEST_SOURCE", "TestRuns", "register", "run_tests_request"]
