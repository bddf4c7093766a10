"""When the search must end so that the whole budget covers the work after it.

Runs in the sandbox next to the driver (copied as ``_codeloop_pace.py``; standard library
only). The host plans the search's end on the assumption that the work after it (rendering,
then the verification: two pytest processes over the suite, in the sandbox) takes the share of
the budget it sets aside. When other processes compete for the cores, that work is slower by a
share (:data:`FELT`) of the factor this process waits for a CPU, so the search ends earlier: by
the verification's estimated idle cost times that slowdown. On an idle machine nothing changes.

The factor comes from ``/proc/self/schedstat`` (time on a CPU, time runnable but waiting for
one): a measure of contention that a target sleeping or waiting on I/O does not distort. Without
that file (not Linux) the plan stands as it is.
"""

from __future__ import annotations

import time

# Idle cost of one verification run (seconds): a pytest process under coverage in the sandbox,
# plus per test and the calls' own CPU time. Calibrated on the wide set (toposort: 5 tests 0.9 s;
# multiset: 158 tests 2.3 s; pyrsistent._pmap: 98 tests 3.7 s).
RUN_FIXED = 0.9
PER_TEST = 0.01
CALLS_FACTOR = 1.0  # a kept call runs again in the test (with its set-up)
MIN_SHARE = 0.3  # the search keeps at least this share of its planned time
# How much of the driver's contention the verification feels: its pytest runs are partly start-up
# and file reads, and run two at a time. Measured (multiset): at contention 2.5-3 (load ~7) a run
# took 1.0-1.3x its idle estimate; with busy loops pinned to its core, 2.1x at contention 4.0 and
# 3.1x at 3.6 (each sandbox is its own session, so the factor varies with who competes).
FELT = 0.6
SMOOTH = 0.5  # weight of the latest measurement in the contention factor


def read_schedstat() -> tuple[float, float] | None:
    """(seconds on a CPU, seconds runnable but waiting) of this process, or None."""
    try:
        with open("/proc/self/schedstat", encoding="ascii") as fh:
            run_ns, wait_ns = fh.read().split()[:2]
        return int(run_ns) / 1e9, int(wait_ns) / 1e9
    except (OSError, ValueError):
        return None


class Pace:
    """The search's end, moved earlier when the machine is busy.

    ``end`` is the planned end (monotonic seconds, the clock the host shares); ``budget_end``
    is when the host's whole budget runs out (None: not known, the plan stands); ``started``
    is when the search began.
    """

    def __init__(self, started: float, end: float, budget_end: float | None, stat=read_schedstat) -> None:
        self.planned = end
        self.budget_end = budget_end
        self.floor = started + MIN_SHARE * max(0.0, end - started)
        self.stat = stat
        self.last = stat()
        self.factor = 1.0
        self.tests = 0
        self.calls_cpu = 0.0

    def kept(self, cpu: float) -> None:
        """A call was kept (a test to verify); ``cpu`` is what it cost here."""
        self.tests += 1
        self.calls_cpu += max(0.0, cpu)

    def measure(self) -> float:
        """Update the contention factor from the time since the last measurement."""
        now = self.stat()
        if now is not None and self.last is not None:
            ran, waited = now[0] - self.last[0], now[1] - self.last[1]
            if ran >= 0.05:  # too little CPU time since the last look says nothing
                sample = (ran + max(0.0, waited)) / ran
                self.factor = max(1.0, (1 - SMOOTH) * self.factor + SMOOTH * sample)
                self.last = now
        elif now is not None:
            self.last = now
        return self.factor

    def slowdown(self) -> float:
        """How much slower than on an idle machine the verification will run."""
        return 1.0 + FELT * (self.factor - 1.0)

    def verification(self) -> float:
        """The verification's estimated idle cost (one run) for the calls kept so far."""
        return RUN_FIXED + PER_TEST * self.tests + CALLS_FACTOR * self.calls_cpu

    def end(self) -> float:
        """The search's end now: the planned one, or earlier so that the verification, at
        the current contention, ends within the budget (never before the floor)."""
        if self.budget_end is None:
            return self.planned
        self.measure()
        latest = self.budget_end - self.slowdown() * self.verification()
        return max(self.floor, min(self.planned, latest))


def host_time(plan: dict, key: str, now: float | None = None) -> float | None:
    """A monotonic time the host wrote in the plan (``budget_end``, ``end_at``), when the clocks
    agree: one in the past or far ahead means another clock, and is ignored."""
    at = plan.get(key)
    if at is None:
        return None
    now = time.monotonic() if now is None else now
    ahead = float(at) - now
    return float(at) if 0 < ahead < float(plan.get("search_seconds", 10)) + 120 else None
