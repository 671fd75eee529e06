"""Builders shared by the execution tests: a fixed clock, hand-made books and requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from pm_lib.models import FeeSchedule, Level, OrderBook, OrderRequest, OrderType, Side

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
