"""Builders for risk tests: legs, opportunities, limits and a context over test markets."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pm_lib.models import Leg, Market, Opportunity, OrderBook, OrderType, Side
from pm_lib.risk import RiskContext, RiskLimits
from tests.strategy.builders import NOW, D

__all__ = ["context", "leg", "limits", "opportunity"]


def leg(
    token_id: str = "y1",
    size: int | str = 20,
    limit_price: str = "0.55",
    *,
    condition_id: str = "c1",
    side: Side = Side.BUY,
    order_type: OrderType = OrderType.FOK,
) -> Leg:
    price = D(limit_price)
    return Leg(
        token_id=token_id,
        condition_id=condition_id,
        side=side,
        size=D(size),
        limit_price=price,
        expected_vwap=price,
        order_type=order_type,
    )


def opportunity(
    *legs: Leg, edge: str | Decimal = "2.00", ident: str = "opp-1", strategy: str = "test"
) -> Opportunity:
    legs = legs or (leg(),)
    edge_value = D(edge)
    cost = sum((x.size * x.limit_price for x in legs), D(0))
    return Opportunity(
        id=ident,
        strategy=strategy,
        market=legs[0].condition_id,
        legs=legs,
        edge=edge_value,
        cost=cost,
        fees=D(0),
        payout=cost + edge_value,
        reason="test opportunity",
        created_at=NOW,
    )


def limits(**overrides: Any) -> RiskLimits:
    values: dict[str, Any] = {
        "max_order_notional": D(100),
        "max_position_per_market": D(250),
        "max_position_per_group": D(500),
        "max_total_exposure": D(2000),
        "max_open_orders": 50,
        "max_daily_loss": D(100),
        "min_edge": D("0.005"),
        "min_edge_usd": D("0.05"),
        "slippage_edge_fraction": D("0.5"),
        "market_end_buffer_minutes": 30,
        "max_book_age_seconds": 60,
    }
    values.update(overrides)
    return RiskLimits(**values)


def context(markets: Iterable[Market], books: Iterable[OrderBook]) -> RiskContext:
    return RiskContext(
        markets={m.condition_id: m for m in markets}, books={b.token_id: b for b in books}
    )
