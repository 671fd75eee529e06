"""Signals: pure functions from catalogue, books, portfolio and ``now`` to opportunities.

    complement_arbitrage   YES + NO of one binary market for less than 1 (``complement``)
    negrisk_arbitrage      YES of every outcome of a complete neg-risk event (``negrisk``)
    fair_value             against user probabilities, capped Kelly (``fair_value``)

Shared: the protocol and result (``base``), basket sizing over ladders (``basket``), fair-value
loading (``fair_values``), settings -> strategies and the scan (``registry``).
"""

from pm_lib.strategy.base import Strategy, StrategyParams, StrategyResult, opportunity_id
from pm_lib.strategy.complement import ComplementArbitrage
from pm_lib.strategy.fair_value import FairValue
from pm_lib.strategy.fair_values import load_fair_values, parse_fair_values, token_fair_values
from pm_lib.strategy.negrisk import NegRiskArbitrage
from pm_lib.strategy.registry import build_strategies, find_opportunities

__all__ = [
    "ComplementArbitrage",
    "FairValue",
    "NegRiskArbitrage",
    "Strategy",
    "StrategyParams",
    "StrategyResult",
    "build_strategies",
    "find_opportunities",
    "load_fair_values",
    "opportunity_id",
    "parse_fair_values",
    "token_fair_values",
]
