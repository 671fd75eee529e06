"""Small builders for strategy and risk tests: markets, books, catalogues, portfolios."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pm_lib.models import (
    Catalogue,
    Event,
    FeeSchedule,
    Level,
    Market,
    OrderBook,
    Outcome,
    PortfolioState,
    Position,
)
from pm_lib.strategy import StrategyParams

D = Decimal
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POLITICS_FEES = FeeSchedule(rate=D("0.04"), exponent=1)


def ladder(*levels: tuple[str, int | str]) -> tuple[Level, ...]:
    """Levels from (price, size) pairs, in the order given (best first)."""
    return tuple(Level(price=D(p), size=D(s)) for p, s in levels)


def book(
    token_id: str,
    asks: Iterable[Level] = (),
    bids: Iterable[Level] = (),
    *,
    condition_id: str = "c1",
    tick: str = "0.01",
    min_size: int = 5,
    age_seconds: int = 0,
    book_hash: str = "hash",
) -> OrderBook:
    return OrderBook(
        token_id=token_id,
        condition_id=condition_id,
        bids=tuple(bids),
        asks=tuple(asks),
        tick_size=D(tick),
        min_order_size=D(min_size),
        hash=book_hash,
        timestamp=NOW - timedelta(seconds=age_seconds),
    )


def binary_market(
    condition_id: str = "c1",
    yes: str = "y1",
    no: str = "n1",
    *,
    fees: FeeSchedule | None = None,
    tick: str = "0.01",
    **fields: Any,
) -> Market:
    return Market(
        condition_id=condition_id,
        market_id=condition_id.removeprefix("c"),
        question=f"Question {condition_id}?",
        slug=fields.pop("slug", f"market-{condition_id}"),
        outcomes=(Outcome(name="Yes", token_id=yes), Outcome(name="No", token_id=no)),
        tick_size=D(tick),
        min_order_size=D(5),
        fees=fees or FeeSchedule.none(),
        **fields,
    )


def neg_risk_event(event_id: str, markets: Iterable[Market], **fields: Any) -> Event:
    fields.setdefault("neg_risk_market_id", f"0xgroup{event_id}")
    return Event(
        event_id=event_id,
        title=f"Event {event_id}",
        slug=f"event-{event_id}",
        neg_risk=True,
        market_condition_ids=tuple(m.condition_id for m in markets),
        **fields,
    )


def catalogue(markets: Iterable[Market], events: Iterable[Event] = ()) -> Catalogue:
    return Catalogue(markets=tuple(markets), events=tuple(events), fetched_at=NOW)


def books_by_token(*books: OrderBook) -> dict[str, OrderBook]:
    return {b.token_id: b for b in books}


def params(**overrides: Any) -> StrategyParams:
    values: dict[str, Any] = {
        "min_edge": D("0.005"),
        "max_order_notional": D(100),
        "max_book_age_seconds": 60,
        "fair_value_edge": D("0.03"),
        "kelly_fraction": D("0.25"),
    }
    values.update(overrides)
    return StrategyParams(**values)


def portfolio(
    cash: str | int = 1000, positions: Mapping[str, Position] | None = None, **fields: Any
) -> PortfolioState:
    return PortfolioState(cash=D(cash), positions=dict(positions or {}), as_of=NOW, **fields)


def position(token_id: str, size: str | int, avg_price: str, condition_id: str = "c1") -> Position:
    return Position(
        token_id=token_id, condition_id=condition_id, size=D(size), avg_price=D(avg_price)
    )
