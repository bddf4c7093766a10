"""Run an implementation candidate's checks in the sandbox and read the results.

One pytest run per candidate (:func:`verify_candidate`): the document with the
candidate in place, the developer's examples (:mod:`codeloop.verify.examples`), the
model-written tests (:func:`generated_tests_file`), the outputs probe
(:mod:`codeloop.verify.output_probe`) and the existing tests of the function, with
branch coverage of the function. :func:`read_results` turns the run into the
candidate's record: which checks passed, its outputs, what failed and whether it is
verified.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codeloop.audit import AuditReport
from codeloop.text import first_line
from codeloop.verify.examples import GUARD_LINES_ENV, ExampleResult, ExampleTests, map_results, runtime_guard
from codeloop.verify.output_probe import OUTPUT_MARK

GENERATED_TESTS_FILE = "test_codeloop_generated.py"
OUTPUTS_FILE = "test_codeloop_outputs.py"
TEST_SECONDS = 10  # one example or generated test that runs longer fails (a loop must not eat the run)


@dataclass
class CandidateRecord:
    """One candidate and everything that was found out about it."""

    id: str  # "c1".., "r1.1" (repair round 1 of ...)
    origin: str  # "sample" or "repair-<round>"
    model: str
    answer: str  # the model's raw answer
    prompt: list[dict[str, str]] = field(default_factory=list, repr=False)
    code: str = ""  # imports + helpers + function, as extracted
    function: str = ""
    new_text: str | None = None  # the document with this candidate applied
    func_lines: tuple[int, int] = (0, 0)  # 1-based first/last line of the function in new_text
    code_lines: tuple[tuple[int, int], ...] = ()  # 1-based ranges of all candidate code (helpers too)
    rejected: str | None = None  # why it never ran (extraction or audit)
    audit: AuditReport | None = None
    examples: list[ExampleResult] = field(default_factory=list)
    tests: dict[str, bool] = field(default_factory=dict)  # "generated::name" / "existing::nodeid"
    test_messages: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    coverage: float | None = None
    run_problem: str | None = None  # the sandbox stopped the run / could not import
    failures: list[str] = field(default_factory=list)
    verified: bool = False  # passes every user-written check, and an example or an existing test exists
    precall: set[str] = field(default_factory=set)  # model tests that failed before calling the function
    parent: str | None = None  # the candidate this one repairs
    log_id: int = 0

    @property
    def passes_checks(self) -> bool:
        """Ran, and passes every user-written check (examples, existing tests, return-type
        checks); the model's tests do not count (they are votes)."""
        return (self.rejected is None and self.run_problem is None and all(r.passed for r in self.examples)
                and all(ok for name, ok in self.tests.items() if not name.startswith("generated::")))

    def counts(self, prefix: str) -> tuple[int, int]:
        items = [ok for name, ok in self.tests.items() if name.startswith(prefix)]
        return sum(items), len(items)

    def evidence(self) -> str:
        """``3/3 examples, 12/12 generated tests pass, branch coverage 94 %, audit clean``."""
        if self.rejected:
            return f"rejected: {self.rejected}"
        parts = []
        if self.examples:
            parts.append(f"{sum(r.passed for r in self.examples)}/{len(self.examples)} examples")
        passed, total = self.counts("existing::")
        if total:
            parts.append(f"{passed}/{total} existing tests")
        passed, total = self.counts("generated::")
        if total:
            parts.append(f"{passed}/{total} model tests")
        passed, total = self.counts("property::")
        if total:
            parts.append(f"{passed}/{total} return-type checks")
        text = ", ".join(parts) + " pass" if parts else "no checks ran"
        if self.run_problem:
            text += f" ({self.run_problem})"
        if self.coverage is not None:
            text += f", branch coverage {self.coverage:.0f} %"
        if self.audit is not None:
            text += ", " + self.audit.summary()
        return text

    def to_checks(self) -> dict[str, Any]:
        """The checks and their results, as JSON data for the reward log."""
        return {
            "examples": [
                {"line": r.example.line + 1, "call": r.example.call, "expected": r.example.expected,
                 "passed": r.passed, "message": r.message}
                for r in self.examples
            ],
            "tests": dict(self.tests),
            "outputs": dict(self.outputs),
            "failures": list(self.failures),
            "run_problem": self.run_problem,
            "rejected": self.rejected,
        }


