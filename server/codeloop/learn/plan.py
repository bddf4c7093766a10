"""Use the reward log to decide how implement spends its budget.

Implement asks for ``samples`` first-round candidates, then, when none verified, runs
up to ``repair_rounds`` repair requests (one candidate each). Both are capped by the
settings (``model.candidates``, ``generate.repair_rounds``); the plan only ever lowers
one of them, never raises either.

The evidence is the per-candidate verified rate of the ``sample`` strategy against the
``repair-*`` strategies for the same intent kind, Laplace-smoothed. This workspace's
log counts when it has at least :data:`MIN_ATTEMPTS` candidates of each; otherwise all
workspaces; otherwise the configured defaults, unchanged. When one strategy verifies
clearly more often (by :data:`MARGIN`), the other is cut in proportion to the ratio of
the rates:

* repairs better: ``samples = ceil(candidates * sample_rate / repair_rate)`` (at least 1);
* samples better: ``repair_rounds = round(rounds * repair_rate / sample_rate)`` (may be 0).

Repairs are only tried after every sample failed, so their rate is measured on the
harder prompts; the margin keeps small differences from moving the plan.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from codeloop.learn.log import Brief, DisabledLog, RewardLog, Row

# Candidates of each strategy needed before a scope's rates are trusted.
MIN_ATTEMPTS = 3
# How much better (absolute, smoothed) one strategy must verify to shift the budget.
MARGIN = 0.2


@dataclass(frozen=True)
class StrategyRate:
    """Verified candidates out of tried ones, for one family of strategies."""

    tried: int = 0
    verified: int = 0

    @property
    def smoothed(self) -> float:
        return (self.verified + 1) / (self.tried + 2)


@dataclass(frozen=True)
class Plan:
    """How many first-round samples and how many repair rounds to spend."""

    samples: int
    repair_rounds: int
    scope: str = "defaults"  # "workspace", "global" or "defaults": where the evidence came from
    sample_rate: float | None = None  # smoothed rates the decision used (None: no evidence)
    repair_rate: float | None = None

    def describe(self) -> str:
        budget = (f"{self.samples} sample{'s' if self.samples != 1 else ''}, "
                  f"{self.repair_rounds} repair round{'s' if self.repair_rounds != 1 else ''}")
        if self.sample_rate is None or self.repair_rate is None:
            return f"{budget} (configured defaults)"
        return (f"{budget} ({self.scope} evidence: samples verify {self.sample_rate:.0%}, "
                f"repairs {self.repair_rate:.0%})")


def family(strategy: str) -> str | None:
    """``sample`` or ``repair`` (None: a strategy the plan does not weigh)."""
    if strategy == "sample":
        return "sample"
    if strategy.startswith("repair-"):
        return "repair"
    return None


def strategy_rates(rows: Iterable[Row | Brief | Any]) -> dict[str, StrategyRate]:
    """Per-candidate rates of the ``sample`` and ``repair`` families in ``rows``."""
    tried = {"sample": 0, "repair": 0}
    verified = {"sample": 0, "repair": 0}
    for row in rows:
        fam = family(row.strategy)
        if fam is not None:
            tried[fam] += 1
            verified[fam] += bool(row.verified)
    return {f: StrategyRate(tried[f], verified[f]) for f in tried}


def _enough(rates: dict[str, StrategyRate]) -> bool:
    return all(r.tried >= MIN_ATTEMPTS for r in rates.values())


def configured_budget(settings: Any) -> tuple[int, int]:
    """``(model.candidates, generate.repair_rounds)`` from settings, with implement's defaults."""
    n = max(1, int(getattr(getattr(settings, "model", None), "candidates", 4) or 4))
    rounds = max(0, int(getattr(getattr(settings, "generate", None), "repair_rounds", 2)))
    return n, rounds


def choose_plan(
    log: RewardLog | DisabledLog | Iterable[Row | Brief],
    workspace: str,
    intent_kind: str,
    settings: Any,
) -> Plan:
    """The budget for the next implement run in ``workspace`` on an intent of ``intent_kind``."""
    n, rounds = configured_budget(settings)
    rows = list(log.briefs(intent_kind) if isinstance(log, (RewardLog, DisabledLog)) else log)
    rows = [r for r in rows if r.intent_kind == intent_kind]
    scope, rates = "workspace", strategy_rates(r for r in rows if r.workspace == str(workspace))
    if not _enough(rates):
        scope, rates = "global", strategy_rates(rows)
    if not _enough(rates):
        return Plan(n, rounds)
    s, r = rates["sample"].smoothed, rates["repair"].smoothed
    samples, repairs = n, rounds
    if r - s >= MARGIN:
        samples = min(n, max(1, math.ceil(n * s / r)))
    elif s - r >= MARGIN:
        repairs = min(rounds, max(0, math.floor(rounds * r / s + 0.5)))
    return Plan(samples, repairs, scope, s, r)
