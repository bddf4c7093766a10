"""Generate unit tests for a module, function or class: the API behind CLI and LSP.

:func:`generate_tests` resolves the target statically, runs the offline search in the
sandbox, renders the kept calls as pytest tests, verifies them in the sandbox (drops
failing ones, re-runs with another hash seed to catch flaky ones), measures branch
coverage before and after, and returns the merged test-file text. With
``settings.engine == "llm"`` the LLM engine (:mod:`codeloop.generate.llm_tests`) writes the
tests instead, reusing the helpers here (coverage before, sandbox runs, verification,
merge). It writes nothing: the CLI writes with :func:`codeloop.generate.merge.write_merged`,
the server through a version-checked ``WorkspaceEdit``. It never imports pygls.
"""

from __future__ import annotations

import ast
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from codeloop.config import Settings
from codeloop.generate.merge import MergeError, body_key, merge_tests, related_bodies
from codeloop.generate.offline.analysis import analyze_module
from codeloop.generate.offline.render import Renderer
from codeloop.generate.offline.search import ImportFailure, SearchOutcome, run_search
from codeloop.generate.targets import Target, TargetError, resolve_target
from codeloop.generate.tests_model import GeneratedTest, GenerationResult, ProbableBug
from codeloop_sandbox import Policy, PytestResult, run_pytest

Progress = Callable[[str, float], None]

TEST_DIR_NAMES = ("tests", "test", "testing")
VERIFY_ROUNDS = 4  # the first runs two processes (hash seeds 1 and 2) in parallel


# Seconds the offline engine gets at least when it takes over from a model that gave nothing.
FALLBACK_MIN_BUDGET = 5.0


class GenerationError(Exception):
    """Bad input found while generating (bad target, cannot be imported, ...): exit 2."""


class ModelFailure(GenerationError):
    """The model could not give usable tests (endpoint error, empty or garbage answers): exit 1."""


def resolve(target: str, project: Path | None) -> Target:
    """:func:`resolve_target` with its bad-input error as a :class:`GenerationError`."""
    try:
        return resolve_target(target, project)
    except TargetError as exc:
        raise GenerationError(str(exc)) from None


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


def coverage_sets(entries: list[dict | None]) -> tuple[set, set, set, set]:
    """(executed lines, all lines, executed branches, all branches) of several coverage.py entries."""
    run_lines: set = set()
    all_lines: set = set()
    run_br: set = set()
    all_br: set = set()
    for e in entries:
        if not e:
            continue
        run_lines |= set(e.get("executed_lines", []))
        all_lines |= set(e.get("executed_lines", [])) | set(e.get("missing_lines", []))
        run_br |= {tuple(b) for b in e.get("executed_branches", [])}
        all_br |= {tuple(b) for b in e.get("executed_branches", [])} | {tuple(b) for b in e.get("missing_branches", [])}
    return run_lines, all_lines, run_br, all_br


def union_coverage(*entries: dict | None) -> float | None:
    """coverage.py's percent (statements + branches) of several runs of the same file, combined.

    Lets "after" = existing tests + new tests be computed from two separate runs.
    """
    if not any(entries):
        return None
    run_lines, all_lines, run_br, all_br = coverage_sets(list(entries))
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


def report_to(progress: Progress | None) -> Progress:
    """``progress`` guarded: a broken progress callback never stops a generation."""

    def report(msg: str, frac: float) -> None:
        if progress is not None:
            try:
                progress(msg, frac)
            except Exception:  # noqa: BLE001
                pass

    return report


def test_file_and_related(tgt: Target, out_dir: Path | None) -> tuple[Path, str | None, list[str]]:
    """The test file to merge into, its current text (None: new) and related tests (relative paths)."""
    test_file = default_test_file(tgt, out_dir)
    existing = test_file.read_text(encoding="utf-8") if test_file.is_file() else None
    related = related_test_files(tgt, exclude=test_file)
    if existing is not None:
        related.append(test_file)
    return test_file, existing, [r for r in (_rel(p, tgt.project) for p in related) if r]


def start_coverage_before(tgt: Target, related_rel: list[str], policy: Policy, budget: float,
                          cancel: threading.Event | None) -> tuple[threading.Thread, dict]:
    """Measure the existing tests' coverage of the target in a background thread.

    The dict gets ``value`` (percent) and ``entry`` (coverage.py's JSON entry for the file)
    once the thread ends; neither when the existing tests did not finish in the budget.
    """
    before: dict = {}

    def measure() -> None:
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

    thread = threading.Thread(target=measure, name="codeloop-cov-before", daemon=True)
    thread.start()
    return thread, before


