"""choose_plan: how implement splits its budget between samples and repairs, from a real log."""

from __future__ import annotations

import pytest

from codeloop.config import GenerateSettings, ModelSettings, Settings
from codeloop.learn import Outcome, RewardLog
from codeloop.learn.plan import MIN_ATTEMPTS, Plan, choose_plan, strategy_rates

WS = "/home/dev/project"


def settings(n: int = 4, rounds: int = 2) -> Settings:
    return Settings(model=ModelSettings(candidates=n), generate=GenerateSettings(repair_rounds=rounds))


def record(log: RewardLog, strategy: str, verified: bool, count: int = 1, ws: str = WS, kind: str = "implement") -> None:
    for i in range(count):
        log.record(Outcome(workspace=ws, intent_kind=kind, prompt=[{"role": "user", "content": f"{strategy} {i}"}],
                           model="m", candidate="def f():\n    return 1\n", verified=verified, strategy=strategy))


def test_no_evidence_gives_the_configured_defaults(log):
    assert choose_plan(log, WS, "implement", settings(4, 2)) == Plan(4, 2)
    assert choose_plan(log, WS, "implement", settings(3, 0)) == Plan(3, 0)
    # Too little evidence: still the defaults.
    record(log, "sample", False, MIN_ATTEMPTS)
    record(log, "repair-1", True, MIN_ATTEMPTS - 1)
    assert choose_plan(log, WS, "implement", settings(4, 2)) == Plan(4, 2)


def test_repairs_verifying_often_cut_the_samples(log):
    record(log, "sample", False, 8)
    record(log, "repair-1", True, 3)
    record(log, "repair-2", True, 1)
    plan = choose_plan(log, WS, "implement", settings(4, 2))
    # sample rate 1/10, repair rate 5/6: ceil(4 * 0.1 / 0.833) = 1 sample; rounds stay at their cap.
    assert (plan.samples, plan.repair_rounds, plan.scope) == (1, 2, "workspace")
    assert plan.sample_rate == pytest.approx(0.1) and plan.repair_rate == pytest.approx(5 / 6)
    assert "workspace evidence" in plan.describe()
    # Another intent kind has no evidence of its own.
    assert choose_plan(log, WS, "from_comment", settings(4, 2)) == Plan(4, 2)


def test_samples_verifying_often_cut_the_repair_rounds(log):
    record(log, "sample", True, 8)
    record(log, "repair-1", False, 4)
    plan = choose_plan(log, WS, "implement", settings(4, 2))
    # sample rate 9/10, repair rate 1/6: round(2 * 0.185) = 0 rounds; samples stay at their cap.
    assert (plan.samples, plan.repair_rounds) == (4, 0)


def test_close_rates_keep_the_defaults(log):
    record(log, "sample", True, 3)
    record(log, "sample", False, 3)
    record(log, "repair-1", True, 2)
    record(log, "repair-1", False, 2)
    plan = choose_plan(log, WS, "implement", settings(4, 2))
    assert (plan.samples, plan.repair_rounds, plan.scope) == (4, 2, "workspace")  # both 50 %: evidence, no shift


def test_workspace_evidence_beats_global(log):
    # Elsewhere repairs win; here samples win: each workspace gets its own plan.
    record(log, "sample", False, 6, ws="/elsewhere")
    record(log, "repair-1", True, 6, ws="/elsewhere")
    record(log, "sample", True, 6)
    record(log, "repair-1", False, 6)
    here = choose_plan(log, WS, "implement", settings(4, 2))
    there = choose_plan(log, "/elsewhere", "implement", settings(4, 2))
    assert (here.samples, here.repair_rounds, here.scope) == (4, 0, "workspace")
    assert (there.samples, there.repair_rounds, there.scope) == (1, 2, "workspace")
    # A new workspace falls back to all of them (12 samples with 6 verified, 12 repairs with 6: even).
    assert choose_plan(log, "/new", "implement", settings(4, 2)) == Plan(4, 2, "global", 0.5, 0.5)


def test_global_evidence_used_when_the_workspace_has_too_little(log):
    record(log, "sample", False, 6, ws="/elsewhere")
    record(log, "repair-1", True, 6, ws="/elsewhere")
    record(log, "sample", True, 1)  # this workspace: not enough to decide
    plan = choose_plan(log, WS, "implement", settings(4, 2))
    assert (plan.samples, plan.scope) == (2, "global")  # rates 2/9 and 7/8: ceil(4 * 0.254) = 2


def test_unknown_strategies_are_not_weighed():
    rows = [Outcome(WS, "implement", [], "m", "", True, strategy="low-temperature")]
    assert {k: (v.tried, v.verified) for k, v in strategy_rates(rows).items()} == {"sample": (0, 0), "repair": (0, 0)}


def test_cli_stats_by_strategy_prints_the_next_plan(log, tmp_path, capsys):
    import os

    from codeloop.cli import main

    ws = tmp_path / "proj"
    ws.mkdir()
    (ws / "pyproject.toml").write_text("[tool.codeloop.model]\ncandidates = 10\n[tool.codeloop.generate]\nrepair_rounds = 3\n")
    record(log, "sample", False, 8, ws=os.fspath(ws))
    record(log, "repair-1", True, 4, ws=os.fspath(ws))
    record(log, "sample", True, 3)  # another workspace: not in the table
    assert main(["stats", "--by", "strategy", "--workspace", str(ws), "--db", str(log.path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:2] == ["strategy", "intent"]
    sample = next(line for line in out.splitlines() if line.startswith("sample"))
    assert sample.split()[2:4] == ["8", "0"]  # 8 requests here, none verified
    assert "next implement run: 2 samples, 3 repair rounds (workspace evidence: samples verify 10%, repairs 83%)" in out
