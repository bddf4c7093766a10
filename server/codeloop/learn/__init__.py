"""Learn from outcomes: the append-only reward log, model ranking, fine-tuning export."""

from __future__ import annotations

from codeloop.learn.log import (
    Brief,
    DisabledLog,
    LearnError,
    Outcome,
    RewardLog,
    Row,
    default_log_path,
    open_log,
    prompt_hash,
)
from codeloop.learn.plan import Plan, choose_plan
from codeloop.learn.ranking import Rate, choose_models, pass_rates

__all__ = [
    "Brief",
    "DisabledLog",
    "LearnError",
    "Outcome",
    "Plan",
    "Rate",
    "RewardLog",
    "Row",
    "choose_models",
    "choose_plan",
    "default_log_path",
    "open_log",
    "pass_rates",
    "prompt_hash",
]