def rel_test_path(tgt: Target, test_file: Path) -> str:
    return _rel(test_file, tgt.project) or f".codeloop-testgen/{test_file.name}"


def run_test_file(tgt: Target, rel_test: str, text: str, policy: Policy, hashseed: int, timeout: float,
                  coverage: bool, cancel: threading.Event | None) -> PytestResult:
    """Run one test file (given as text, never written to the project) in the sandbox."""
    return run_pytest(tgt.project, args=["-q", "-p", "no:cacheprovider", rel_test],
                      policy=_verify_policy(policy, tgt, hashseed, timeout, plugins=False),
                      coverage=coverage, cov_source=_cov_source(tgt) if coverage else None,
                      extra_files={rel_test: text}, cancel=cancel)


def run_twice(tgt: Target, rel_test: str, text: str, policy: Policy, timeout: float,
              cancel: threading.Event | None) -> list[PytestResult]:
    """Two fresh processes with hash seeds 1 (with coverage) and 2, in parallel.

    Failing and flaky tests (set order, hash seeds, time) show up as a failure in at
    least one of them. The run with coverage comes first in the list.
    """
    box: dict[str, PytestResult] = {}
    side = threading.Thread(target=lambda: box.__setitem__(
        "plain", run_test_file(tgt, rel_test, text, policy, 2, timeout, False, cancel)), daemon=True)
    side.start()
    runs = [run_test_file(tgt, rel_test, text, policy, 1, timeout, True, cancel)]
    side.join()
    runs.append(box["plain"])
    return runs


def outcomes_of(runs: list[PytestResult], rel_test: str) -> tuple[dict[str, list[str]], dict[str, str], str | None]:
    """Per test name: its outcome in each run, its first failure message, and a broken-run reason."""
    outcomes: dict[str, list[str]] = {}
    messages: dict[str, str] = {}
    broken = None
    for pres in runs:
        if not pres.tests and (pres.errors or pres.result.limit):
            broken = pres.errors[0] if pres.errors else f"sandbox {pres.result.limit} limit"
        for t in pres.tests:
            if t.nodeid.split("::")[0] != rel_test:
                continue
            key = t.nodeid.split("::")[-1].split("[")[0]
            outcomes.setdefault(key, []).append(t.outcome)
            if t.outcome not in ("passed", "xfailed") and key not in messages:
                messages[key] = t.message
    return outcomes, messages, broken


def verify_tests(tgt: Target, existing: str | None, tests: list[GeneratedTest], bugs: list[ProbableBug],
                 rel_test: str, policy: Policy, budget: float, started: float,
                 cancel: threading.Event | None, result: GenerationResult,
                 first_runs: int = 2) -> tuple[list[GeneratedTest], list[ProbableBug], dict | None]:
    """Drop failing and flaky tests until one run of the merged file is clean.

    ``first_runs=2`` starts with two parallel processes (hash seeds 1 and 2); later rounds
    (and ``first_runs=1``) use one process with a new hash seed each. Passing tests must
    pass, xfail tests must xfail. Returns the surviving tests and bugs and coverage.py's
    entry for the target file from the clean run (None when no run was clean).
    """
    ok_outcome = {"pass": ("passed",), "xfail": ("xfailed",)}
    for round_no in range(VERIFY_ROUNDS):
        if not tests or (cancel is not None and cancel.is_set()):
            break
        text = merge_tests(existing, tests, module=tgt.module)
        timeout = max(5.0, budget - (time.monotonic() - started)) + 20
        if round_no == 0 and first_runs == 2:
            runs = run_twice(tgt, rel_test, text, policy, timeout, cancel)
        else:
            runs = [run_test_file(tgt, rel_test, text, policy, 2 + round_no + (first_runs == 1), timeout, True, cancel)]
        if any(r.result.cancelled for r in runs):
            result.errors.append("cancelled")
            return [], [], None
        outcomes, messages, broken = outcomes_of(runs, rel_test)
        if broken:
            result.errors.append(f"verification run failed: {broken[:300]}")
            return [], [], None
        bad = [t for t in tests if not outcomes.get(t.name)
               or any(o not in ok_outcome[t.kind] for o in outcomes[t.name])]
        if not bad:
            return tests, bugs, _file_entry(runs[0], tgt.file)
        result.dropped += len(bad)
        result.dropped_details += [
            f"{t.name}: {next((o for o in outcomes.get(t.name, []) if o not in ok_outcome[t.kind]), 'missing')}: "
            f"{messages.get(t.name, '')[:200]}" for t in bad]
        bad_names = {t.name for t in bad}
        tests = [t for t in tests if t.name not in bad_names]
        bugs = [b for b in bugs if b.test.name not in bad_names]
    return [], [], None


