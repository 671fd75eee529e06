"""Settings: defaults are safe, env is read, contradictions fail at load time."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from pm_lib.settings import Settings


def test_defaults_are_paper_and_real_hosts(tmp_path: Path) -> None:
    s = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert s.mode == "paper"
    assert s.clob_url == "https://clob.polymarket.com"
    assert s.gamma_url == "https://gamma-api.polymarket.com"


def test_default_database_is_sqlite_in_data_dir_created_on_demand(tmp_path: Path) -> None:
    data = tmp_path / "nested" / "data"
    s = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
    url = s.resolved_database_url
    assert url.startswith("sqlite:///") and url.endswith("pm_agent.db")
    assert data.is_dir()


def test_env_prefix_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PM_MODE", "live")
    monkeypatch.setenv("PM_MAX_DAILY_LOSS", "12.5")
    monkeypatch.setenv("PM_STRATEGIES", "negrisk_arbitrage")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.mode == "live"
    assert s.max_daily_loss == Decimal("12.5")
    assert s.strategies == ("negrisk_arbitrage",)


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValidationError, match="mode"):
        Settings(_env_file=None, mode="yolo")  # type: ignore[call-arg, arg-type]


def test_order_limit_above_market_limit_is_a_contradiction() -> None:
    with pytest.raises(ValidationError, match="PM_MAX_ORDER_NOTIONAL exceeds"):
        Settings(  # type: ignore[call-arg]
            _env_file=None, max_order_notional=Decimal(300), max_position_per_market=Decimal(200)
        )


def test_order_limit_below_the_venue_minimum_is_a_contradiction() -> None:
    with pytest.raises(ValidationError, match=r"under the venue's \$1 minimum"):
        Settings(_env_file=None, max_order_notional=Decimal("0.5"))  # type: ignore[call-arg]


def test_fair_value_edge_below_min_edge_is_a_contradiction(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="PM_FAIR_VALUE_EDGE is below PM_MIN_EDGE"):
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            strategies=("fair_value",),
            fair_value_file=tmp_path / "fv.csv",
            fair_value_edge=Decimal("0.001"),
            min_edge=Decimal("0.01"),
        )


def test_unknown_strategy_is_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown strategies"):
        Settings(_env_file=None, strategies=("moonshot",))  # type: ignore[call-arg]


def test_fair_value_needs_a_source() -> None:
    with pytest.raises(ValidationError, match="PM_FAIR_VALUE_FILE"):
        Settings(_env_file=None, strategies=("fair_value",))  # type: ignore[call-arg]
