"""What every strategy shares: the protocol, its result, parameters, book checks and ids.

A strategy is a pure function of the catalogue, the books, the portfolio and ``now``. It never
raises on bad market data: a missing or stale book, a closed leg or an incomplete neg-risk group
becomes a ``SkippedItem`` with a reason, and the scan carries on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from pm_lib.book_math import Walk
from pm_lib.models import (
    ONE,
    ZERO,
    Catalogue,
    Leg,
    Market,
    Opportunity,
    OrderBook,
    PortfolioState,
    ProtocolVersion,
    SkippedItem,
)
from pm_lib.settings import Settings

__all__ = [
    "MIN_MARKETABLE_NOTIONAL",
    "Strategy",
    "StrategyParams",
    "StrategyResult",
    "book_problem",
    "filled_vwap",
    "market_problem",
    "money",
    "opportunity_id",
]

MIN_MARKETABLE_NOTIONAL = ONE
"""The venue refuses marketable BUY orders under $1 ("invalid amount for a marketable BUY
order ($x), min size: $1"; limit orders instead have the per-market minimum of shares)."""


@dataclass(frozen=True, slots=True)
class StrategyResult:
    """What one or more strategies found: opportunities, and what they skipped and why."""

    opportunities: tuple[Opportunity, ...] = ()
    skipped: tuple[SkippedItem, ...] = ()

    def __add__(self, other: StrategyResult) -> StrategyResult:
        return StrategyResult(
            self.opportunities + other.opportunities, self.skipped + other.skipped
        )


class Strategy(Protocol):
    """A signal: proposes opportunities from books, never places anything."""

    @property
    def name(self) -> str:
        """The strategy's name, as in ``PM_STRATEGIES``."""
        ...

    def find(
        self,
        catalogue: Catalogue,
        books: Mapping[str, OrderBook],
        portfolio: PortfolioState,
        now: datetime,
    ) -> StrategyResult:
        """Opportunities on these books at ``now``; books are keyed by token id."""
        ...


@dataclass(frozen=True, slots=True)
class StrategyParams:
    """The settings strategies read, resolved once per run."""

    min_edge: Decimal
    max_order_notional: Decimal
    max_book_age_seconds: int
    fair_value_edge: Decimal
    kelly_fraction: Decimal
    min_marketable_notional: Decimal = MIN_MARKETABLE_NOTIONAL

    @classmethod
    def from_settings(cls, settings: Settings) -> StrategyParams:
        """Parameters from ``Settings`` (``PM_MIN_EDGE``, ``PM_MAX_ORDER_NOTIONAL``, ...)."""
        return cls(
            min_edge=settings.min_edge,
            max_order_notional=settings.max_order_notional,
            max_book_age_seconds=settings.max_book_age_seconds,
            fair_value_edge=settings.fair_value_edge,
            kelly_fraction=settings.kelly_fraction,
        )

    @property
    def max_book_age(self) -> timedelta:
        return timedelta(seconds=self.max_book_age_seconds)


def book_problem(
    book: OrderBook | None, token_id: str, now: datetime, max_age: timedelta
) -> str | None:
    """Why ``book`` cannot be traded at ``now`` (missing or stale), or None when it can."""
    if book is None:
        return f"no book for token {token_id}"
    age = now - book.timestamp
    if age > max_age:
        return (
            f"stale book for token {token_id}: {age.total_seconds():.0f}s old "
            f"> {max_age.total_seconds():.0f}s"
        )
    return None


def market_problem(market: Market) -> str | None:
    """Why a market is not worth scanning (closed, not accepting orders, Protocol V2)."""
    if market.closed:
        return f"market {market.condition_id} is closed"
    if not market.active:
        return f"market {market.condition_id} is inactive"
    if not market.accepting_orders:
        return f"market {market.condition_id} is not accepting orders"
    if market.version is not ProtocolVersion.V1:
        # Protocol V2 markets trade positionIds through another exchange (docs/VENUE.md 1.4).
        return f"market {market.condition_id} is Protocol {market.version}"
    return None


def filled_vwap(walk: Walk) -> Decimal:
    """The VWAP of a walk that filled something (0 for an empty walk, which sizing excludes)."""
    vwap = walk.vwap
    return vwap if vwap is not None else ZERO


def money(value: Decimal, places: int = 4) -> str:
    """A Decimal for a human reason string (fixed point, ``places`` decimals)."""
    return f"{value:.{places}f}"


def opportunity_id(
    strategy: str,
    market: str,
    legs: Iterable[Leg],
    books: Iterable[OrderBook],
    extra: str = "",
) -> str:
    """A deterministic id: same strategy, market, legs and books (hash and time) -> same id."""
    parts = [strategy, market, extra]
    parts += [
        f"{leg.token_id}|{leg.side}|{leg.size}|{leg.limit_price}|{leg.order_type}" for leg in legs
    ]
    parts += [f"{b.token_id}|{b.hash}|{b.timestamp.isoformat()}" for b in books]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
