"""Generate unit tests for a module, function or class: the API behind CLI and LSP.

:func:`generate_tests` resolves the target statically, runs the offline search in the
sandbox, renders the kept calls as pytest tests, verifies them in the sandbox (drops
failing ones, re-runs with another hash seed to catch flaky ones), measures branch
coverage before and after, and returns the merged test-file text. It writes nothing:
the CLI writes with :func:`codeloop.generate.merge.write_merged`, the server through a
version-checked ``WorkspaceEdit``. It never imports pygls.
"""

from __future__ import annotations

import ast
import os
import re
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from codeloop_sandbox import Policy, PytestResult, run_pytest

from codeloop.generate.merge import merge_tests
from codeloop.generate.offline.analysis import analyze_module
from codeloop.generate.offline.render import Renderer
from codeloop.generate.offline.search import ImportFailure, SearchOutcome, run_search
from codeloop.generate.targets import Target, resolve_target
from codeloop.generate.tests_model import GeneratedTest, GenerationResult, ProbableBug

Progress = Callable[[str, float], None]

TEST_DIR_NAMES = ("tests", "test", "testing")
VERIFY_ROUNDS = 4  # the first runs two processes (hash seeds 1 and 2) in parallel


class GenerationError(Exception):
    """Bad input found while generating (the target cannot be imported, ...): exit 2."""


def default_test_file(target: Target, out_dir: Path | None = None) -> Path:
    """``--out DIR`` or the project's tests folder (``tests/`` when there is none)."""
    name = f"test_{target.short_name}.py" if target.short_name != "__init__" else "test_package.py"
    if out_dir is not None:
        return out_dir.resolve() / name
    for candidate in TEST_DIR_NAMES:
        folder = target.project / candidate
        if folder.is_dir():
            return folder / name
    return target.project / "tests" / name


def related_test_files(target: Target, exclude: Path | None = None, limit: int = 20) -> list[Path]:
    """Existing test files of the project that import the target module (static grep)."""
    mod = re.escape(target.module)
    parent, _, leaf = target.module.rpartition(".")
    patterns = [rf"^\s*import\s+{mod}\b", rf"^\s*from\s+{mod}\s+import\b"]
    if parent:
        patterns.append(rf"^\s*from\s+{re.escape(parent)}\s+import\s+.*\b{re.escape(leaf)}\b")
    rx = re.compile("|".join(patterns), re.M)
    found: list[Path] = []
    skip_dirs = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".codeloop-testgen", "site-packages"}
    for root, dirs, files in os.walk(target.project):
        dirs[:] = sorted(d for d in dirs if d not in skip_dirs and not d.startswith("."))
        for f in sorted(files):
            if not (f.startswith("test_") or f.endswith("_test.py")) or not f.endswith(".py"):
                continue
            p = Path(root) / f
            if exclude is not None and p.resolve() == exclude.resolve():
                continue
            try:
                if rx.search(p.read_text(encoding="utf-8", errors="replace")):
                    found.append(p)
            except OSError:
                continue
            if len(found) >= limit:
                return found
    return found


def _rel(path: Path, project: Path) -> str | None:
    try:
        return str(path.resolve().relative_to(project.resolve()))
    except ValueError:
        return None


def _file_entry(pres: PytestResult, file: Path) -> dict | None:
    files = (pres.coverage or {}).get("files", {})
    return files.get(str(file)) or files.get(os.path.realpath(file))


def _file_coverage(pres: PytestResult, file: Path) -> float | None:
    entry = _file_entry(pres, file)
    if entry is None:
        return None
    return round(float(entry.get("summary", {}).get("percent_covered", 0.0)), 1)


def union_coverage(*entries: dict | None) -> float | None:
    """coverage.py's percent (statements + branches) of several runs of the same file, combined.

    Lets "after" = existing tests + new tests be computed from two separate runs.
    """
    entries = [e for e in entries if e]
    if not entries:
        return None
    run_lines: set = set()
    all_lines: set = set()
    run_br: set = set()
    all_br: set = set()
    for e in entries:
        run_lines |= set(e.get("executed_lines", []))
        all_lines |= set(e.get("executed_lines", [])) | set(e.get("missing_lines", []))
        run_br |= {tuple(b) for b in e.get("executed_branches", [])}
        all_br |= {tuple(b) for b in e.get("executed_branches", [])} | {tuple(b) for b in e.get("missing_branches", [])}
    total = len(all_lines) + len(all_br)
    if total == 0:
        return 100.0
    return round(100.0 * (len(run_lines) + len(run_br & all_br)) / total, 1)


