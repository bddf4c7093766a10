"""The offline engine's input search in the sandbox: run the driver, survive crashes, collect calls.

The code under test only ever runs inside ``codeloop_sandbox.run``. When a call kills
the driver (``os._exit``, a hang in C code, a crash), the run is restarted with that
candidate skipped and the calls kept so far replayed, so one hostile input cannot
end the search.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from codeloop.generate.targets import Target
from codeloop.job import Progress
from codeloop_sandbox import Policy, run

# The driver and its input pools run inside the sandbox; they live with the offline engine.
DRIVER_DIR = Path(__file__).resolve().parent.parent / "generate" / "offline"
MARK = "@@codeloop-testgen@@ "
WORK_DIR = ".codeloop-testgen"
MAX_RESTARTS = 4


class ImportFailure(Exception):
    """The target module cannot be imported in the sandbox (bad input: exit 2)."""


@dataclass
class SearchOutcome:
    kept: list[tuple[dict, dict]] = field(default_factory=list)  # (candidate, observation)
    bugs: list[dict] = field(default_factory=list)
    calls: int = 0
    arcs: int = 0
    complete: bool = False
    restarts: int = 0
    errors: list[str] = field(default_factory=list)
    level: str | None = None
    # The mutation run: {"mutants", "sampled", "tried", "killed", "killers": [[call id, ...] per
    # killed mutant], "survivors": ["Class.method line 12: < -> <=", ...]}; None when not run.
    mutation: dict | None = None
    # Per kept call id: every arc it reaches on its own ([from, to] pairs, traced after the search).
    cover: dict[str, list] = field(default_factory=dict)
    contention: float = 1.0  # wall seconds per CPU second the driver saw (1: an idle machine)
    verify_estimate: float = 0.0  # the driver's estimate of one verification run on an idle machine


def driver_files(plan: dict) -> dict[str, str]:
    """The files the driver needs in the scratch copy (never in the original project): its parts
    (the package ``search``) go beside it as the package ``_codeloop_search``."""
    parts = {f"{WORK_DIR}/_codeloop_search/{p.name}": p.read_text(encoding="utf-8")
             for p in sorted((DRIVER_DIR / "search").glob("*.py"))}
    return {
        f"{WORK_DIR}/driver.py": (DRIVER_DIR / "driver.py").read_text(encoding="utf-8"),
        **parts,
        f"{WORK_DIR}/_codeloop_inputs.py": (DRIVER_DIR / "inputs.py").read_text(encoding="utf-8"),
        f"{WORK_DIR}/_codeloop_objects.py": (DRIVER_DIR / "objects.py").read_text(encoding="utf-8"),
        f"{WORK_DIR}/_codeloop_mutants.py": (DRIVER_DIR / "mutants.py").read_text(encoding="utf-8"),
        f"{WORK_DIR}/_codeloop_pace.py": (DRIVER_DIR / "pace.py").read_text(encoding="utf-8"),
        f"{WORK_DIR}/_codeloop_portable.py": (DRIVER_DIR / "portable.py").read_text(encoding="utf-8"),
        f"{WORK_DIR}/_codeloop_shapes.py": (DRIVER_DIR / "shapes.py").read_text(encoding="utf-8"),
        f"{WORK_DIR}/plan.json": json.dumps(plan),
    }


def parse_events(stdout: str) -> list[dict]:
    events = []
    for line in stdout.splitlines():
        idx = line.find(MARK)
        if idx < 0:
            continue
        try:
            events.append(json.loads(line[idx + len(MARK):]))
        except json.JSONDecodeError:
            continue  # a line cut by a crash or by output the code under test interleaved
    return events


class _ProgressFeed:
    """Turns streamed driver output into progress callbacks."""

    def __init__(self, progress: Progress | None, total: float, started: float) -> None:
        self.progress = progress
        self.total = total
        self.started = started
        self.buf = ""
        self.lock = threading.Lock()

    def __call__(self, stream: str, text: str) -> None:
        if stream != "stdout" or self.progress is None:
            return
        with self.lock:
            self.buf += text
            lines = self.buf.split("\n")
            self.buf = lines.pop()
        for line in lines:
            if MARK + '{"ev": "progress"' not in line:
                continue
            try:
                ev = json.loads(line[line.index(MARK) + len(MARK):])
            except (ValueError, json.JSONDecodeError):
                continue
            spent = time.monotonic() - self.started
            with contextlib.suppress(Exception):  # a broken progress callback never stops the search
                self.progress(f"{ev.get('func')}: {ev.get('calls')} calls, {ev.get('arcs')} arcs",
                              min(1.0, spent / max(self.total, 0.1)))


def run_search(
    target: Target,
    analysis: dict,
    seed: int,
    seconds: float,
    policy: Policy,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    import_timeout: float = 10.0,
    call_timeout: float = 1.0,
    mutation_seconds: float = 0.0,
    user_tests: list[str] | None = None,
    budget_end: float | None = None,
) -> SearchOutcome:
    """Search for calls that add branch coverage, within ``seconds`` of wall time, the last
    ``mutation_seconds`` of which go to the mutation run over the kept calls (and over
    ``user_tests``, the project's tests of the target, paths under its root). ``budget_end``
    (monotonic) is when the caller's whole budget ends: the driver ends the search earlier
    when a busy machine would make the work after it overrun (:mod:`~codeloop.generate.offline.pace`)."""
    outcome = SearchOutcome()
    started = time.monotonic()
    deadline = started + seconds
    kept_ids: set[str] = set()
    skip: list[str] = []
    resume: dict[str, int] = {}
    bug_ids: set[str] = set()
    feed = _ProgressFeed(progress, seconds, started)
    for attempt in range(MAX_RESTARTS + 1):
        remaining = deadline - time.monotonic()
        if attempt and remaining < 0.5:
            break
        plan = {
            "module": target.module,
            "file": str(target.file),
            "import_root": str(target.import_root),
            "project": str(target.project),
            "member": target.member,
            "analysis": analysis,
            "seed": seed,
            "search_seconds": max(0.2, remaining),
            "end_at": deadline,
            "budget_end": budget_end,
            "mutation_seconds": min(mutation_seconds, 0.5 * max(0.2, remaining)),
            "call_timeout": call_timeout,
            "import_timeout": import_timeout,
            "skip": skip,
            "resume": resume,
            "replay": [c for c, _ in outcome.kept],
            "user_tests": list(user_tests or []),  # run under the mutants the kept calls kill
        }
        run_policy = replace(
            policy,
            timeout=max(1.0, remaining) + import_timeout + 3.0,
            max_output_kib=max(policy.max_output_kib, 64 * 1024),
            env={**(policy.env or {}), "PYTHONPATH": str(target.import_root), "PYTHONHASHSEED": "0"},
        )
        res = run(["python", f"{WORK_DIR}/driver.py", f"{WORK_DIR}/plan.json"], target.project,
                  policy=run_policy, cwd=target.project, extra_files=driver_files(plan),
                  on_output=feed, cancel=cancel)
        outcome.level = res.level
        events = parse_events(res.stdout)
        kinds = {e.get("ev") for e in events}
        if "imported" not in kinds:
            if res.cancelled:
                outcome.errors.append("cancelled")
                return outcome
            err = next((e for e in events if e.get("ev") == "import_error"), None)
            if err:
                raise ImportFailure(err["msg"])
            if res.timed_out or res.limit == "timeout":
                raise ImportFailure(f"importing {target.module} did not finish within {import_timeout:g} s")
            if res.limit:
                raise ImportFailure(f"importing {target.module} hit the sandbox's {res.limit} limit")
            tail = res.stderr.strip().splitlines()[-1:] or [""]
            raise ImportFailure(
                f"importing {target.module} ended the process (exit code {res.exit_code}) {tail[0]}".strip())
        last_start: dict | None = None
        for ev in events:
            kind = ev.get("ev")
            if kind == "s":
                last_start = ev
                fn = ev["id"].rsplit("#", 1)[0]
                resume[fn] = max(resume.get(fn, 0), int(ev.get("n", 0)))
            elif kind == "keep" and ev["cand"]["id"] not in kept_ids:
                kept_ids.add(ev["cand"]["id"])
                outcome.kept.append((ev["cand"], ev["obs"]))
            elif kind == "bug" and ev["cand"]["id"] not in bug_ids:
                bug_ids.add(ev["cand"]["id"])
                outcome.bugs.append(ev)
            elif kind == "progress":
                outcome.calls = max(outcome.calls, int(ev.get("calls", 0)))
                outcome.arcs = max(outcome.arcs, int(ev.get("arcs", 0)))
            elif kind == "mutation":
                outcome.mutation = ev
            elif kind == "cover":
                outcome.cover.update(ev.get("arcs") or {})
            elif kind == "end":
                outcome.calls = max(outcome.calls, int(ev.get("calls", 0)))
                outcome.arcs = max(outcome.arcs, int(ev.get("arcs", 0)))
                outcome.complete = bool(ev.get("complete"))
                outcome.contention = float(ev.get("contention", 1.0))
                outcome.verify_estimate = float(ev.get("verify_estimate", 0.0))
        if "end" in kinds or res.cancelled:
            if res.cancelled:
                outcome.errors.append("cancelled")
            return outcome
        if "mutation_start" in kinds:  # the search was over; a mutant ended the process
            outcome.errors.append("the mutation run ended the search process; no mutation score")
            return outcome
        # The driver died mid-search: skip the call that was running and carry on.
        outcome.restarts += 1
        if last_start is not None:
            skip.append(last_start["id"])
            outcome.errors.append(f"a call to {last_start['id'].rsplit('#', 1)[0]} ended the search process"
                                  f" ({'time limit' if res.timed_out else f'exit code {res.exit_code}'}); skipped it")
        else:
            outcome.errors.append(f"the search process ended early (exit code {res.exit_code})")
            break
    return outcome
