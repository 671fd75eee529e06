"""One rule's answer: passed or failed, a human reason with numbers, and the numbers used."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from pm_lib.models import Opportunity, PortfolioState
from pm_lib.risk.context import RiskContext
from pm_lib.risk.limits import RiskLimits

__all__ = ["Check", "Rule", "fail", "pass_", "per_share"]


@dataclass(frozen=True, slots=True)
class Check:
    """A rule's verdict; ``reason`` is None when the rule passed. ``inputs`` are strings."""

    rule: str
    reason: str | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.reason is None


Rule = Callable[[Opportunity, PortfolioState, RiskLimits, datetime, RiskContext], Check]
"""A rule: (opportunity, state, limits, now, context) -> Check. Pure; never raises on data."""


def pass_(rule: str, **inputs: object) -> Check:
    """A passing check that records the numbers it looked at."""
    return Check(rule, None, {k: str(v) for k, v in inputs.items()})


def fail(rule: str, reason: str, **inputs: object) -> Check:
    """A failing check with its reason and the numbers behind it."""
    return Check(rule, reason, {k: str(v) for k, v in inputs.items()})


def per_share(value: Decimal) -> str:
    """A per-share figure for a reason sentence (6 decimals; the inputs keep exact values)."""
    return f"{value:.6f}"