def _cov_source(target: Target) -> list[str]:
    return [str(target.file.parent)]


def _verify_policy(policy: Policy, target: Target, hashseed: int, timeout: float, plugins: bool = True) -> Policy:
    """Policy for a pytest run; ``plugins=False`` skips third-party plugin autoload.

    Generated tests only use pytest itself, and autoloading every installed plugin can
    cost seconds per run, so runs of the new file alone go without them.
    """
    env = {**(policy.env or {}), "PYTHONPATH": str(target.import_root), "PYTHONHASHSEED": str(hashseed)}
    if not plugins:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return replace(policy, env=env, timeout=max(5.0, timeout))


def _test_names(text: str | None) -> set[str]:
    if not text:
        return set()
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def generate_tests(
    project: Path,
    target: str,
    budget: float = 20.0,
    seed: int = 0,
    policy: Policy | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    out_dir: Path | None = None,
    resolved: Target | None = None,
) -> GenerationResult:
    """Search, render, verify; return tests, merged text, coverage and probable bugs.

    Raises :class:`codeloop.cli.CliError` for a target that cannot be resolved,
    :class:`GenerationError` when it cannot be imported in the sandbox, and
    ``codeloop_sandbox.SandboxUnavailable`` when no acceptable sandbox exists.
    """
    started = time.monotonic()
    policy = policy or Policy()
    tgt = resolved or resolve_target(target, project)
    source = tgt.file.read_text(encoding="utf-8")
    info = analyze_module(source)
    result = GenerationResult(target=target, module=tgt.module)
    test_file = default_test_file(tgt, out_dir)
    result.test_file = test_file
    existing = test_file.read_text(encoding="utf-8") if test_file.is_file() else None
    result.existing_text = existing
    related = related_test_files(tgt, exclude=test_file)
    if existing is not None:
        related.append(test_file)
    related_rel = [r for r in (_rel(p, tgt.project) for p in related) if r]

    def report(msg: str, frac: float) -> None:
        if progress is not None:
            try:
                progress(msg, frac)
            except Exception:
                pass

    # Coverage before, measured in parallel with the search.
    before: dict = {}

    def measure_before() -> None:
        if not related_rel:
            before["value"] = 0.0
            return
        pres = run_pytest(tgt.project, args=["-q", "-p", "no:cacheprovider", *related_rel],
                          policy=_verify_policy(policy, tgt, 0, budget, plugins=False), coverage=True,
                          cov_source=_cov_source(tgt), cancel=cancel)
        if pres.result.limit:
            return  # unknown: the existing tests did not finish within the budget
        before["entry"] = _file_entry(pres, tgt.file)
        before["value"] = _file_coverage(pres, tgt.file) or 0.0

    before_thread = threading.Thread(target=measure_before, name="codeloop-cov-before", daemon=True)
    before_thread.start()

    # The search gets what the verification runs will not need.
    reserve = min(max(2.5, 0.3 * budget), 0.6 * budget)
    search_seconds = max(0.5, budget - reserve)
    import_timeout = max(2.0, min(10.0, budget * 0.5))
    try:
        outcome: SearchOutcome = run_search(
            tgt, info.to_json(), seed, search_seconds, policy,
            progress=lambda m, f: report(m, f * 0.8), cancel=cancel, import_timeout=import_timeout)
    except ImportFailure as exc:
        before_thread.join(timeout=1)
        raise GenerationError(str(exc)) from None
    result.timings["search"] = time.monotonic() - started
    result.calls = outcome.calls
    result.sandbox_level = outcome.level
    result.errors.extend(e for e in outcome.errors if e != "cancelled")
    if "cancelled" in outcome.errors or (cancel is not None and cancel.is_set()):
        result.errors.append("cancelled")
        result.duration = time.monotonic() - started
        return result

    renderer = Renderer(taken=_test_names(existing))
    tests: list[GeneratedTest] = [renderer.render(c, o) for c, o in outcome.kept]
    bugs: list[ProbableBug] = []
    for ev in outcome.bugs:
        cand = ev["cand"]
        ex = cand.get("example") or {}
        line = ex.get("line") or (info.callables.get(cand["func"]).line if cand["func"] in info.callables else 1)
        test = renderer.render_bug(cand, ev["obs"], ev["why"], ev["observed"], ev.get("expected"), line)
        bugs.append(ProbableBug(function=cand["func"], line=line, message=test.message or "", test=test,
                                file=str(tgt.file)))
    tests.extend(b.test for b in bugs)
    # A test the renderer got wrong must cost only itself, never the file.
    valid = []
    for t in tests:
        try:
            ast.parse(t.code)
            valid.append(t)
        except SyntaxError:
            result.dropped += 1
    tests = valid
    bugs = [b for b in bugs if b.test in valid]

    # Verify: drop failing tests, re-run with another hash seed to catch flaky ones.
    report("verifying the generated tests", 0.85)
    rel_test = _rel(test_file, tgt.project) or f"{'.codeloop-testgen'}/{test_file.name}"
    final_entry: dict | None = None
    clean = False
    ok_outcome = {"pass": ("passed",), "xfail": ("xfailed",)}
    for round_no in range(VERIFY_ROUNDS):
        if not tests or (cancel is not None and cancel.is_set()):
            break
        text = merge_tests(existing, tests, module=tgt.module)
        timeout = max(5.0, budget - (time.monotonic() - started)) + 20

        def one(hashseed: int, cov: bool, text: str = text, timeout: float = timeout) -> PytestResult:
            return run_pytest(tgt.project, args=["-q", "-p", "no:cacheprovider", rel_test],
                              policy=_verify_policy(policy, tgt, hashseed, timeout, plugins=False),
                              coverage=cov, cov_source=_cov_source(tgt) if cov else None,
                              extra_files={rel_test: text}, cancel=cancel)

        if round_no == 0:
            # Two fresh processes with different hash seeds, in parallel: failing and flaky
            # tests both show up as a failure in at least one of them.
            box: dict[str, PytestResult] = {}
            side = threading.Thread(target=lambda: box.__setitem__("plain", one(1, False)), daemon=True)
            side.start()
            runs = [one(2, True)]
            side.join()
            runs.append(box["plain"])
        else:
            runs = [one(2 + round_no, True)]
        if any(r.result.cancelled for r in runs):
            result.errors.append("cancelled")
            tests = []
            break
        outcomes: dict[str, str] = {}
        messages: dict[str, str] = {}
        broken = None
        for pres in runs:
            if not pres.tests and (pres.errors or pres.result.limit):
                broken = pres.errors[0] if pres.errors else f"sandbox {pres.result.limit} limit"
            for t in pres.tests:
                if t.nodeid.split("::")[0] != rel_test:
                    continue
                key = t.nodeid.split("::")[-1].split("[")[0]
                if outcomes.get(key) in (None, "passed", "xfailed"):
                    outcomes[key] = t.outcome
                    messages[key] = t.message
        if broken:
            result.errors.append(f"verification run failed: {broken[:300]}")
            tests = []
            break
        bad = [t for t in tests if outcomes.get(t.name) not in ok_outcome[t.kind]]
        if not bad:
            final_entry = _file_entry(runs[0], tgt.file)
            clean = True
            break
        result.dropped += len(bad)
        result.dropped_details += [f"{t.name}: {outcomes.get(t.name, 'missing')}: {messages.get(t.name, '')[:200]}"
                                   for t in bad]
        bad_names = {t.name for t in bad}
        tests = [t for t in tests if t.name not in bad_names]
        bugs = [b for b in bugs if b.test.name not in bad_names]
    if not clean:
        tests, bugs = [], []
    result.timings["verify"] = time.monotonic() - started - result.timings["search"]
    before_thread.join(timeout=max(1.0, budget - (time.monotonic() - started)))
    result.coverage_before = before.get("value")
    # Existing tests of the file being merged into ran together with the new ones already.
    final_cov = union_coverage(final_entry, before.get("entry"))
    result.tests = tests
    result.probable_bugs = bugs
    if tests:
        result.merged_text = merge_tests(existing, tests, module=tgt.module)
        result.coverage_after = final_cov
    else:
        result.coverage_after = result.coverage_before
    result.duration = time.monotonic() - started
    report("done", 1.0)
    return result
