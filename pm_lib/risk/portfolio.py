"""The portfolio as the gate sees it: cost basis by market/group, and today's P&L.

Today's P&L = realised P&L today - fees today + unrealised P&L of open positions, each marked at
what selling it into the current bids would pay (VWAP walk, net of the taker fee; shares the
bids cannot absorb are worth 0). A position without a book in the context is marked at cost
(unrealised 0) and counted as unmarked, so a missing book cannot by itself trip the loss limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from pm_lib.book_math import walk_sell
from pm_lib.models import ZERO, Market, OrderBook, PortfolioState, Position

__all__ = ["DailyPnl", "cost_basis", "daily_pnl", "group_cost_basis", "market_cost_basis"]


def cost_basis(position: Position) -> Decimal:
    """``size x avg_price``: what the position cost (fees are booked separately)."""
    return position.size * position.avg_price


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


@dataclass(frozen=True, slots=True)
class DailyPnl:
    """Today's P&L and its parts (pUSD); ``loss`` is the P&L's negative, 0 when in profit."""

    realised: Decimal
    fees: Decimal
    unrealised: Decimal
    unmarked_positions: int

    @property
    def total(self) -> Decimal:
        return self.realised - self.fees + self.unrealised

    @property
    def loss(self) -> Decimal:
        return max(ZERO, -self.total)


def daily_pnl(
    state: PortfolioState, books: Mapping[str, OrderBook], markets: Mapping[str, Market]
) -> DailyPnl:
    """Today's P&L with open positions marked at executable bids (module docstring)."""
    unrealised = ZERO
    unmarked = 0
    for p in state.positions.values():
        if p.size <= ZERO:
            continue
        book = books.get(p.token_id)
        if book is None:
            unmarked += 1
            continue
        market = markets.get(p.condition_id)
        walk = walk_sell(book.bids, p.size, market.fees if market is not None else None)
        unrealised += walk.proceeds_after_fee - cost_basis(p)
    return DailyPnl(state.realised_pnl_today, state.fees_today, unrealised, unmarked)
