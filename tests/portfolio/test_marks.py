"""The one marking rule: executable bids after fees, last trusted mark, complete sets."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pm_lib.models import Position
from pm_lib.portfolio import complete_sets, value_positions
from pm_lib.store.account import PositionMark
from tests.execution.builders import COND, NO, NOW, YES, book
from tests.execution.emulator import MARKETS, NEG_RISK, NEG_RISK_EVENT

D = Decimal


def held(token: str, size: str, price: str, condition: str = COND) -> Position:
    return Position(token_id=token, condition_id=condition, size=D(size), avg_price=D(price))


def positions(*items: Position) -> dict[str, Position]:
    return {p.token_id: p for p in items}


def mark(token: str, size: str, value: str, condition: str = COND) -> PositionMark:
    return PositionMark(
        token_id=token,
        condition_id=condition,
        size=D(size),
        value=D(value),
        marked_at=NOW - timedelta(hours=2),
    )


def test_a_held_pair_is_worth_its_merge_value_when_that_beats_the_bids() -> None:
    pair = positions(held(YES, "10", "0.45"), held(NO, "10", "0.50"))
    books = {YES: book(YES, bids=[("0.40", "100")]), NO: book(NO, bids=[("0.45", "100")])}
    valuation = value_positions(pair, now=NOW, books=books)
    # the bids pay 4.00 + 4.50 = 8.50; merged, 10 sets are 10 pUSD; cost 4.50 + 5.00
    assert valuation.value == D(10)
    assert valuation.unrealised == D("0.50")
    assert {p.merged for p in valuation.positions} == {D(10)}


def test_a_held_pair_is_sold_into_the_bids_when_they_pay_more_than_merging() -> None:
    pair = positions(held(YES, "10", "0.45"), held(NO, "10", "0.50"))
    books = {YES: book(YES, bids=[("0.60", "100")]), NO: book(NO, bids=[("0.55", "100")])}
    assert value_positions(pair, now=NOW, books=books).value == D("11.5")


def test_an_uneven_pair_merges_the_sets_and_sells_the_rest() -> None:
    pair = positions(held(YES, "10", "0.45"), held(NO, "6", "0.50"))
    books = {YES: book(YES, bids=[("0.40", "100")]), NO: book(NO, bids=[("0.45", "100")])}
    # 6 sets = 6 pUSD, 4 YES into the bids = 1.60
    assert value_positions(pair, now=NOW, books=books).value == D("7.6")


def test_a_single_side_is_worth_what_the_bids_pay_after_the_taker_fee() -> None:
    one = positions(held(YES, "10", "0.45"))
    books = {YES: book(YES, bids=[("0.50", "6"), ("0.40", "100")])}
    # 6 x 0.50 + 4 x 0.40 = 4.60; fee 6 x 0.04 x 0.25 + 4 x 0.04 x 0.24 = 0.06 + 0.0384
    valuation = value_positions(one, now=NOW, books=books, markets=MARKETS_WITH_COND)
    assert valuation.value == D("4.5016")
    assert valuation.positions[0].source == "bids"


def test_without_a_book_a_position_keeps_its_last_trusted_mark_never_its_cost() -> None:
    one = positions(held(YES, "10", "0.45"))
    valuation = value_positions(one, now=NOW, books={}, marks={YES: mark(YES, "20", "2.0")})
    # marked 20 shares at 2.0 pUSD: 10 shares are worth 1.0 (cost 4.50)
    assert valuation.value == D("1.0")
    assert valuation.unrealised == D("-3.5")
    assert (valuation.positions[0].source, valuation.unmarked) == ("mark", 0)


def test_a_position_never_marked_is_worth_nothing_and_counted_unmarked() -> None:
    valuation = value_positions(positions(held(YES, "10", "0.45")), now=NOW)
    assert (valuation.value, valuation.unmarked) == (D(0), 1)


def test_a_stale_book_is_no_mark_the_last_trusted_one_is_used() -> None:
    one = positions(held(YES, "10", "0.45"))
    books = {YES: book(YES, bids=[("0.90", "100")])}
    later = NOW + timedelta(minutes=5)
    valuation = value_positions(one, now=later, books=books, marks={YES: mark(YES, "10", "3")})
    assert valuation.value == D(3)
    assert valuation.fresh_marks == ()


def test_a_complete_neg_risk_basket_is_worth_one_a_set() -> None:
    basket = positions(*(held(yes, "10", "0.31", condition=c) for c, yes, _ in NEG_RISK))
    books = {yes: book(yes, bids=[("0.28", "50")], condition=c) for c, yes, _ in NEG_RISK}
    events = [NEG_RISK_EVENT]
    valuation = value_positions(basket, now=NOW, books=books, markets=MARKETS, events=events)
    # sold: 3 x 10 x 0.28 = 8.40 before fees; merged: 10 sets = 10 pUSD (shared 3.333334,
    # 3.333333, 3.333333 so the set is exactly 10)
    assert valuation.value == D(10)
    assert valuation.unrealised == D("0.70")
    augmented = NEG_RISK_EVENT.model_copy(update={"neg_risk_augmented": True})
    assert complete_sets(basket.values(), MARKETS, [augmented]) == []
    incomplete = dict(list(basket.items())[:2])
    assert complete_sets(incomplete.values(), MARKETS, events) == []


def test_fresh_marks_value_the_same_positions_to_the_same_figure_without_books() -> None:
    held_now = positions(
        held(YES, "10", "0.45"), held(NO, "10", "0.50"), held("7", "3.333333", "0.2", "c7")
    )
    books = {
        YES: book(YES, bids=[("0.40", "100")]),
        NO: book(NO, bids=[("0.47", "3"), ("0.45", "100")]),
        "7": book("7", bids=[("0.17", "1"), ("0.13", "100")], condition="c7"),
    }
    with_books = value_positions(held_now, now=NOW, books=books, markets=MARKETS_WITH_COND)
    marks = {m.token_id: m for m in with_books.fresh_marks}
    from_marks = value_positions(held_now, now=NOW, marks=marks, markets=MARKETS_WITH_COND)
    assert from_marks.value == with_books.value
    assert from_marks.unrealised == with_books.unrealised


MARKETS_WITH_COND = {
    **MARKETS,
    COND: MARKETS[next(iter(MARKETS))].model_copy(
        update={
            "condition_id": COND,
            "outcomes": tuple(
                o.model_copy(update={"token_id": t})
                for o, t in zip(MARKETS[next(iter(MARKETS))].outcomes, (YES, NO), strict=True)
            ),
        }
    ),
}
