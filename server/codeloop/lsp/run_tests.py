"""``codeloop.runTests`` and ``codeloop.cancel``: tests in the sandbox, failures as diagnostics.

``codeloop.runTests`` takes nothing or one object with any of:

* ``"uri"``: a document: its tests (the file itself when it is a test file, else the tests
  that refer to its definitions, directly or through their callers, from the workspace
  index; while the index is not built, or when it finds none, the test files that import
  it, directly or through other modules of the workspace);
* ``"file"``: a test file or directory (absolute, or relative to the workspace root), or a
  module whose tests should run;
* ``"testId"``: one test, ``tests/test_x.py::test_y`` (relative to the workspace root);
* nothing: the whole suite of the server's root.

Tests run with branch coverage in the sandbox, through a warm pool per workspace (the pool
falls back to a cold run by itself). A failing test becomes an Error diagnostic at its
failing line in the test file, with related information at the line of the code under
test where the exception surfaced (which gets an Information diagnostic pointing back).
Collection errors are errors at the line pytest names. Diagnostics have source
``codeloop-tests`` and codes ``codeloop.testFailed``, ``codeloop.testError``,
``codeloop.raisedHere``, ``codeloop.collectionError``, ``codeloop.testRunStopped``.

A run replaces the diagnostics of exactly the tests it ran (their *origin*), in every file
they touched: fixing the code and re-running clears the test file and the code file.
Test diagnostics are the ``codeloop-tests`` source of the server's diagnostics board, so
the syntax/intent diagnostics of the same URI go out with them and neither clobbers the other.

Progress: a cancellable ``$/progress`` (token ``codeloop-tests-*``; begin, one report per
finished test counted from the streamed output, end with ``3 passed, 1 failed (0.8 s)``);
the run starts without waiting for the editor to accept the token (a warm run takes
less time than some editors take to answer).
Each run is a ``runTests`` job in ``server.jobs``: cancelling the progress
(``window/workDoneProgress/cancel``), ``codeloop.cancel`` or a newer run for the same
workspace sets the run's cancel event; the sandbox kills the run's process group.
``$/cancelRequest`` for the command does too (pygls answers it at once but would let the
command's coroutine run on; :func:`codeloop.lsp.progress.request_future` bridges that). The answer is
:meth:`codeloop.verify.run_summary.RunSummary.to_json` plus ``cancelLatencyMs`` when the
run was cancelled (from the cancel to the run's return, measured in the server).

With ``tests.run_on_save`` the affected tests run after a save, debounced by
``tests.debounce_ms``; a newer save cancels the older run. ``busy`` in ``codeloop/status``
reads ``Running tests: <what>`` while a run is going on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from lsprotocol import types

from codeloop.lsp import convert
from codeloop.lsp.command_table import CMD_RUN_TESTS, PATH, TEST_ID, URI, CommandSpec
from codeloop.lsp.errors import invalid_params, request_failed
from codeloop.lsp.index import affected_tests as index_affected_tests
from codeloop.lsp.progress import job_progress, request_future
from codeloop.lsp.server import CodeloopServer
from codeloop.workspace.document import path_to_uri, uri_to_path
from codeloop.workspace.testfiles import is_test_file

log = logging.getLogger(__name__)

TEST_SOURCE = "codeloop-tests"  # the diagnostics' source, and this feature's key on the board
JOB_KIND = "runTests"


class CancelEvent(threading.Event):
    """A threading.Event that remembers when it was first set (to measure cancel latency)."""

    def __init__(self) -> None:
        super().__init__()
        self.set_at: float | None = None

    def set(self) -> None:
        if self.set_at is None:
            self.set_at = time.monotonic()
        super().set()


class DiagnosticsBook:
    """Test diagnostics per URI, grouped by origin ``(root, test id or test file)``."""

    def __init__(self) -> None:
        self._by_uri: dict[str, dict[tuple[str, str], list[types.Diagnostic]]] = {}

    def for_uri(self, uri: str) -> list[types.Diagnostic]:
        return [d for group in self._by_uri.get(uri, {}).values() for d in group]

    def replace(self, root: str, covers: Any, new: dict[str, dict[str, list[types.Diagnostic]]]) -> set[str]:
        """Drop every group of ``root`` whose origin ``covers(origin)``; add ``new``
        (uri -> origin -> diagnostics). Returns the URIs whose diagnostics changed."""
        touched: set[str] = set()
        for uri, groups in list(self._by_uri.items()):
            for key in [k for k in groups if k[0] == root and covers(k[1])]:
                del groups[key]
                touched.add(uri)
            if not groups:
                del self._by_uri[uri]
        for uri, groups in new.items():
            target = self._by_uri.setdefault(uri, {})
            for origin, diags in groups.items():
                target.setdefault((root, origin), []).extend(diags)
            touched.add(uri)
        return touched


class TestRuns:
    """Per-server state: warm pools, test diagnostics, save timers (running runs are jobs)."""

    __test__ = False

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pools: dict[tuple, Any] = {}
        self.book = DiagnosticsBook()
        self.save_timers: dict[str, asyncio.TimerHandle] = {}  # root -> pending run on save

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
    runs = server.services.tests = TestRuns()

    async def run_tests_command(ls: CodeloopServer, args: dict[str, Any]) -> dict[str, Any]:
        request = request_future(ls)  # before the first await: it reads the current message id
        root, target, current = _what_to_run(ls, args)
        return await run_tests_request(ls, runs, root, target, current, request=request)

    server.commands.add(CommandSpec(CMD_RUN_TESTS, run_tests_command,
                                    {"uri": URI, "file": PATH, "testId": TEST_ID}, argument_optional=True))

    def on_save(uri: str) -> None:
        try:
            schedule_on_save(server, runs, uri)
        except Exception as exc:  # noqa: BLE001 - reported once, the server keeps running
            server.report_failure("running tests on save", exc)

    def on_cancel(root: str | None) -> None:  # codeloop.cancel: pending runs on save too
        for r in [r for r in runs.save_timers if root is None or r == root]:
            runs.save_timers.pop(r).cancel()

    def on_shutdown() -> None:  # running runs were cancelled as jobs; stop the warm workers
        on_cancel(None)
        runs.close()

    server.hooks.on("save", on_save)
    server.hooks.on("cancel", on_cancel)
    server.hooks.on("shutdown", on_shutdown)


def schedule_on_save(ls: CodeloopServer, runs: TestRuns, uri: str) -> None:
    settings = ls.settings.tests
    if not settings.run_on_save:
        return
    path = uri_to_path(uri)
    if path is None or not path.endswith(".py"):
        return
    root = _root_of(ls, uri)
    old = runs.save_timers.pop(root, None)
    if old is not None:
        old.cancel()
    ls.jobs.cancel(root, kind=JOB_KIND)  # a newer save cancels the older run right away

    def start() -> None:
        runs.save_timers.pop(root, None)
        task = asyncio.ensure_future(_run_quietly(ls, runs, root, path))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    loop = asyncio.get_running_loop()
    runs.save_timers[root] = loop.call_later(settings.debounce_ms / 1000, start)


async def _run_quietly(ls: CodeloopServer, runs: TestRuns, root: str, path: str) -> None:
    try:
        await run_tests_request(ls, runs, root, None, path, on_save=True)
    except asyncio.CancelledError:
        pass
    except Exception as exc:  # noqa: BLE001
        if getattr(exc, "code", None) is None:  # JSON-RPC errors were already shown
            ls.report_failure("running tests on save", exc)


def _root_of(ls: CodeloopServer, uri: str | None) -> str:
    from codeloop.workspace.testindex import find_workspace_root

    if uri:
        path = uri_to_path(uri)
        if path is not None:
            return str(find_workspace_root(path))
    if ls.root is None:
        raise invalid_params(f"codeloop: {CMD_RUN_TESTS}: no workspace folder and no 'uri'")
    return str(ls.root)


def _what_to_run(ls: CodeloopServer, args: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(root, target test id / file / directory relative to root, current file) of the
    parsed arguments; a file that is not on disk or does not exist is InvalidParams."""
    uri, test_id, file = args.get("uri"), args.get("testId"), args.get("file")
    current = None
    if uri:
        current = uri_to_path(uri)
        if current is None:
            raise invalid_params(f"codeloop: {CMD_RUN_TESTS}: only files on disk have tests")
    if file and file.startswith("file:"):
        file = uri_to_path(file) or file
    base = _root_of(ls, uri or (path_to_uri(Path(file)) if file and os.path.isabs(file) else None))
    if test_id:
        return base, test_id, None
    if file:
        path = file if os.path.isabs(file) else os.path.join(base, file)
        if not os.path.exists(path):
            raise invalid_params(f"codeloop: {CMD_RUN_TESTS}: no such file or directory: {file}")
        if os.path.isdir(path) or is_test_file(path):
            return base, os.path.relpath(path, base), None
        return base, None, os.path.abspath(path)
    return base, None, current