def finish(result: GenerationResult, tgt: Target, existing: str | None, tests: list[GeneratedTest],
           bugs: list[ProbableBug], final_entry: dict | None, before_thread: threading.Thread, before: dict,
           budget: float, started: float) -> GenerationResult:
    """Fill in coverage before/after, the merged text and the duration."""
    before_thread.join(timeout=max(1.0, budget - (time.monotonic() - started)))
    result.coverage_before = before.get("value")
    result.tests = tests
    result.probable_bugs = bugs
    if tests:
        result.merged_text = merge_tests(existing, tests, module=tgt.module)
        # Existing tests of the file being merged into ran together with the new ones already.
        result.coverage_after = union_coverage(final_entry, before.get("entry"))
    else:
        result.coverage_after = result.coverage_before
    result.duration = time.monotonic() - started
    return result


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
    *,
    settings: Settings | None = None,
) -> GenerationResult:
    """Generate, verify and merge tests; return tests, merged text, coverage and probable bugs.

    The engine is the LLM one when ``settings`` is given and ``settings.engine == "llm"``
    (see :mod:`codeloop.generate.llm_tests`), else the offline search. When the LLM engine
    was picked by ``generate.engine = "auto"`` and gives no test, the offline search runs
    with what is left of the budget and says so in ``errors``. Raises
    :class:`GenerationError` for a target that cannot be resolved or imported,
    :class:`ModelFailure` when the model gave nothing usable, and
    ``codeloop_sandbox.SandboxUnavailable`` when no acceptable sandbox exists.
    """
    tgt = resolved or resolve(target, project)
    fallback = None
    if settings is not None and settings.engine == "llm":
        from codeloop.generate.llm_tests import generate_llm_tests  # noqa: PLC0415 - imports openai

        started = time.monotonic()
        chosen = settings.generate.engine == "llm"  # asked for by name, not picked by "auto"
        try:
            result = generate_llm_tests(tgt, target, settings, budget=budget, policy=policy or Policy(),
                                        progress=progress, cancel=cancel, out_dir=out_dir)
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
    try:
        result = _generate_offline(tgt, target, budget, seed, policy or Policy(), progress, cancel, out_dir)
    except MergeError as exc:
        raise GenerationError(str(exc)) from None
    if fallback is not None:
        result.errors.append(f"the model gave no usable tests ({fallback}); these come from the offline engine")
    return result


def _generate_offline(tgt: Target, target: str, budget: float, seed: int, policy: Policy,
                      progress: Progress | None, cancel: threading.Event | None,
                      out_dir: Path | None) -> GenerationResult:
    """Search, render, verify (the offline engine)."""
    started = time.monotonic()
    source = tgt.file.read_text(encoding="utf-8")
    info = analyze_module(source)
    result = GenerationResult(target=target, module=tgt.module)
    test_file, existing, related_rel = test_file_and_related(tgt, out_dir)
    result.test_file = test_file
    result.existing_text = existing
    report = report_to(progress)
    # Coverage before, measured in parallel with the search.
    before_thread, before = start_coverage_before(tgt, related_rel, policy, budget, cancel)

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
    # A test the renderer got wrong must cost only itself, never the file; a passing test that
    # repeats one of the user's (a docstring example they already test) adds nothing.
    users = related_bodies(tgt.project, existing, related_rel)
    valid = []
    for t in tests:
        try:
            fn = ast.parse(t.code).body[0]
        except SyntaxError:
            result.dropped += 1
            continue
        if t.kind == "xfail" or not isinstance(fn, ast.FunctionDef) or body_key(fn) not in users:
            valid.append(t)
    tests = valid
    bugs = [b for b in bugs if b.test in valid]

    # Verify: drop failing tests, re-run with another hash seed to catch flaky ones.
    report("verifying the generated tests", 0.85)
    tests, bugs, final_entry = verify_tests(tgt, existing, tests, bugs, rel_test_path(tgt, test_file), policy,
                                            budget, started, cancel, result)
    result.timings["verify"] = time.monotonic() - started - result.timings["search"]
    finish(result, tgt, existing, tests, bugs, final_entry, before_thread, before, budget, started)
    report("done", 1.0)
    return result
