"""Exposure at cost: what the held positions cost, by market and by neg-risk group.

The risk gate's exposure limits count positions at cost basis (``size x avg_price``, fees
booked apart), not at their marks: a limit on what may be committed, not on what it is worth.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from pm_lib.models import ZERO, Market, PortfolioState, Position

__all__ = ["cost_basis", "group_cost_basis", "market_cost_basis", "total_cost_basis"]


def cost_basis(position: Position) -> Decimal:
    """``size x avg_price``: what the position cost (fees are booked separately)."""
    return position.size * position.avg_price


def total_cost_basis(state: PortfolioState) -> Decimal:
    """Cost basis of every open position."""
    return sum((cost_basis(p) for p in state.positions.values()), ZERO)


def market_cost_basis(state: PortfolioState, condition_id: str) -> Decimal:
    """Cost basis of every position held in one market."""
    return sum(
        (cost_basis(p) for p in state.positions.values() if p.condition_id == condition_id), ZERO
    )


def group_cost_basis(state: PortfolioState, group: str, markets: Mapping[str, Market]) -> Decimal:
    """Cost basis of every position held in the markets of one neg-risk group."""
    total = ZERO
    for p in state.positions.values():
        market = markets.get(p.condition_id)
        if market is not None and market.group_id == group:
            total += cost_basis(p)
    return total