@dataclass(frozen=True)
class Checks:
    """What every candidate of one intent is run against."""

    examples: ExampleTests | None
    generated: str | None  # source of the model-written tests file
    generated_names: tuple[str, ...]
    outputs: str | None  # source of the shared-inputs probe
    existing: tuple[str, ...]  # node ids of existing tests that refer to the function
    existing_files: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.examples and self.examples.tests) and not self.generated_names and not self.existing

    @property
    def user_written(self) -> bool:
        """An example or an existing test exists: something the user wrote can tell right from wrong."""
        return bool(self.examples and self.examples.tests) or bool(self.existing)


_GEN_HEADER = """# Tests written by the model for {name}, run by codeloop in the sandbox.
import sys as _sys
if {root!r} not in _sys.path:
    _sys.path.insert(0, {root!r})
{guard}

import pytest as _codeloop_pytest


@_codeloop_pytest.fixture(autouse=True)
def _codeloop_guard_after_each_test():
    import signal

    def too_slow(signum, frame):
        raise TimeoutError("the test did not finish within {seconds} s")

    alarm = hasattr(signal, "SIGALRM")
    if alarm:
        signal.signal(signal.SIGALRM, too_slow)
        signal.alarm({seconds})
    yield
    if alarm:
        signal.alarm(0)
    _codeloop_check_guard()

"""


def generated_tests_file(code: str, name: str, import_root: str, guard_file: str, import_line: str | None) -> str:
    """The model's tests ``code`` as the file run in the sandbox: ``import_root`` on the
    path, the runtime guard of ``guard_file`` checked and a time limit after each test;
    ``import_line`` (``from mod import name``) when the tests do not import it themselves."""
    header = _GEN_HEADER.format(name=name, root=import_root, guard=runtime_guard(guard_file), seconds=TEST_SECONDS)
    if import_line:
        header += import_line + "\n"
    return header + "\n" + code + "\n"


def function_coverage(coverage: dict | None, file: str, lines: tuple[int, int]) -> float | None:
    """Line + branch coverage of the lines ``lines`` (inclusive) of ``file``, in percent."""
    if not coverage:
        return None
    files = coverage.get("files", {})
    entry = files.get(file) or files.get(os.path.realpath(file))
    if entry is None:
        return None
    lo, hi = lines
    executed = [n for n in entry.get("executed_lines", []) if lo < n <= hi]  # the def line itself does not count
    missing = [n for n in entry.get("missing_lines", []) if lo < n <= hi]
    eb = [b for b in entry.get("executed_branches", []) if lo <= b[0] <= hi]
    mb = [b for b in entry.get("missing_branches", []) if lo <= b[0] <= hi]
    total = len(executed) + len(missing) + len(eb) + len(mb)
    if total == 0:
        return None
    return 100.0 * (len(executed) + len(eb)) / total


def verify_candidate(rec: CandidateRecord, checks: Checks, workspace: Path, rel_path: str, file: Path, policy: Any,
                     cancel: threading.Event | None) -> None:
    """Run ``rec`` (its ``new_text`` as the document ``file``, ``rel_path`` in ``workspace``)
    against ``checks`` in one pytest run in the sandbox under ``policy``, with branch
    coverage; the results go onto ``rec``. Sandbox problems (SandboxUnavailable) raise."""
    from codeloop_sandbox import run_pytest  # looked up per call: tests replace it

    files: dict[str, str] = {rel_path: rec.new_text or ""}
    args: list[str] = ["-q"]
    if checks.examples and checks.examples.tests:
        files[checks.examples.path] = checks.examples.source
        args.append(checks.examples.path)
    if checks.generated:
        files[GENERATED_TESTS_FILE] = checks.generated
        args.append(GENERATED_TESTS_FILE)
    if checks.outputs:
        files[OUTPUTS_FILE] = checks.outputs
        args.append(OUTPUTS_FILE)
    args += list(checks.existing)
    env = {**(policy.env or {}), "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
           # The runtime guard watches only the candidate's lines, not the rest of the file.
           GUARD_LINES_ENV: ",".join(f"{lo}-{hi}" for lo, hi in rec.code_lines)}
    if not checks.existing:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only our files: no third-party plugins needed
    run_policy = replace(policy, env=env)
    pres = run_pytest(workspace, args, run_policy, coverage=True, cov_source=[str(file.parent)],
                      extra_files=files, cancel=cancel)
    read_results(rec, pres, file, checks)


