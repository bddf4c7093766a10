"""Use the reward log: pass rates, and which model to try first.

A *request* is one prompt sent to one model (all candidates and repairs for the same
prompt hash and model); it succeeded when any of its candidates verified. Rates are
per request, so a model that needs four samples to get one right is not punished
four times.

:func:`choose_models` keeps the configured order (by convention cheapest or local
first, strongest last: escalation goes down the list) but moves a model that has
clearly been failing in this workspace for this kind of intent behind the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from codeloop.learn.log import Brief, DisabledLog, RewardLog, Row

# A model is demoted once it has this many requests and a smoothed pass rate below the bar.
MIN_REQUESTS = 3
PASS_BAR = 0.5


@dataclass(frozen=True)
class Rate:
    """Pass rates of one (model, intent kind) pair."""

    model: str
    intent_kind: str
    requests: int  # prompts sent (distinct prompt hash)
    requests_verified: int  # prompts for which some candidate verified
    candidates: int
    candidates_verified: int
    accepted: int  # candidates the user accepted
    rejected_by_user: int

    @property
    def rate(self) -> float:
        """Verified-pass rate per request (0 when there were none)."""
        return self.requests_verified / self.requests if self.requests else 0.0

    @property
    def smoothed(self) -> float:
        """Laplace-smoothed rate, so one lucky request does not decide."""
        return (self.requests_verified + 1) / (self.requests + 2)


def pass_rates(rows: Iterable[Row | Brief | Any], *, by_strategy: bool = False) -> list[Rate]:
    """Rates per (model, intent kind) [or per (strategy, intent kind)], sorted by name.

    ``rows``: :class:`Row` or :class:`Brief` objects (anything with their fields)."""
    requests: dict[tuple[str, str], dict[str, bool]] = {}
    cands: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        key = (row.strategy if by_strategy else row.model, row.intent_kind)
        per = requests.setdefault(key, {})
        per[row.prompt_hash] = per.get(row.prompt_hash, False) or row.verified
        cands.setdefault(key, []).append(row)
    out = []
    for key in sorted(requests):
        rs = cands[key]
        out.append(
            Rate(
                model=key[0],
                intent_kind=key[1],
                requests=len(requests[key]),
                requests_verified=sum(requests[key].values()),
                candidates=len(rs),
                candidates_verified=sum(r.verified for r in rs),
                accepted=sum(1 for r in rs if r.accepted is True),
                rejected_by_user=sum(1 for r in rs if r.accepted is False),
            )
        )
    return out


def choose_models(
    log: RewardLog | DisabledLog | Iterable[Row | Brief],
    workspace: str,
    intent_kind: str,
    configured_models: Sequence[str],
) -> list[str]:
    """The order in which to try ``configured_models`` for this workspace and intent kind.

    Evidence from this workspace counts first; without enough of it, the same intent
    kind in all workspaces is used. Models that are clearly failing (at least
    :data:`MIN_REQUESTS` requests, smoothed pass rate under :data:`PASS_BAR`) go
    last, the rest keep the configured order; ties keep the configured order too.
    """
    models = list(dict.fromkeys(m for m in configured_models if m))
    if len(models) <= 1:
        return models
    rows = list(log.briefs(intent_kind) if isinstance(log, (RewardLog, DisabledLog)) else log)
    rows = [r for r in rows if r.intent_kind == intent_kind and r.model in models]
    local = {r.model: r for r in pass_rates(x for x in rows if x.workspace == str(workspace))}
    everywhere = {r.model: r for r in pass_rates(rows)}

    def evidence(model: str) -> Rate | None:
        rate = local.get(model)
        if rate is None or rate.requests < MIN_REQUESTS:
            rate = everywhere.get(model)
        return rate

    def failing(model: str) -> bool:
        rate = evidence(model)
        return rate is not None and rate.requests >= MIN_REQUESTS and rate.smoothed < PASS_BAR

    good = [m for m in models if not failing(m)]
    bad = [m for m in models if failing(m)]
    bad.sort(key=lambda m: -evidence(m).smoothed)  # the less bad first (stable: config order on ties)
    return good + bad
