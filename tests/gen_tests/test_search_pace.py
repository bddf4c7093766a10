"""The search's end under CPU contention (generate/offline/pace.py, shipped to the sandbox)."""

from __future__ import annotations

from codeloop.generate.offline import pace


class Stat:
    """A scripted /proc/self/schedstat: (seconds on a CPU, seconds waiting for one)."""

    def __init__(self) -> None:
        self.run = 0.0
        self.wait = 0.0

    def __call__(self) -> tuple[float, float]:
        return self.run, self.wait


def test_an_idle_machine_keeps_the_planned_end():
    stat = Stat()
    p = pace.Pace(started=0.0, end=14.0, budget_end=20.0, stat=stat)
    stat.run = 1.0
    assert p.end() == 14.0 and p.factor == 1.0


def test_a_busy_machine_ends_the_search_so_that_the_verification_fits():
    stat = Stat()
    p = pace.Pace(started=0.0, end=14.0, budget_end=20.0, stat=stat)
    for _ in range(100):
        p.kept(0.01)
    stat.run, stat.wait = 1.0, 9.0  # runnable 10 s for each second on a CPU
    p.measure()
    stat.run, stat.wait = 2.0, 18.0
    end = p.end()
    assert p.factor > 5.0
    assert end < 14.0
    # what is left of the budget covers the verification at this contention
    assert 20.0 - end >= p.slowdown() * p.verification() - 1e-9


def test_the_search_keeps_a_floor_and_no_budget_means_the_plan():
    stat = Stat()
    p = pace.Pace(started=0.0, end=10.0, budget_end=12.0, stat=stat)
    stat.run, stat.wait = 1.0, 500.0
    assert p.end() == 10.0 * pace.MIN_SHARE
    assert pace.Pace(0.0, 10.0, None, stat=stat).end() == 10.0


def test_host_times_from_another_clock_are_ignored():
    plan = {"search_seconds": 10, "budget_end": 105.0, "end_at": 50.0}
    assert pace.host_time(plan, "budget_end", now=100.0) == 105.0
    assert pace.host_time(plan, "end_at", now=100.0) is None  # in the past
    assert pace.host_time({"budget_end": 10_000.0}, "budget_end", now=100.0) is None
    assert pace.host_time({}, "budget_end") is None
    assert pace.read_schedstat() is None or len(pace.read_schedstat()) == 2
