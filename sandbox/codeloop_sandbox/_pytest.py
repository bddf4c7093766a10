"""run_pytest(): pytest in the sandbox with per-test outcomes and optional branch coverage."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._pytest_types import Frame, PytestResult, TestOutcome
from ._run import Prepared, execute
from ._types import Policy, Result
from ._workspace import read_result_file

if TYPE_CHECKING:
    from ._pool import WarmPool

# `python -c BOOT cfg args...`: sys.path[0] stays the cwd, as with `python -m pytest`.
BOOT = "import sys;sys.path.append({helper!r});import _codeloop_sbx_runner as r;r.main()"
DEFAULT_ARGS = ("-p", "no:cacheprovider")


def pytest_config(prep: Prepared, coverage: bool, cov_source: Sequence[str] | None) -> dict:
    ws_inside = prep.workspace if prep.level in ("A", "B") else prep.host_path(prep.workspace)
    sources = None
    if cov_source:
        sources = []
        for s in cov_source:
            p = os.path.abspath(os.path.join(prep.workspace, os.fspath(s)))
            sources.append(p if prep.level in ("A", "B") else prep.host_path(p))
    return {"out": prep.out_dir_inside, "workspace": ws_inside, "coverage": bool(coverage), "cov_source": sources}


def run_pytest(
    workspace: str | Path,
    args: Sequence[str] = (),
    policy: Policy = Policy(),
    coverage: bool = False,
    cov_source: Sequence[str] | None = None,
    extra_files: Mapping[str, str | bytes] | None = None,
    on_output: Callable[[str, str], None] | None = None,
    cancel: threading.Event | None = None,
    pool: WarmPool | None = None,
) -> PytestResult:
    """Run pytest over a scratch copy of ``workspace`` in the sandbox.

    Per-test outcomes come from a small plugin shipped with this package; coverage (on
    request) is coverage.py's JSON report with branch data, keyed by original paths.
    With ``pool`` the run is served by a warm pre-forked worker when possible.
    """
    if pool is not None:
        return pool.run_pytest(args, coverage=coverage, cov_source=cov_source, extra_files=extra_files,
                               on_output=on_output, cancel=cancel)
    prep = Prepared(workspace, policy, None, extra_files, helpers=True)
    try:
        if not prep.interp.has_pytest:
            return PytestResult(
                Result(exit_code=None, stdout="", stderr="", level=prep.level),
                errors=[f"pytest is not installed for {prep.interp.executable}"],
            )
        if coverage and not prep.interp.has_coverage:
            return PytestResult(
                Result(exit_code=None, stdout="", stderr="", level=prep.level),
                errors=[f"coverage is not installed for {prep.interp.executable}"],
            )
        cfg = pytest_config(prep, coverage, cov_source)
        cmd = [
            prep.interp.executable,
            "-c",
            BOOT.format(helper=prep.helper_dir_inside),
            json.dumps(cfg),
            *DEFAULT_ARGS,
            *args,
        ]
        res = execute(prep, cmd, on_output=on_output, cancel=cancel)
        return collect_results(res, prep.results_dir, prep.to_original, prep.workspace, coverage)
    finally:
        prep.cleanup(background=True)


def collect_results(
    res: Result, out_dir: str, to_original: Callable[[str], str], workspace: str, coverage: bool
) -> PytestResult:
    pres = PytestResult(result=res)
    if not out_dir:  # the run never started (e.g. the copy did not fit the scratch space)
        return pres
    raw = read_result_file(os.path.join(out_dir, "events.jsonl")) or b""
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if not isinstance(ev, dict):
            continue
        kind = ev.get("kind")
        try:
            if kind == "collected":
                pres.collected = int(ev.get("count", 0))
            elif kind == "collect_error":
                pres.errors.append(f"{ev.get('nodeid', '')}: {ev.get('text', '')}".strip())
            elif kind == "test":
                frames = [Frame(to_original(str(p)), int(n), str(f)) for p, n, f in ev.get("frames") or []]
                path = ev.get("path")
                pres.tests.append(
                    TestOutcome(
                        nodeid=str(ev["nodeid"]),
                        outcome=str(ev.get("outcome", "error")),
                        duration=float(ev.get("duration") or 0.0),
                        message=str(ev.get("message") or ""),
                        frames=frames,
                        path=to_original(str(path)) if path else None,
                        line=int(ev["line"]) if ev.get("line") else None,
                        longrepr=str(ev.get("longrepr") or ""),
                    )
                )
        except (KeyError, TypeError, ValueError):
            continue
    if coverage:
        data = read_result_file(os.path.join(out_dir, "coverage.json"))
        if data:
            try:
                cov = json.loads(data)
                files = cov.get("files", {})
                cov["files"] = {
                    to_original(k if os.path.isabs(k) else os.path.join(_inside_ws(workspace, to_original), k)): v
                    for k, v in files.items()
                }
                pres.coverage = cov
            except (ValueError, AttributeError):
                pres.errors.append("coverage report unreadable")
        else:
            err = read_result_file(os.path.join(out_dir, "coverage.error"))
            if err:
                pres.errors.append("coverage: " + err.decode("utf-8", "replace"))
    return pres


def _inside_ws(workspace: str, to_original: Callable[[str], str]) -> str:
    # coverage reports paths relative to the run's cwd (the workspace root).
    return workspace
