"""The ledger: positions, cash and P&L from fills; a FAILED fill counts for nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pm_lib.execution.ledger import cash_flow, marked_value, replay, unrealised_pnl
from pm_lib.models import Fill, Side, TradeStatus
from tests.execution.builders import COND, NO, NOW, YES, book


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


def test_window_sums_only_the_day_asked_for() -> None:
    result = replay(
        [
            fill("t1", Side.BUY, "10", "0.50", fee="0.1", minutes=-60 * 24),
            fill("t2", Side.SELL, "10", "0.40", fee="0.1"),
        ],
        window=(NOW - timedelta(hours=1), NOW + timedelta(hours=1)),
    )
    assert (result.realised_in_window, result.fees_in_window) == (Decimal("-1.00"), Decimal("0.1"))


def test_complete_yes_no_pair_is_marked_at_one() -> None:
    positions = replay(
        [
            fill("t1", Side.BUY, "10", "0.45"),
            fill("t2", Side.BUY, "10", "0.50", token=NO),
        ]
    ).positions
    books = {
        YES: book(YES, bids=[("0.40", "100")]),
        NO: book(NO, bids=[("0.45", "100")]),
    }
    assert marked_value(positions, books) == Decimal("10")
    assert unrealised_pnl(positions, books) == Decimal("0.50")  # 10 - 4.50 - 5.00


def test_single_side_is_marked_at_what_the_bids_would_pay() -> None:
    positions = replay([fill("t1", Side.BUY, "10", "0.45")]).positions
    books = {YES: book(YES, bids=[("0.44", "6"), ("0.40", "100")])}
    # 6 x 0.44 + 4 x 0.40 = 2.64 + 1.60 = 4.24; cost 4.50
    assert unrealised_pnl(positions, books) == Decimal("-0.26")
