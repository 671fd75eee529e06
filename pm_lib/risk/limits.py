"""The risk limits of one run, resolved from settings and overridable per run."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from pm_lib.models import ONE
from pm_lib.settings import Settings

__all__ = ["RiskLimits"]


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Every limit the gate checks; pUSD unless said. Each maps to one ``PM_*`` setting."""

    max_order_notional: Decimal
    max_position_per_market: Decimal
    max_position_per_group: Decimal
    max_total_exposure: Decimal
    max_open_orders: int
    max_daily_loss: Decimal
    min_edge: Decimal
    min_edge_usd: Decimal
    slippage_edge_fraction: Decimal
    market_end_buffer_minutes: int
    max_book_age_seconds: int
    min_marketable_notional: Decimal = ONE
    """The venue's $1 minimum for marketable BUY orders (not a setting: a venue rule)."""

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> RiskLimits:
        """Limits from ``Settings``; keyword overrides (same names) apply to this run only."""
        names = {f.name for f in fields(cls)}
        unknown = set(overrides) - names
        if unknown:
            raise ValueError(f"unknown risk limits {sorted(unknown)}")
        base = cls(**{name: getattr(settings, name) for name in names if hasattr(settings, name)})
        return replace(base, **overrides)

    @property
    def max_book_age(self) -> timedelta:
        return timedelta(seconds=self.max_book_age_seconds)

    @property
    def market_end_buffer(self) -> timedelta:
        return timedelta(minutes=self.market_end_buffer_minutes)
