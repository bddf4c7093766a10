"""The offline engine end to end: search, render, verify (host side).

Coverage before is measured in parallel with the search
(:mod:`codeloop.verify.input_search`); the kept calls
and probable bugs are rendered as pytest tests (:mod:`.render`) and verified in the
sandbox (:func:`codeloop.verify.test_runs.verify_tests`); the result carries the merged
test-file text. Nothing is written.
"""

from __future__ import annotations

import ast
import threading
import time
from pathlib import Path

from codeloop.generate.merge import body_key, related_bodies
from codeloop.generate.offline.analysis import analyze_module
from codeloop.generate.offline.parametrize import parametrize
from codeloop.generate.offline.render import Renderer
from codeloop.generate.offline.select import minimal_suite
from codeloop.generate.offline.style import apply_style, read_style
from codeloop.generate.targets import Target
from codeloop.generate.test_files import rel_test_path, test_file_and_related, test_names
from codeloop.generate.tests_model import GeneratedTest, GenerationError, GenerationResult, ProbableBug
from codeloop.job import Progress
from codeloop.verify.input_search import ImportFailure, SearchOutcome, run_search
from codeloop.verify.test_runs import finish, start_coverage_before, verify_tests
from codeloop_sandbox import Policy

# The end of the search time goes to the mutation run (seeded sample of mutants, checked
# against the kept calls in the sandbox's search process).
MUTATION_SHARE = 0.25
MUTATION_MAX = 6.0
MUTATION_FREE = 2.0


def mutation_seconds(search_seconds: float) -> float:
    """The mutation run's share of the search time: none for the first seconds, which the
    search needs (small budgets keep their whole search, and stay deterministic)."""
    return min(MUTATION_SHARE * max(0.0, search_seconds - MUTATION_FREE), MUTATION_MAX)


def mutation_summary(run: dict | None, tests: list[GeneratedTest]) -> dict | None:
    """The mutation run counted over the tests that were written: a mutant is killed when one
    of the calls that kill it is held by a test that survived the verification."""
    if not run or not run.get("tried"):
        return None
    held = set().union(*(t.sources() for t in tests)) if tests else set()
    killed = sum(1 for ids in run.get("killers", []) if held.intersection(ids))
    return {"killed": killed, "tried": int(run["tried"]), "mutants": int(run.get("mutants", 0)),
            "survivors": list(run.get("survivors", []))[:20]}


def generate_offline_tests(tgt: Target, target: str, budget: float, seed: int, policy: Policy,
                           report: Progress, cancel: threading.Event | None,
                           out_dir: Path | None) -> GenerationResult:
    """Search, render, verify (the offline engine). Raises GenerationError when the target
    cannot be imported in the sandbox."""
    started = time.monotonic()
    source = tgt.file.read_text(encoding="utf-8")
    info = analyze_module(source)
    result = GenerationResult(target=target, module=tgt.module)
    test_file, existing, related_rel = test_file_and_related(tgt, out_dir)
    result.test_file = test_file
    result.existing_text = existing
    # Coverage before, measured in parallel with the search.
    before_thread, before = start_coverage_before(tgt, related_rel, policy, budget, cancel)

    # The search gets what the verification runs will not need.
    reserve = min(max(2.5, 0.3 * budget), 0.6 * budget)
    search_seconds = max(0.5, budget - reserve)
    import_timeout = max(2.0, min(10.0, budget * 0.5))
    try:
        outcome: SearchOutcome = run_search(
            tgt, info.to_json(), seed, search_seconds, policy,
            progress=lambda m, f: report(m, f * 0.8), cancel=cancel, import_timeout=import_timeout,
            mutation_seconds=mutation_seconds(search_seconds), budget_end=started + budget,
            user_tests=related_rel if out_dir is None else None)
    except ImportFailure as exc:
        before_thread.join(timeout=1)
        raise GenerationError(str(exc)) from None
    result.timings["search"] = time.monotonic() - started
    result.timings["contention"] = outcome.contention
    result.timings["verify_estimate"] = outcome.verify_estimate
    result.calls = outcome.calls
    result.sandbox_level = outcome.level
    result.errors.extend(e for e in outcome.errors if e != "cancelled")
    if "cancelled" in outcome.errors or (cancel is not None and cancel.is_set()):
        result.errors.append("cancelled")
        result.duration = time.monotonic() - started
        return result

    # A call that reaches nothing the user's tests do not already reach is no test to write.
    # Not with --out: a suite written elsewhere (a separate test tree, a benchmark) stands on
    # its own, so it keeps what it needs whatever the project's own tests cover.
    # The smallest set of kept calls that holds every arc and killed mutant they hold (select.py).
    entry = None
    if related_rel and out_dir is None:
        before_thread.join(timeout=max(0.5, budget - (time.monotonic() - started)))
        entry = before.get("entry")
        if not (entry and entry.get("executed_lines")):
            entry = None
    kept = minimal_suite(outcome.kept, outcome.cover, outcome.mutation, entry)
    result.calls_kept, result.calls_needed = len(outcome.kept), len(kept)
    if entry is not None and outcome.kept and not kept and not outcome.bugs:
        result.already_covered = before.get("tests", 0)
    params = {name: c.params for name, c in info.callables.items()}
    renderer = Renderer(taken=test_names(existing), source=source, params=params)
    tests: list[GeneratedTest] = []
    for c, o in kept:
        test = renderer.render(c, o)
        test.source = c.get("id")
        tests.append(test)
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
    # Cases of one callable that differ only in values: one parametrized test (split back into
    # its single tests by the verification when one of its cases fails).
    tests = parametrize(tests, params, taken=test_names(existing))
    # The user's style: import form, unittest.TestCase classes, fixtures (style.py).
    style = read_style(tgt.project, tgt.import_root, tgt.module, test_file, existing, related_rel)
    tests = apply_style(tests, style, tgt.module, taken=test_names(existing))
    result.style = style.describe() or None
    tests, bugs, final_entry = verify_tests(tgt, existing, tests, bugs, rel_test_path(tgt, test_file), policy,
                                            budget, started, cancel, result)
    result.timings["verify"] = time.monotonic() - started - result.timings["search"]
    finish(result, tgt, existing, tests, bugs, final_entry, before_thread, before, budget, started)
    result.mutation = mutation_summary(outcome.mutation, tests) if tests else None
    report("done", 1.0)
    return result