def read_results(rec: CandidateRecord, pres: Any, file: Path, checks: Checks) -> None:
    """Put the results of the pytest run ``pres`` (of ``file`` against ``checks``) onto ``rec``."""
    res = pres.result
    if res.limit:
        what = {"timeout": f"timed out after {getattr(res, 'duration', 0):.0f} s", "output": "printed too much",
                "memory": "ran out of memory", "cpu": "used too much CPU", "cancelled": "was cancelled",
                "file_size": "wrote a file over the size limit", "scratch": "filled the scratch space"}
        rec.run_problem = f"the sandbox stopped the run: it {what.get(res.limit, res.limit)}"
        rec.failures.append(rec.run_problem)
    errors = [e for e in pres.errors if not e.startswith("coverage")]
    # The model's tests not importing is no fault of the candidate: those tests are dropped.
    model_errors = [e for e in errors if e.startswith(GENERATED_TESTS_FILE)]
    errors = [e for e in errors if not e.startswith(GENERATED_TESTS_FILE)]
    if errors:
        rec.failures += [f"could not run the checks: {first_line(e)}" for e in errors[:3]]
        if rec.run_problem is None:
            rec.run_problem = "the checks could not be collected"
    if checks.examples and checks.examples.tests:
        rec.examples = map_results(checks.examples, pres.tests, errors or ([rec.run_problem] if rec.run_problem else []))
        rec.failures += [r.message for r in rec.examples if not r.passed]
    for t in pres.tests:
        test_file, _, rest = t.nodeid.partition("::")
        base = os.path.basename(test_file)
        if base == OUTPUTS_FILE:
            msg = t.message or ""
            if t.outcome in ("failed", "error"):
                rec.tests[f"property::{rest}"] = False
                rec.failures.append(first_line(re.sub(r"^(E\s+)?AssertionError:\s*", "", first_line(msg))))
                continue
            pos = msg.find(OUTPUT_MARK)
            if pos >= 0:
                try:
                    data = json.loads(msg[pos + len(OUTPUT_MARK):])
                except ValueError:
                    data = {"out": "?", "typed": None}
                rec.outputs[rest] = str(data.get("out")) if isinstance(data, dict) else str(data)
                if isinstance(data, dict) and data.get("typed") is True:
                    rec.tests[f"property::{rest}"] = True
            continue
        if base == GENERATED_TESTS_FILE:
            key = f"generated::{rest}"
        elif t.nodeid in checks.existing or any(t.nodeid.startswith(e) for e in checks.existing):
            key = f"existing::{t.nodeid}"
        else:
            continue
        ok = t.outcome in ("passed", "xfailed")
        if t.outcome == "skipped":
            continue
        rec.tests[key] = ok
        if not ok:
            rec.test_messages[key] = t.message
            if key.startswith("generated::") and fails_before_call(t):
                rec.precall.add(key)
            rec.failures.append(f"{key.split('::', 1)[1]} failed: {first_line(t.message)}" + detail_tail(t.longrepr))
    # Tests that never reported (the file did not import, the run was stopped) failed.
    for name in checks.generated_names:
        key = f"generated::{name}"
        if key not in rec.tests:
            rec.tests[key] = False
            if model_errors or not rec.run_problem:  # the tests file did not import
                rec.precall.add(key)
    for nodeid in checks.existing:
        rec.tests.setdefault(f"existing::{nodeid}", False)
    rec.coverage = function_coverage(pres.coverage, str(file), rec.func_lines)
    rec.verified = checks.user_written and rec.passes_checks


_PRECALL_ERRORS = ("NameError", "ImportError", "ModuleNotFoundError", "SyntaxError", "IndentationError",
                   "UnboundLocalError", "AttributeError: module")


def fails_before_call(t: Any) -> bool:
    """The model test ``t`` (a failed sandbox TestOutcome) failed in its own code before
    the function under test ran: a placeholder (``NameError: name '____'``), an import or
    syntax error, a fixture that does not exist. Told by the innermost traceback frame
    being in the tests file, or without frames by the message alone."""
    message = str(getattr(t, "message", "") or "")
    head = re.sub(r"^E\s+", "", first_line(message))
    if t.outcome == "error" and "fixture" in message and "not found" in message:
        return True
    if not head.startswith(_PRECALL_ERRORS):
        return False
    frames = list(getattr(t, "frames", None) or [])
    if frames:
        return os.path.basename(str(frames[-1].path)) == GENERATED_TESTS_FILE
    return bool(re.match(r"NameError: name '_+'", head))


def detail_tail(detail: str, limit: int = 800) -> str:
    """The telling lines of a pytest failure report (source line, ``E`` lines, locations)
    for repair feedback: the failing assertion, the inputs, the traceback, the output."""
    keep = [ln.rstrip() for ln in str(detail or "").splitlines()
            if ln.startswith((">", "E ")) or re.match(r"^\S+\.py:\d+", ln)]
    keep = [ln for ln in keep if ln.strip() not in ("E", ">")]
    if not keep:
        return ""
    tail = "\n".join(keep[-14:])
    return "\n" + (tail if len(tail) <= limit else tail[-limit:])
