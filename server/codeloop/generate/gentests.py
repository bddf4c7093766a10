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
VERIFY_ROUNDS = 4


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


def _file_coverage(pres: PytestResult, file: Path) -> float | None:
    files = (pres.coverage or {}).get("files", {})
    entry = files.get(str(file)) or files.get(os.path.realpath(file))
    if entry is None:
        return None
    return round(float(entry.get("summary", {}).get("percent_covered", 0.0)), 1)


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
                          policy=_verify_policy(policy, tgt, 0, budget + 30), coverage=True,
                          cov_source=_cov_source(tgt), cancel=cancel)
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

    # Verify: drop failing tests, re-run with another hash seed to catch flaky ones.
    report("verifying the generated tests", 0.85)
    rel_test = _rel(test_file, tgt.project) or f"{'.codeloop-testgen'}/{test_file.name}"
    final_cov: float | None = None
    passes_clean = 0
    for round_no in range(VERIFY_ROUNDS):
        if not tests:
            break
        text = merge_tests(existing, tests, module=tgt.module)
        remaining = max(5.0, budget - (time.monotonic() - started) + 10)
        pres = run_pytest(
            tgt.project,
            args=["-q", "-p", "no:cacheprovider", rel_test],
            policy=_verify_policy(policy, tgt, 1 + round_no, remaining + 20, plugins=False),
            coverage=True, cov_source=_cov_source(tgt), extra_files={rel_test: text}, cancel=cancel)
        if pres.result.cancelled:
            result.errors.append("cancelled")
            break
        by_name = {}
        for t in pres.tests:
            if t.nodeid.split("::")[0] == rel_test or t.nodeid.startswith(rel_test + "::"):
                by_name[t.nodeid.split("::")[-1].split("[")[0]] = t.outcome
        if not pres.tests and (pres.errors or pres.result.limit):
            detail = pres.errors[0] if pres.errors else f"sandbox {pres.result.limit} limit"
            result.errors.append(f"verification run failed: {detail[:300]}")
            tests = []
            break
        ok_outcome = {"pass": ("passed",), "xfail": ("xfailed",)}
        bad = [t for t in tests if by_name.get(t.name) not in ok_outcome[t.kind]]
        if bad:
            result.dropped += len(bad)
            bad_names = {t.name for t in bad}
            tests = [t for t in tests if t.name not in bad_names]
            bugs = [b for b in bugs if b.test.name not in bad_names]
            passes_clean = 0
            continue
        final_cov = _file_coverage(pres, tgt.file)
        passes_clean += 1
        if passes_clean >= 2:
            break
    else:
        if passes_clean == 0:
            tests = []
    if passes_clean == 0:
        tests, bugs = [], []
    others = [r for r in related_rel if r != rel_test]
    if tests and (others or existing is not None) and not (cancel is not None and cancel.is_set()):
        # Coverage after = the project's related tests and the new ones together, with plugins.
        report("measuring coverage with the existing tests", 0.95)
        text = merge_tests(existing, tests, module=tgt.module)
        pres = run_pytest(tgt.project, args=["-q", "-p", "no:cacheprovider", *others, rel_test],
                          policy=_verify_policy(policy, tgt, 0, budget + 30), coverage=True,
                          cov_source=_cov_source(tgt), extra_files={rel_test: text}, cancel=cancel)
        failing = {t.nodeid.split("::")[-1] for t in pres.tests
                   if t.nodeid.startswith(rel_test + "::") and t.outcome not in ("passed", "xfailed")}
        if failing:
            result.dropped += len(failing)
            tests = [t for t in tests if t.name not in failing]
            bugs = [b for b in bugs if b.test.name not in failing]
        else:
            final_cov = _file_coverage(pres, tgt.file) or final_cov
    before_thread.join(timeout=max(1.0, budget))
    result.coverage_before = before.get("value")
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
