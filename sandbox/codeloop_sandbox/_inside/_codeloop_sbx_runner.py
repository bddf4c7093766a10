"""Runs INSIDE the sandbox: pytest with a result-collecting plugin and optional coverage.

Standalone (stdlib + pytest [+ coverage]); it never imports codeloop_sandbox. Results go
to JSON lines in the output directory given in the config, so they survive a kill.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback

_SKIP_PARTS = ("/site-packages/", "/dist-packages/", "/_codeloop_sbx_")


class Collector:
    """pytest plugin: one JSON line per finished test, collection error or summary."""

    def __init__(self, out_path: str, workspace: str, cov=None) -> None:
        self.fh = open(out_path, "a", encoding="utf-8")  # noqa: SIM115 - open for the whole session
        self.workspace = workspace.rstrip("/") + "/"
        self.tests: dict[str, dict] = {}
        self.cov = cov  # coverage's context is the running test's node id (which test ran a line)

    def emit(self, obj: dict) -> None:
        self.fh.write(json.dumps(obj) + "\n")
        self.fh.flush()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.fh.close()

    def _frames(self, excinfo) -> list[list]:
        frames = []
        try:
            for fs in traceback.extract_tb(excinfo.tb):
                path = os.path.abspath(fs.filename)
                if not path.startswith(self.workspace) or any(p in path for p in _SKIP_PARTS):
                    continue
                frames.append([path, fs.lineno, fs.name])
        except Exception:
            pass
        return frames

    # Hooks -------------------------------------------------------------------------------
    def pytest_collection_finish(self, session) -> None:
        self.emit({"kind": "collected", "count": len(session.items)})

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            text = str(getattr(report, "longreprtext", "") or report.longrepr)
            self.emit({"kind": "collect_error", "nodeid": report.nodeid, "text": text[-8000:]})

    def pytest_runtest_makereport(self, item, call):
        # Not a wrapper: runs before pytest's own implementation? No: plain hooks run in
        # LIFO order and the first non-None result wins, so we only record side data.
        if call.excinfo is not None:
            rec = self.tests.setdefault(item.nodeid, {})
            rec.setdefault("frames", self._frames(call.excinfo))
        rec = self.tests.setdefault(item.nodeid, {})
        if "path" not in rec:
            try:
                path, line, _ = item.reportinfo()
                rec["path"] = os.path.abspath(str(path))
                rec["line"] = (line or 0) + 1
            except Exception:
                pass
        return None

    def pytest_runtest_logreport(self, report) -> None:
        rec = self.tests.setdefault(report.nodeid, {})
        rec["duration"] = rec.get("duration", 0.0) + float(getattr(report, "duration", 0.0) or 0.0)
        wasxfail = hasattr(report, "wasxfail")
        outcome = None
        if report.when == "call":
            if report.passed:
                outcome = "xpassed" if wasxfail else "passed"
            elif report.failed:
                outcome = "failed"
            elif report.skipped:
                outcome = "xfailed" if wasxfail else "skipped"
        elif report.failed:  # setup or teardown error
            outcome = "error"
        elif report.skipped and report.when == "setup":
            outcome = "xfailed" if wasxfail else "skipped"
        if (outcome is not None and not (rec.get("outcome") in ("failed", "error") and outcome == "passed")
                and not (rec.get("outcome") == "failed" and outcome == "error")):
            rec["outcome"] = outcome
        if report.failed or (report.skipped and "message" not in rec):
            rec["message"] = _message(report)
            if report.failed:
                rec["longrepr"] = str(getattr(report, "longreprtext", "") or "")[-8000:]

    def pytest_runtest_logstart(self, nodeid, location) -> None:
        if self.cov is not None:
            with contextlib.suppress(Exception):
                self.cov.switch_context(nodeid)

    def pytest_runtest_logfinish(self, nodeid, location) -> None:
        if self.cov is not None:
            with contextlib.suppress(Exception):
                self.cov.switch_context("")
        rec = self.tests.pop(nodeid, {})
        self.emit(
            {
                "kind": "test",
                "nodeid": nodeid,
                "outcome": rec.get("outcome", "error"),
                "duration": rec.get("duration", 0.0),
                "message": rec.get("message", ""),
                "frames": rec.get("frames", []),
                "path": rec.get("path"),
                "line": rec.get("line"),
                "longrepr": rec.get("longrepr", ""),
            }
        )


def _message(report) -> str:
    lr = report.longrepr
    try:
        if isinstance(lr, tuple) and len(lr) == 3:
            return str(lr[2])
        crash = getattr(lr, "reprcrash", None)
        if crash is not None:
            return str(crash.message)
        return str(lr).strip().splitlines()[-1] if lr else ""
    except Exception:
        return ""


class CoverageWindows:
    """pytest plugin: trace only while workspace code can run.

    Tracing pytest's own start-up, collection machinery and reporting costs as much as the
    tests of a small file (every Python call goes through the tracer), so the tracer runs
    only while conftests load, modules are collected (imported), and tests set up, run and
    tear down. Workspace code that only a pytest hook outside those phases runs (a
    conftest's ``pytest_configure``) is not measured. Uses coverage's collector pause/resume;
    a coverage without them traces the whole session (correct, slower).
    """

    def __init__(self, cov) -> None:
        collector = getattr(cov, "_collector", None)
        self.collector = collector if hasattr(collector, "pause") and hasattr(collector, "resume") else None
        self.depth = 0
        if self.collector is not None:
            self.collector.pause()

    def _window(self):
        if self.collector is None:
            yield
            return
        self.depth += 1
        if self.depth == 1:
            self.collector.resume()
        try:
            yield
        finally:
            self.depth -= 1
            if self.depth == 0:
                self.collector.pause()

    def close(self) -> None:
        """Leave the collector running, as coverage.stop() expects."""
        if self.collector is not None and self.depth == 0:
            self.collector.resume()
            self.collector = None


def _coverage_windows_plugin(cov):
    """A CoverageWindows with pytest's hook wrappers (old-style: any pytest version)."""
    import pytest

    class Plugin(CoverageWindows):
        @pytest.hookimpl(hookwrapper=True)
        def pytest_load_initial_conftests(self):
            yield from self._window()

        @pytest.hookimpl(hookwrapper=True)
        def pytest_make_collect_report(self, collector):
            if collector.__class__.__name__ == "Session":  # its children open their own windows
                yield
                return
            yield from self._window()

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_setup(self):
            yield from self._window()

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_call(self):
            yield from self._window()

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_teardown(self):
            yield from self._window()

    return Plugin(cov)


def new_coverage(source: list[str], config_file=True):
    """A started branch-coverage measurement of ``source``, its data in memory only."""
    import coverage

    cov = coverage.Coverage(branch=True, data_file=None, source=source, omit=["*/_codeloop_sbx_*"],
                            config_file=config_file)
    cov.start()
    return cov


def warm_coverage() -> None:
    """Measure and report a tiny module once, so that a forked run inherits what coverage
    builds on first use (the regular expressions of its parser and of tokenize, the
    interpreter's path layout, inspect's module map, the report modules)."""
    import shutil
    import tempfile

    d = tempfile.mkdtemp(prefix="codeloop-warm-")
    name = "_codeloop_warm_target"
    try:
        with open(os.path.join(d, name + ".py"), "w") as fh:
            fh.write("def f(x):\n    if x:\n        return 1\n    return 2\n")
        cov = new_coverage([d], config_file=False)
        sys.path.insert(0, d)
        try:
            __import__(name).f(1)
        finally:
            sys.path.remove(d)
            sys.modules.pop(name, None)
            cov.stop()
        cov.json_report(outfile=os.path.join(d, "coverage.json"))
        cov.erase()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run_pytest(cfg: dict, args: list[str]) -> int:
    """One pytest session; returns the exit code. Used by main() and by the warm pool."""
    import pytest

    out = cfg["out"]
    cov = windows = None
    if cfg.get("coverage"):
        cov = new_coverage(cfg.get("cov_source") or [cfg["workspace"]])
        windows = _coverage_windows_plugin(cov)
    collector = Collector(os.path.join(out, "events.jsonl"), cfg["workspace"], cov)
    plugins: list = [collector] + ([windows] if windows is not None else [])
    code = 3
    t0 = time.monotonic()
    try:
        code = int(pytest.main(list(args), plugins=plugins))
    finally:
        collector.emit({"kind": "finished", "exit": code, "duration": time.monotonic() - t0})
        collector.close()
        if cov is not None:
            windows.close()
            cov.stop()
            try:
                cov.json_report(outfile=os.path.join(out, "coverage.json"), pretty_print=False, show_contexts=True)
            except Exception as exc:  # e.g. "No data to report."
                with open(os.path.join(out, "coverage.error"), "w") as fh:
                    fh.write(f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(Exception):
                cov.erase()
    return code


def main() -> None:
    cfg = json.loads(sys.argv[1])
    args = sys.argv[2:]
    sys.argv = ["pytest", *args]
    code = run_pytest(cfg, args)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
