"""Complement arbitrage: hand-computed baskets, fees, depth, limits and venue minimums."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pm_lib.models import FeeSchedule, Level, OrderType, Side
from pm_lib.strategy import ComplementArbitrage, StrategyResult
from pm_lib.venue.wire_gamma import parse_gamma_market
from tests.strategy.builders import (
    NOW,
    POLITICS_FEES,
    D,
    binary_market,
    book,
    books_by_token,
    catalogue,
    ladder,
    params,
    portfolio,
)

RESOURCES = Path(__file__).parents[1] / "resources"


def scan(
    yes_asks: tuple[Level, ...],
    no_asks: tuple[Level, ...],
    *,
    fees: FeeSchedule | None = None,
    tick: str = "0.01",
    **overrides: Any,
) -> StrategyResult:
    """Run complement arbitrage over one market c1 (YES y1, NO n1) with these asks."""
    market = binary_market(fees=fees, tick=tick)
    books = books_by_token(
        book("y1", yes_asks, tick=tick, book_hash="hy"),
        book("n1", no_asks, tick=tick, book_hash="hn"),
    )
    return ComplementArbitrage(params(**overrides)).find(
        catalogue([market]), books, portfolio(), NOW
    )


def test_one_deep_level_each_buys_up_to_depth_without_fees() -> None:
    # 0.45 + 0.50 = 0.95: 0.05 a pair; depth 100 each; notional 45 and 50 are under 100
    result = scan(ladder(("0.45", 100)), ladder(("0.50", 100)))
    (opp,) = result.opportunities
    # cost 100*0.45 + 100*0.50 = 95.00; payout 100; edge 5.00
    assert (opp.cost, opp.fees, opp.payout, opp.edge) == (D("95.00"), D(0), D(100), D("5.00"))
    assert [(leg.token_id, leg.side, leg.size, leg.limit_price) for leg in opp.legs] == [
        ("y1", Side.BUY, D(100), D("0.45")),
        ("n1", Side.BUY, D(100), D("0.50")),
    ]
    assert all(leg.order_type is OrderType.FOK for leg in opp.legs)
    assert "net edge 5.00000" in opp.reason


def test_taker_fees_are_subtracted_per_leg() -> None:
    # fee per share: YES 0.04*0.45*0.55 = 0.0099, NO 0.04*0.50*0.50 = 0.0100
    # 100 shares: 0.99 + 1.00 = 1.99; edge 100 - 95 - 1.99 = 3.01
    (opp,) = scan(ladder(("0.45", 100)), ladder(("0.50", 100)), fees=POLITICS_FEES).opportunities
    assert (opp.fees, opp.edge) == (D("1.99"), D("3.01"))
    assert [leg.expected_fee for leg in opp.legs] == [D("0.99"), D("1.00")]


def test_fees_that_eat_the_spread_leave_no_opportunity() -> None:
    # 0.49 + 0.50 = 0.99 passes top of book, but fees 0.04*0.49*0.51 + 0.04*0.25 = 0.019996 > 0.01
    result = scan(ladder(("0.49", 100)), ladder(("0.50", 100)), fees=POLITICS_FEES)
    assert result.opportunities == ()
    assert "no size with a net edge" in result.skipped[0].reason


def test_optimum_size_walks_past_the_top_level() -> None:
    # pairs 0-10: 0.40 + 0.50 = 0.90 (+0.10); 10-30: 0.48 + 0.50 = 0.98 (+0.02);
    # 30+: 0.48 + 0.56 = 1.04 (loss) -> q = 30
    # cost YES 10*0.40 + 20*0.48 = 13.60; NO 30*0.50 = 15.00; edge 30 - 28.60 = 1.40
    # (stopping at the top level, q = 10, would make only 1.00)
    yes = ladder(("0.40", 10), ("0.48", 50))
    no = ladder(("0.50", 30), ("0.56", 100))
    (opp,) = scan(yes, no).opportunities
    assert (opp.legs[0].size, opp.cost, opp.edge) == (D(30), D("28.60"), D("1.40"))
    assert [leg.limit_price for leg in opp.legs] == [D("0.48"), D("0.50")]
    assert opp.legs[0].expected_vwap == D("0.45333333")  # 13.60 / 30


def test_min_edge_stops_the_walk_inside_a_thin_margin_level() -> None:
    # 0-10: 1 - 0.40 - 0.500 = +0.100 a pair, edge 1.000 at q = 10
    # then 1 - 0.499 - 0.500 = +0.001 < min_edge 0.005: the average reaches 0.005 after
    # (1.000 - 0.005*10) / (0.005 - 0.001) = 237.5 more -> q = floor(247.5) = 247
    # edge = 1.000 + 237*0.001 = 1.237 > 0.005*247 = 1.235
    yes = ladder(("0.400", 10), ("0.499", 1000))
    no = ladder(("0.500", 1000))
    (opp,) = scan(yes, no, tick="0.001", max_order_notional=D(1000)).opportunities
    assert (opp.legs[0].size, opp.edge) == (D(247), D("1.237"))
    # 247 * 0.499 = 123.253 has 3 decimals: a FOK BUY amount needs 2, so the YES limit moves up
    # to the next price with 247 * p on the cent: 0.500 (123.50)
    assert [leg.limit_price for leg in opp.legs] == [D("0.500"), D("0.500")]


def test_order_notional_cap_limits_the_size() -> None:
    # caps: 100 / 0.45 = 222.2 YES, 100 / 0.50 = 200 NO -> 200 pairs, edge 200 * 0.05 = 10
    (opp,) = scan(ladder(("0.45", 1000)), ladder(("0.50", 1000))).opportunities
    assert (opp.legs[0].size, opp.edge) == (D(200), D("10.00"))
    assert max(leg.size * leg.limit_price for leg in opp.legs) == D("100.00")


def test_an_edge_below_the_minimum_order_size_is_skipped_with_the_reason() -> None:
    result = scan(ladder(("0.45", 3)), ladder(("0.50", 3)))
    assert result.opportunities == ()
    assert "below the minimum order size 5" in result.skipped[0].reason


def test_a_leg_under_one_dollar_is_skipped() -> None:
    # 5 YES at 0.10 = 0.50 pUSD < the $1 marketable minimum
    result = scan(ladder(("0.10", 5)), ladder(("0.80", 5)))
    assert result.opportunities == ()
    assert "marketable minimum" in result.skipped[0].reason


def test_stale_and_missing_books_are_skipped_not_raised() -> None:
    market = binary_market()
    stale = books_by_token(book("y1", ladder(("0.4", 9)), age_seconds=61), book("n1"))
    missing = books_by_token(book("y1"))
    strategy = ComplementArbitrage(params())
    stale_result = strategy.find(catalogue([market]), stale, portfolio(), NOW)
    missing_result = strategy.find(catalogue([market]), missing, portfolio(), NOW)
    assert "stale book for token y1: 61s old > 60s" in stale_result.skipped[0].reason
    assert "no book for token n1" in missing_result.skipped[0].reason


def test_closed_market_with_an_apparent_edge_is_skipped() -> None:
    market = binary_market(closed=True)
    books = books_by_token(book("y1", ladder(("0.45", 100))), book("n1", ladder(("0.50", 100))))
    result = ComplementArbitrage(params()).find(catalogue([market]), books, portfolio(), NOW)
    assert result.opportunities == ()
    assert "is closed" in result.skipped[0].reason


def test_gamma_outcome_prices_never_make_an_opportunity() -> None:
    # Gamma says YES 0.40 + NO 0.50 = 0.90, but the books (one mirrored ladder: NO ask = 1 - YES
    # bid) say YES ask 0.41 + NO ask 0.61 = 1.02: nothing is executable below 1.
    raw = json.loads(
        (RESOURCES / "ChloePike-go-polymarket__gamma_market_559651_2026-08-16.json").read_text()
    )
    raw["outcomePrices"] = json.dumps(["0.40", "0.50"])
    market = parse_gamma_market(raw)
    yes_id, no_id = market.token_ids
    books = books_by_token(
        book(yes_id, ladder(("0.41", 500)), ladder(("0.39", 500)), tick="0.001"),
        book(no_id, ladder(("0.61", 500)), ladder(("0.59", 500)), tick="0.001"),
    )
    result = ComplementArbitrage(params()).find(catalogue([market]), books, portfolio(), NOW)
    assert result.opportunities == () and result.skipped == ()


def test_same_inputs_give_the_same_id_and_a_new_book_hash_a_new_one() -> None:
    first = scan(ladder(("0.45", 100)), ladder(("0.50", 100))).opportunities[0]
    again = scan(ladder(("0.45", 100)), ladder(("0.50", 100))).opportunities[0]
    market = binary_market()
    moved = ComplementArbitrage(params()).find(
        catalogue([market]),
        books_by_token(
            book("y1", ladder(("0.45", 100)), book_hash="other"),
            book("n1", ladder(("0.50", 100)), book_hash="hn"),
        ),
        portfolio(),
        NOW,
    )
    assert first.id == again.id
    assert moved.opportunities[0].id != first.id
