"""Choosing strategies from settings, and running them all over one scan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from pm_lib.errors import ConfigurationError
from pm_lib.models import Catalogue, OrderBook, PortfolioState
from pm_lib.settings import Settings
from pm_lib.strategy.base import Strategy, StrategyParams, StrategyResult
from pm_lib.strategy.complement import ComplementArbitrage
from pm_lib.strategy.fair_value import FairValue
from pm_lib.strategy.fair_values import load_fair_values
from pm_lib.strategy.negrisk import NegRiskArbitrage

__all__ = ["build_strategies", "find_opportunities"]


def build_strategies(
    settings: Settings, fair_values: Mapping[str, Decimal] | None = None
) -> list[Strategy]:
    """The strategies named in ``PM_STRATEGIES``, in that order, parameterised from settings.

    ``fair_value`` uses ``fair_values`` when given (the flow reads a Prefect Variable and passes
    it in), else ``PM_FAIR_VALUE_FILE``; with neither it raises ``ConfigurationError``.
    """
    params = StrategyParams.from_settings(settings)
    strategies: list[Strategy] = []
    for name in settings.strategies:
        if name == ComplementArbitrage.name:
            strategies.append(ComplementArbitrage(params))
        elif name == NegRiskArbitrage.name:
            strategies.append(NegRiskArbitrage(params))
        elif name == FairValue.name:
            values = fair_values
            if values is None and settings.fair_value_file is not None:
                values = load_fair_values(settings.fair_value_file)
            if values is None:
                raise ConfigurationError(
                    "strategy fair_value needs fair values: pass them in (Prefect Variable "
                    "PM_FAIR_VALUE_VARIABLE) or set PM_FAIR_VALUE_FILE"
                )
            strategies.append(FairValue(params, dict(values)))
        else:  # Settings already refuses unknown names; this keeps the match exhaustive
            raise ConfigurationError(f"unknown strategy {name!r}")
    return strategies


def find_opportunities(
    catalogue: Catalogue,
    books: Mapping[str, OrderBook],
    portfolio: PortfolioState,
    strategies: Sequence[Strategy],
    now: datetime,
) -> StrategyResult:
    """Run every strategy over the same inputs; results keep the strategies' order."""
    result = StrategyResult()
    for strategy in strategies:
        result = result + strategy.find(catalogue, books, portfolio, now)
    return result
