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


def test_full_refresh_sooner_than_the_max_age_is_a_contradiction() -> None:
    with pytest.raises(ValidationError, match="PM_CATALOGUE_FULL_REFRESH_SECONDS is below"):
        Settings(  # type: ignore[call-arg]
            _env_file=None, catalogue_max_age_seconds=900, catalogue_full_refresh_seconds=600
        )


def test_full_refresh_age_zero_means_always_full() -> None:
    s = Settings(_env_file=None, catalogue_full_refresh_seconds=0)  # type: ignore[call-arg]
    assert s.catalogue_full_refresh_seconds == 0


def _configuration_rows() -> dict[str, tuple[str, str]]:
    readme = Path(__file__).resolve().parents[2] / "docs" / "CONFIGURATION.md"
    rows: dict[str, tuple[str, str]] = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`PM_"):
            rows[cells[0].strip("`")] = (cells[1].strip("`"), cells[2])
    return rows


def test_configuration_table_matches_the_settings_model() -> None:
    rows = _configuration_rows()
    for name, spec in Settings.model_fields.items():
        variable, _, what = (spec.description or "").partition(": ")
        assert variable == f"PM_{name.upper()}", name
        default = spec.default
        if isinstance(default, tuple):
            default = ",".join(default)
        shown = "(unset)" if default is None else str(default)
        assert rows.get(variable) == (shown, what), variable
    assert len(rows) == len(Settings.model_fields)
