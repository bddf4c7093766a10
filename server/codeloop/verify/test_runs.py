"""Generated tests in the sandbox: runs, verification and coverage of a target file.

The test-generation engines (:mod:`codeloop.generate.offline.engine`,
:mod:`codeloop.generate.llm_tests`) write test text; every pytest run of it happens here:
the import probe, the existing tests' coverage ("before"), two parallel processes with
different hash seeds (failing and flaky tests show up in at least one), the drop-until-clean
verification, and coverage.py's JSON read back (per file, combined over runs). The test
file is passed as text and never written to the project.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from pathlib import Path

from codeloop.generate.merge import merge_tests
from codeloop.generate.targets import Target
from codeloop.generate.tests_model import GeneratedTest, GenerationError, GenerationResult, ProbableBug
from codeloop_sandbox import Policy, PytestResult, run_pytest

VERIFY_ROUNDS = 4  # the first runs two processes (hash seeds 1 and 2) in parallel
PROBE_FILE = ".codeloop-testgen/test_codeloop_import_probe.py"


# -- coverage.py's JSON ---------------------------------------------------------------------


def file_entry(pres: PytestResult, file: Path) -> dict | None:
    """coverage.py's JSON entry of ``file`` in a run (None: not measured)."""
    files = (pres.coverage or {}).get("files", {})
    return files.get(str(file)) or files.get(os.path.realpath(file))


def file_coverage(pres: PytestResult, file: Path) -> float | None:
    entry = file_entry(pres, file)
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


# -- runs -----------------------------------------------------------------------------------


def _cov_source(target: Target) -> list[str]:
    return [str(target.file.parent)]


def verify_policy(policy: Policy, target: Target, hashseed: int, timeout: float, plugins: bool = True) -> Policy:
    """Policy for a pytest run; ``plugins=False`` skips third-party plugin autoload.

    Generated tests only use pytest itself, and autoloading every installed plugin can
    cost seconds per run, so runs of the new file alone go without them.
    """
    env = {**(policy.env or {}), "PYTHONPATH": str(target.import_root), "PYTHONHASHSEED": str(hashseed)}
    if not plugins:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return replace(policy, env=env, timeout=max(5.0, timeout))


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
                          policy=verify_policy(policy, tgt, 0, budget, plugins=False), coverage=True,
                          cov_source=_cov_source(tgt), cancel=cancel)
        if pres.result.limit:
            return  # unknown: the existing tests did not finish within the budget
        before["entry"] = file_entry(pres, tgt.file)
        before["value"] = file_coverage(pres, tgt.file) or 0.0
        before["tests"] = sum(1 for t in pres.tests if t.outcome == "passed")

    thread = threading.Thread(target=measure, name="codeloop-cov-before", daemon=True)
    thread.start()
    return thread, before


def adds_coverage(arcs: list, entry: dict | None) -> bool:
    """Whether a call's arcs (``[from, to]`` line pairs, negative = function entry/exit) reach
    anything the existing tests' coverage ``entry`` does not: a branch they did not take, or
    a line they did not run."""
    if not entry:
        return True
    lines = set(entry.get("executed_lines", []))
    statements = lines | set(entry.get("missing_lines", []))
    taken = {tuple(b) for b in entry.get("executed_branches", [])}
    branches = taken | {tuple(b) for b in entry.get("missing_branches", [])}
    for a, b in (tuple(x) for x in arcs):
        if (a, b) in branches:
            if (a, b) not in taken:
                return True
        elif any(x > 0 and x in statements and x not in lines for x in (a, b)):
            return True
    return False


def run_test_file(tgt: Target, rel_test: str, text: str, policy: Policy, hashseed: int, timeout: float,
                  coverage: bool, cancel: threading.Event | None) -> PytestResult:
    """Run one test file (given as text, never written to the project) in the sandbox."""
    return run_pytest(tgt.project, args=["-q", "-p", "no:cacheprovider", rel_test],
                      policy=verify_policy(policy, tgt, hashseed, timeout, plugins=False),
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


def probe_import(tgt: Target, policy: Policy, budget: float, cancel: threading.Event | None) -> dict | None:
    """Import the target under coverage in the sandbox: its executable lines and branches.

    Also the clear bad-input error when the module cannot be imported (an ``ImportError``,
    ``sys.exit`` or an endless loop at import time).
    """
    text = f"import {tgt.module}\n\n\ndef test_codeloop_imports():\n    pass\n"
    pres = run_test_file(tgt, PROBE_FILE, text, policy, 0, max(5.0, min(30.0, budget)), True, cancel)
    if pres.result.cancelled:
        return None
    ok = [t for t in pres.tests if t.outcome == "passed"]
    if not ok:
        why = (pres.errors[0] if pres.errors else "") or (pres.tests[0].message if pres.tests else "") \
            or (f"sandbox {pres.result.limit} limit" if pres.result.limit else "no test ran")
        raise GenerationError(f"cannot import {tgt.module} in the sandbox: {' '.join(why.split())[:300]}")
    return file_entry(pres, tgt.file)


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


# -- verification ---------------------------------------------------------------------------


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
            return tests, bugs, file_entry(runs[0], tgt.file)
        # A parametrized test with a failing case goes back to its single tests (next round).
        split = {t.name: t.parts for t in bad if t.parts}
        if split:
            tests = [p for t in tests for p in (split.get(t.name) or [t])]
            bad = [t for t in bad if t.name not in split]
            if not bad:
                continue
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
