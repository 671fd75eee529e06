"""Risk limits come from settings and can be overridden for one run."""

from __future__ import annotations

import pytest

from pm_lib.risk import RiskLimits
from pm_lib.settings import Settings
from tests.strategy.builders import D


def test_limits_read_every_setting() -> None:
    settings = Settings(_env_file=None, max_open_orders=7, min_edge_usd=D("0.2"))
    limits = RiskLimits.from_settings(settings)
    assert (limits.max_open_orders, limits.min_edge_usd) == (7, D("0.2"))
    assert limits.max_order_notional == settings.max_order_notional
    assert limits.min_marketable_notional == D(1)


def test_a_run_can_override_a_limit() -> None:
    limits = RiskLimits.from_settings(Settings(_env_file=None), max_daily_loss=D(10))
    assert limits.max_daily_loss == D(10)


def test_an_unknown_override_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown risk limits"):
        RiskLimits.from_settings(Settings(_env_file=None), max_leverage=D(2))
