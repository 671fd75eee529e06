"""Small domain objects the store tests save and load (built here, not read from venue JSON)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pm_lib.models import (
    Catalogue,
    Event,
    FeeSchedule,
    Fill,
    Leg,
    Market,
    Opportunity,
    OrderType,
    Outcome,
    RiskDecision,
    Side,
    TradeStatus,
)
from pm_lib.store.rows import IntentSpec

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def market(n: int, *, event_id: str | None = "ev-1", neg_risk: bool = False) -> Market:
    """A binary market numbered ``n`` with a fee schedule and an end date."""
    return Market(
        condition_id=f"0xcond{n:04d}",
        market_id=str(500_000 + n),
        question=f"Will outcome {n} happen?",
        slug=f"outcome-{n}",
        outcomes=(
            Outcome(name="Yes", token_id=f"{n}1" * 8),
            Outcome(name="No", token_id=f"{n}2" * 8),
        ),
        neg_risk=neg_risk,
        neg_risk_market_id="0xgroup" if neg_risk else None,
        event_id=event_id,
        tick_size=Decimal("0.001"),
        min_order_size=Decimal("5"),
        fees=FeeSchedule(
            rate=Decimal("0.04"), exponent=2, taker_only=True, rebate_rate=Decimal("0.25")
        ),
        end_date=NOW + timedelta(days=7),
    )


def catalogue(
    numbers: range | list[int], *, fetched_at: datetime = NOW, events: tuple[Event, ...] = ()
) -> Catalogue:
    """A catalogue of the numbered markets."""
    return Catalogue(
        markets=tuple(market(n) for n in numbers), events=events, fetched_at=fetched_at
    )


def event(event_id: str = "ev-1", condition_ids: tuple[str, ...] = ()) -> Event:
    """A neg-risk event over ``condition_ids``."""
    return Event(
        event_id=event_id,
        title=f"Event {event_id}",
        slug=event_id,
        neg_risk=True,
        neg_risk_augmented=True,
        neg_risk_market_id="0xgroup",
        market_condition_ids=condition_ids,
    )


def opportunity(opportunity_id: str = "opp-1") -> Opportunity:
    """A two-leg complement arbitrage with exact, awkward decimals."""
    legs = tuple(
        Leg(
            token_id=token,
            condition_id="0xcond0001",
            side=Side.BUY,
            size=Decimal("123.45"),
            limit_price=Decimal("0.487"),
            expected_vwap=Decimal("0.4812345678901234"),
            expected_fee=Decimal("0.123456"),
            order_type=OrderType.FOK,
        )
        for token in ("111", "222")
    )
    return Opportunity(
        id=opportunity_id,
        strategy="complement_arbitrage",
        market="0xcond0001",
        legs=legs,
        edge=Decimal("1.234567"),
        cost=Decimal("118.813913"),
        fees=Decimal("0.246912"),
        payout=Decimal("123.45"),
        reason="yes+no asks below 1",
        created_at=NOW,
    )


def decision(opportunity_id: str = "opp-1", *, approved: bool = True) -> RiskDecision:
    """A risk decision with its inputs as strings."""
    return RiskDecision(
        opportunity_id=opportunity_id,
        approved=approved,
        rule="approved" if approved else "max_order_notional",
        reason="within limits" if approved else "order too large",
        inputs={"notional": "119.060825", "limit": "100"},
        decided_at=NOW,
    )


def intent(key: str = "run-1:opp-1:0", *, mode: str = "paper") -> IntentSpec:
    """A pending buy intent."""
    return IntentSpec.model_validate(
        {
            "intent_key": key,
            "run_id": "run-1",
            "opportunity_id": "opp-1",
            "leg_index": 0,
            "mode": mode,
            "token_id": "111",
            "condition_id": "0xcond0001",
            "side": Side.BUY,
            "size": Decimal("123.45"),
            "price": Decimal("0.487"),
            "order_type": OrderType.FOK,
            "created_at": NOW,
        }
    )


def fill(
    trade_id: str = "trade-1",
    *,
    status: TradeStatus = TradeStatus.MATCHED,
    matched_at: datetime = NOW,
    order_id: str = "0xorder1",
) -> Fill:
    """A taker buy fill."""
    return Fill(
        trade_id=trade_id,
        order_id=order_id,
        token_id="111",
        condition_id="0xcond0001",
        side=Side.BUY,
        size=Decimal("123.45"),
        price=Decimal("0.481234"),
        fee=Decimal("0.123456"),
        status=status,
        matched_at=matched_at,
    )
