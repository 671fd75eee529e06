"""The ledger: positions, cash and P&L from fills; a FAILED fill counts for nothing.

(Marks are ``tests/portfolio/test_marks.py``'s.)"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pm_lib.models import Fill, Side, TradeStatus
from pm_lib.portfolio.ledger import DayFlows, cash_flow, replay
from tests.execution.builders import COND, NOW, YES


def fill(
    trade: str,
    side: Side,
    size: str,
    price: str,
    *,
    fee: str = "0",
    token: str = YES,
    status: TradeStatus = TradeStatus.CONFIRMED,
    minutes: int = 0,
) -> Fill:
    return Fill(
        trade_id=trade,
        order_id=f"order-{trade}",
        token_id=token,
        condition_id=COND,
        side=side,
        size=Decimal(size),
        price=Decimal(price),
        fee=Decimal(fee),
        status=status,
        matched_at=NOW + timedelta(minutes=minutes),
    )


def test_average_cost_and_realised_pnl_on_a_partial_sell() -> None:
    result = replay(
        [
            fill("t1", Side.BUY, "10", "0.40", fee="0.1"),
            fill("t2", Side.BUY, "10", "0.50", minutes=1),
            fill("t3", Side.SELL, "5", "0.60", fee="0.05", minutes=2),
        ]
    )
    position = result.positions[YES]
    # avg = (4.00 + 5.00) / 20 = 0.45; realised = (0.60 - 0.45) x 5 = 0.75
    assert (position.size, position.avg_price) == (Decimal("15"), Decimal("0.45"))
    assert position.realised_pnl == Decimal("0.75")
    assert position.fees_paid == Decimal("0.15")
    assert result.cash_delta == Decimal("-6.15")  # -4.1 - 5.0 + 2.95


def test_failed_fill_is_reversed_in_positions_cash_and_pnl() -> None:
    bought = fill("t1", Side.BUY, "10", "0.40", fee="0.1")
    sold = fill("t2", Side.SELL, "10", "0.60", fee="0.1", minutes=1)
    ghost = sold.model_copy(update={"status": TradeStatus.FAILED})
    with_sale = replay([bought, sold])
    reverted = replay([bought, ghost])
    assert with_sale.positions[YES].realised_pnl == Decimal("2.00")
    assert reverted.positions[YES].realised_pnl == Decimal(0)
    assert reverted.positions[YES].size == Decimal("10")
    assert reverted.cash_delta == cash_flow(bought) == Decimal("-4.1")


def test_provisional_fills_count_until_they_fail() -> None:
    matched = fill("t1", Side.BUY, "10", "0.40", status=TradeStatus.MATCHED)
    assert replay([matched]).positions[YES].size == Decimal("10")


def test_flows_are_kept_per_utc_day() -> None:
    result = replay(
        [
            fill("t1", Side.BUY, "10", "0.50", fee="0.1", minutes=-60 * 24),
            fill("t2", Side.SELL, "10", "0.40", fee="0.1"),
        ]
    )
    assert result.day(NOW.date()) == DayFlows(Decimal("-1.00"), Decimal("0.1"), 1)
    assert result.day((NOW - timedelta(days=1)).date()) == DayFlows(Decimal(0), Decimal("0.1"), 1)
    assert result.day((NOW + timedelta(days=1)).date()) == DayFlows()
