"""Builders shared by the execution tests: a fixed clock, hand-made books and requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from pm_lib.models import (
    FeeSchedule,
    Leg,
    Level,
    Market,
    Opportunity,
    OrderBook,
    OrderRequest,
    OrderType,
    Outcome,
    Side,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
YES = "1001"
NO = "1002"
COND = "0x" + "ab" * 32
FEES = FeeSchedule(rate=Decimal("0.04"), exponent=1)


def book(
    token: str = YES,
    *,
    bids: Sequence[tuple[str, str]] = (),
    asks: Sequence[tuple[str, str]] = (),
    tick: str = "0.01",
    min_size: str = "5",
    condition: str = COND,
) -> OrderBook:
    """A book with levels given best first as (price, size) strings."""
    return OrderBook(
        token_id=token,
        condition_id=condition,
        bids=tuple(Level(price=Decimal(p), size=Decimal(s)) for p, s in bids),
        asks=tuple(Level(price=Decimal(p), size=Decimal(s)) for p, s in asks),
        tick_size=Decimal(tick),
        min_order_size=Decimal(min_size),
        timestamp=NOW,
    )


def request(
    key: str,
    side: Side,
    size: str,
    price: str,
    order_type: OrderType,
    *,
    token: str = YES,
    condition: str = COND,
    fees: FeeSchedule = FEES,
    post_only: bool = False,
) -> OrderRequest:
    """An order request for one leg (tick 0.01)."""
    return OrderRequest(
        intent_key=key,
        token_id=token,
        condition_id=condition,
        side=side,
        size=Decimal(size),
        price=Decimal(price),
        order_type=order_type,
        post_only=post_only,
        tick_size=Decimal("0.01"),
        fees=fees,
    )


def market(condition: str, yes: str, no: str, *, neg_risk: bool = False) -> Market:
    """A binary market with the test fee schedule, tick 0.01 and minimum size 5."""
    return Market(
        condition_id=condition,
        market_id=condition[-6:],
        question=f"Market {condition[-6:]}?",
        slug=f"market-{condition[-6:]}",
        outcomes=(Outcome(name="Yes", token_id=yes), Outcome(name="No", token_id=no)),
        neg_risk=neg_risk,
        tick_size=Decimal("0.01"),
        min_order_size=Decimal("5"),
        fees=FEES,
    )


def basket(opportunity_id: str, *legs: tuple[str, str, str, str]) -> Opportunity:
    """An all-BUY FOK basket from (token, condition, size, limit) tuples."""
    order_legs = tuple(
        Leg(
            token_id=token,
            condition_id=condition,
            side=Side.BUY,
            size=Decimal(size),
            limit_price=Decimal(limit),
            expected_vwap=Decimal(limit),
        )
        for token, condition, size, limit in legs
    )
    cost = sum((leg.size * leg.limit_price for leg in order_legs), Decimal(0))
    return Opportunity(
        id=opportunity_id,
        strategy="negrisk_arbitrage",
        market="group",
        legs=order_legs,
        edge=Decimal("0.1"),
        cost=cost,
        fees=Decimal(0),
        payout=order_legs[0].size,
        reason="test basket",
        created_at=NOW,
    )