async def run_tests_request(
    ls: CodeloopServer, runs: TestRuns, root: str, target: str | None, current: str | None, on_save: bool = False,
    request: Any = None,
) -> dict[str, Any]:
    from codeloop.job import Job
    from codeloop.services.run_tests import RunTestsRequest, run_tests
    from codeloop.verify.sandbox_policy import sandbox_policy, user_tests_policy
    from codeloop_sandbox import SandboxUnavailable

    policy = user_tests_policy(sandbox_policy(ls.settings.sandbox))
    cancel = CancelEvent()
    ls.jobs.cancel(root, kind=JOB_KIND)  # a newer run for the same workspace wins
    what = target or (os.path.relpath(current, root) if current else "all tests")
    targets, currents = [target] if target else [], [current] if current else []
    if not target and current and not is_test_file(current):
        found = await index_affected_tests(ls, root, current)
        if found:  # the tests that refer to the file's code; else the tests that import it
            targets, currents = found, []
    summary = None
    try:
        async with job_progress(ls, JOB_KIND, f"Running tests: {what}", root, cancel, request=request,
                                feature="tests", title="Run tests", message=what, eager=True) as progress:
            job = Job(lambda message, _fraction: progress.report(message), cancel)

            def run() -> Any:  # one hop to a worker thread: the pool (its start may block) and the run
                pool = runs.pool_for(root, policy)
                return run_tests(RunTestsRequest(root, targets, currents, policy=policy, pool=pool), job).summary

            try:
                summary = await asyncio.to_thread(run)
            finally:
                progress.end(summary.text() if summary is not None else "cancelled" if cancel.is_set() else "failed")
    except SandboxUnavailable as exc:
        message = f"codeloop: cannot run tests: {exc}"
        if on_save:
            ls.show_once(message)
        else:
            ls.show(message, types.MessageType.Warning)
        raise request_failed(message) from None
    except (ValueError, FileNotFoundError) as exc:
        raise invalid_params(f"codeloop: {CMD_RUN_TESTS}: {exc}") from None

    answer = summary.to_json()
    if summary.cancelled and cancel.set_at is not None:
        answer["cancelLatencyMs"] = round((time.monotonic() - cancel.set_at) * 1000, 1)
        log.info("test run cancelled; returned %.1f ms after the cancel", answer["cancelLatencyMs"])
    if not summary.cancelled:
        publish_summary(ls, runs, summary)
    return answer


def publish_summary(ls: CodeloopServer, runs: TestRuns, summary: Any) -> None:
    """Replace the diagnostics of the tests this run covered; republish the touched URIs."""
    new: dict[str, dict[str, list[types.Diagnostic]]] = {}
    for path, findings in summary.findings.items():
        uri = path_to_uri(Path(path))
        for f in findings:
            new.setdefault(uri, {}).setdefault(f.origin, []).append(to_diagnostic(f))
    for uri in runs.book.replace(summary.root, summary.covers, new):
        ls.diagnostics.set(uri, TEST_SOURCE, runs.book.for_uri(uri))


def to_diagnostic(f: Any) -> types.Diagnostic:
    """A run finding (1-based lines) as a diagnostic, its related places as related information."""
    related = [convert.related(path_to_uri(Path(r.path)), r.line - 1, r.message) for r in f.related]
    return convert.diagnostic(convert.line_range(f.line - 1), f.message, f.severity, f.code, source=TEST_SOURCE,
                              data={"origin": f.origin}, related_information=related or None)


__all__ = ["TEST_SOURCE", "CancelEvent", "DiagnosticsBook", "TestRuns", "register", "run_tests_request"]
