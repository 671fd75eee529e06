"""Strategies are chosen from settings and run together over one scan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pm_lib.errors import ConfigurationError
from pm_lib.settings import Settings
from pm_lib.strategy import build_strategies, find_opportunities
from tests.strategy.builders import (
    NOW,
    D,
    binary_market,
    book,
    books_by_token,
    catalogue,
    ladder,
    portfolio,
)


def settings(**fields: Any) -> Settings:
    return Settings(_env_file=None, **fields)


def test_strategies_follow_the_settings_order() -> None:
    chosen = build_strategies(settings(strategies=("negrisk_arbitrage", "complement_arbitrage")))
    assert [s.name for s in chosen] == ["negrisk_arbitrage", "complement_arbitrage"]


def test_fair_value_reads_the_file_when_no_values_are_passed(tmp_path: Path) -> None:
    path = tmp_path / "fair.json"
    path.write_text('{"y1": "0.6"}')
    (strategy,) = build_strategies(settings(strategies=("fair_value",), fair_value_file=path))
    assert strategy.fair_values == {"y1": D("0.6")}  # type: ignore[attr-defined]


def test_fair_value_without_values_is_a_configuration_error() -> None:
    config = settings(strategies=("fair_value",), fair_value_variable="pm-fair-values")
    with pytest.raises(ConfigurationError, match="needs fair values"):
        build_strategies(config)


def test_find_opportunities_runs_every_strategy_on_the_same_inputs() -> None:
    config = settings(strategies=("complement_arbitrage", "fair_value"), fair_value_variable="v")
    strategies = build_strategies(config, {"y1": D("0.60")})
    books = books_by_token(book("y1", ladder(("0.45", 100))), book("n1", ladder(("0.50", 100))))
    result = find_opportunities(catalogue([binary_market()]), books, portfolio(), strategies, NOW)
    assert [o.strategy for o in result.opportunities] == ["complement_arbitrage", "fair_value"]
