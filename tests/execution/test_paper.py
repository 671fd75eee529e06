"""Paper trading against hand-made books, checked to the micro-unit.

The YES book used throughout (best first), fee rate 0.04, exponent 1, tick 0.01, min size 5:

    asks  0.50 x 10   0.52 x 20   0.55 x 100
    bids  0.48 x 30   0.45 x 50

Taker fee per level = floor5(shares x 0.04 x p x (1 - p)):
    10 @ 0.50 -> 10 x 0.04 x 0.25   = 0.1
    15 @ 0.52 -> 15 x 0.04 x 0.2496 = 0.14976
    20 @ 0.52 -> 20 x 0.04 x 0.2496 = 0.19968
The paper account starts with 100 pUSD.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from pm_lib.execution.paper import PaperExecutor
from pm_lib.execution.paper_rules import (
    FAK_NO_MATCH,
    FOK_NOT_FILLED,
    NOT_ENOUGH_BALANCE,
    POST_ONLY_CROSSES,
)
from pm_lib.execution.reconcile import reconcile
from pm_lib.models import OrderBook, OrderStatus, OrderType, Side, TradeStatus
from pm_lib.settings import Settings
from pm_lib.store import fills, intent_by_key, make_engine, session_scope
from tests.execution.builders import NOW, YES, book, request
from tests.execution.conftest import db_url

BUY, SELL = Side.BUY, Side.SELL
FOK, FAK, GTC = OrderType.FOK, OrderType.FAK, OrderType.GTC


def yes_book() -> OrderBook:
    return book(
        asks=[("0.50", "10"), ("0.52", "20"), ("0.55", "100")],
        bids=[("0.48", "30"), ("0.45", "50")],
    )


def paper(settings: Settings, engine: Engine, *books: OrderBook, run: str = "r1") -> PaperExecutor:
    return PaperExecutor(
        settings,
        engine,
        books={b.token_id: b for b in books} if books else {YES: yes_book()},
        run_id=run,
        clock=lambda: NOW,
    )


def test_fok_buy_walks_two_levels_with_per_level_fees(settings: Settings, engine: Engine) -> None:
    executor = paper(settings, engine)
    [result] = executor.place([request("r1:o:0", BUY, "25", "0.52", FOK)])
    # 10 @ 0.50 + 15 @ 0.52 = 5.00 + 7.80 = 12.80; fee 0.1 + 0.14976 = 0.24976
    assert result.status is OrderStatus.MATCHED
    assert result.filled_size == Decimal("25")
    assert result.fee == Decimal("0.24976")
    assert result.avg_price == Decimal("0.512")  # 12.80 / 25
    assert result.order_id is not None and result.order_id.startswith("paper-")
    assert executor.balance() == Decimal("86.95024")  # 100 - 12.80 - 0.24976


def test_fok_that_cannot_fill_whole_is_refused_and_costs_nothing(
    settings: Settings, engine: Engine
) -> None:
    executor = paper(settings, engine)
    [result] = executor.place([request("r1:o:0", BUY, "35", "0.52", FOK)])  # only 30 to 0.52
    assert (result.status, result.error, result.filled_size) == (
        OrderStatus.REJECTED,
        FOK_NOT_FILLED,
        Decimal(0),
    )
    assert executor.balance() == Decimal("100")
    with session_scope(engine) as session:
        assert fills(session, "paper") == []


def test_fak_fills_what_it_can_and_cancels_the_rest(settings: Settings, engine: Engine) -> None:
    executor = paper(settings, engine)
    [result] = executor.place([request("r1:o:0", BUY, "35", "0.52", FAK)])
    # 10 @ 0.50 + 20 @ 0.52 = 5.00 + 10.40 = 15.40; fee 0.1 + 0.19968 = 0.29968
    assert result.status is OrderStatus.CANCELED
    assert result.filled_size == Decimal("30")
    assert result.fee == Decimal("0.29968")
    assert executor.balance() == Decimal("84.30032")  # 100 - 15.40 - 0.29968
    assert executor.open_orders() == []


def test_fak_with_nothing_to_match_is_refused(settings: Settings, engine: Engine) -> None:
    executor = paper(settings, engine)
    [result] = executor.place([request("r1:o:0", BUY, "10", "0.49", FAK)])  # best ask 0.50
    assert (result.status, result.error) == (OrderStatus.REJECTED, FAK_NO_MATCH)


def test_gtc_takes_what_crosses_and_rests_the_remainder(settings: Settings, engine: Engine) -> None:
    executor = paper(settings, engine)
    [result] = executor.place([request("r1:o:0", BUY, "40", "0.52", GTC)])
    assert result.status is OrderStatus.LIVE
    assert result.filled_size == Decimal("30")
    [resting] = executor.open_orders()
    assert (resting.order_id, resting.remaining, resting.price) == (
        result.order_id,
        Decimal("10"),
        Decimal("0.52"),
    )
    assert executor.balance() == Decimal("84.30032")  # resting orders hold cash, not spend it


def test_post_only_order_that_would_cross_is_refused(settings: Settings, engine: Engine) -> None:
    executor = paper(settings, engine)
    [result] = executor.place([request("r1:o:0", BUY, "10", "0.50", GTC, post_only=True)])
    assert (result.status, result.error) == (OrderStatus.REJECTED, POST_ONLY_CROSSES)


def test_sell_walks_the_bids_net_of_fee(settings: Settings, engine: Engine) -> None:
    executor = paper(settings, engine)
    executor.place([request("r1:o:0", BUY, "10", "0.50", FOK)])  # 5.00 + fee 0.1
    [sold] = executor.place([request("r1:o:1", SELL, "10", "0.48", FOK)])
    # 10 @ 0.48: proceeds 4.80, fee floor5(10 x 0.04 x 0.2496) = 0.09984
    assert (sold.status, sold.fee) == (OrderStatus.MATCHED, Decimal("0.09984"))
    assert executor.balance() == Decimal("99.60016")  # 100 - 5.1 + 4.80 - 0.09984
    position = executor.positions()[YES]
    assert (position.size, position.realised_pnl) == (Decimal(0), Decimal("-0.20"))


def test_two_orders_of_one_run_cannot_take_the_same_level(
    settings: Settings, engine: Engine
) -> None:
    executor = paper(settings, engine)
    first, second = executor.place(
        [
            request("r1:o:0", BUY, "10", "0.50", FOK),
            request("r1:o:1", BUY, "10", "0.50", FOK),
        ]
    )
    assert first.status is OrderStatus.MATCHED
    assert (second.status, second.error) == (OrderStatus.REJECTED, FOK_NOT_FILLED)


def test_resting_order_fills_on_a_later_run_when_the_book_crosses_it(
    settings: Settings, engine: Engine
) -> None:
    [placed] = paper(settings, engine).place([request("r1:o:0", BUY, "10", "0.49", GTC)])
    assert placed.status is OrderStatus.LIVE and placed.filled_size == 0
    later = book(asks=[("0.47", "4"), ("0.49", "10")], bids=[("0.46", "5")])
    next_run = paper(settings, engine, later, run="r2")
    made = next_run.sync_fills()
    # Maker fill at its own limit, no fee: 10 @ 0.49 = 4.90 pUSD
    assert [(f.size, f.price, f.fee, f.is_taker, f.status) for f in made] == [
        (Decimal("10"), Decimal("0.49"), Decimal(0), False, TradeStatus.CONFIRMED)
    ]
    assert next_run.order_status(placed.order_id or "") is not None
    with session_scope(engine) as session:
        row = intent_by_key(session, "r1:o:0")
    assert row is not None and (row.status, row.filled_size) == (OrderStatus.MATCHED, 10)
    assert next_run.balance() == Decimal("95.10")


def test_resting_order_goes_before_the_new_run_orders(settings: Settings, engine: Engine) -> None:
    paper(settings, engine).place([request("r1:o:0", BUY, "10", "0.49", GTC)])
    later = book(asks=[("0.49", "10")])
    [late] = paper(settings, engine, later, run="r2").place(
        [request("r2:o:0", BUY, "10", "0.49", FOK)]
    )
    assert (late.status, late.error) == (OrderStatus.REJECTED, FOK_NOT_FILLED)


def test_tick_size_minimum_size_and_dollar_minimum_are_enforced(
    settings: Settings, engine: Engine
) -> None:
    executor = paper(settings, engine)
    off_tick, small, cheap = executor.place(
        [
            request("r1:o:0", BUY, "10", "0.505", GTC),
            request("r1:o:1", BUY, "4", "0.40", GTC),
            request("r1:o:2", BUY, "1", "0.50", FOK),
        ]
    )
    assert off_tick.error is not None and "breaks minimum tick size rule: 0.01" in off_tick.error
    assert small.error is not None and "lower than the minimum: 5" in small.error
    assert cheap.error is not None and "min size: $1" in cheap.error
    assert {off_tick.status, small.status, cheap.status} == {OrderStatus.REJECTED}


def test_marketable_buy_with_a_three_decimal_amount_is_refused(
    settings: Settings, engine: Engine
) -> None:
    executor = paper(settings, engine)
    [result] = executor.place([request("r1:o:0", BUY, "10.5", "0.55", FOK)])  # 5.775 pUSD
    assert result.status is OrderStatus.REJECTED
    assert result.error is not None and "maker amount" in result.error


def test_buy_beyond_the_balance_is_refused(settings: Settings, engine: Engine) -> None:
    executor = paper(settings, engine)
    [result] = executor.place([request("r1:o:0", BUY, "300", "0.40", GTC)])  # holds 120 > 100
    assert (result.status, result.error) == (OrderStatus.REJECTED, NOT_ENOUGH_BALANCE)


def test_sell_without_shares_is_refused(settings: Settings, engine: Engine) -> None:
    [result] = paper(settings, engine).place([request("r1:o:0", SELL, "10", "0.48", FOK)])
    assert (result.status, result.error) == (OrderStatus.REJECTED, NOT_ENOUGH_BALANCE)


def test_a_stored_intent_is_not_simulated_twice(settings: Settings, engine: Engine) -> None:
    order = request("r1:o:0", BUY, "10", "0.50", FOK)
    paper(settings, engine).place([order])
    [again] = paper(settings, engine).place([order])
    assert again.error == "intent already exists: not sent again"
    assert again.status is OrderStatus.MATCHED
    with session_scope(engine) as session:
        assert len(fills(session, "paper")) == 1


def test_paper_balance_survives_a_restart(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    paper(settings, engine).place([request("r1:o:0", BUY, "25", "0.52", FOK)])
    engine.dispose()
    fresh = make_engine(db_url(tmp_path))
    try:
        assert paper(settings, fresh, run="r2").balance() == Decimal("86.95024")
    finally:
        fresh.dispose()


def test_cancel_releases_a_resting_order(settings: Settings, engine: Engine) -> None:
    executor = paper(settings, engine)
    [placed] = executor.place([request("r1:o:0", BUY, "10", "0.40", GTC)])
    assert executor.cancel(placed.order_id or "") is True
    assert executor.open_orders() == []
    assert executor.cancel(placed.order_id or "") is False


def test_paper_reconcile_is_clean_and_fills_resting_orders(
    settings: Settings, engine: Engine
) -> None:
    paper(settings, engine).place([request("r1:o:0", BUY, "10", "0.49", GTC)])
    crossed = book(asks=[("0.49", "10")])
    report = reconcile(paper(settings, engine, crossed, run="r2"), engine, clock=lambda: NOW)
    assert report.clean, report.discrepancies
    assert (report.fills_seen, report.still_open, report.balance) == (1, (), Decimal("95.10"))


# --- liquidity taken stays taken until the venue's book moves (issue 18 item 8) ------------


def test_a_later_run_does_not_buy_the_same_depth_again_while_the_book_stands_still(
    settings: Settings, engine: Engine
) -> None:
    # run 1 takes the whole 0.50 level (10) and 5 of the 0.52 level
    [first] = paper(settings, engine).place([request("r1:o:0", BUY, "15", "0.52", FAK)])
    assert first.filled_size == Decimal("15")

    # run 2 sees the very same venue book (paper orders never reached the venue): only the 15
    # shares left at 0.52 are there to take
    [second] = paper(settings, engine, run="r2").place([request("r2:o:0", BUY, "30", "0.52", FAK)])
    assert second.filled_size == Decimal("15")
    assert second.avg_price == Decimal("0.52")

    # run 3: nothing left up to 0.52, a FOK is refused
    [third] = paper(settings, engine, run="r3").place([request("r3:o:0", BUY, "5", "0.52", FOK)])
    assert third.status is OrderStatus.REJECTED and third.error == FOK_NOT_FILLED


def test_a_level_that_moved_is_whole_again(settings: Settings, engine: Engine) -> None:
    paper(settings, engine).place([request("r1:o:0", BUY, "15", "0.52", FAK)])
    # the venue's book moved: 0.50 now shows 12 (someone else traded there), 0.52 still 20
    moved = book(
        asks=[("0.50", "12"), ("0.52", "20"), ("0.55", "100")],
        bids=[("0.48", "30"), ("0.45", "50")],
    )

    [again] = paper(settings, engine, moved, run="r2").place(
        [request("r2:o:0", BUY, "40", "0.52", FAK)]
    )

    # 0.50 changed size: all 12 are there; 0.52 did not: 15 of its 20 are left
    assert again.filled_size == Decimal("27")
