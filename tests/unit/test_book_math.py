"""Book math: hand-computed walks, fees, ticks and venue precision, plus walk properties."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pm_lib.book_math import (
    Walk,
    decimal_places,
    depth_to_limit,
    is_on_tick,
    is_valid_price,
    marketable_buy_limit,
    marketable_spend,
    precision_problem,
    round_size,
    round_to_tick,
    shares_for_notional,
    taker_fee,
    to_micro_units,
    vwap_buy,
    vwap_sell,
    walk_buy,
    walk_sell,
)
from pm_lib.models import FeeSchedule, Level, OrderBook, OrderType, Side

D = Decimal
THIN_ASKS = (Level(price=D("0.50"), size=D(5)), Level(price=D("0.70"), size=D(100)))
BIDS = (Level(price=D("0.48"), size=D(10)), Level(price=D("0.45"), size=D(10)))
POLITICS = FeeSchedule(rate=D("0.04"), exponent=1)
CRYPTO = FeeSchedule(rate=D("0.25"), exponent=2)


# --- walks -------------------------------------------------------------------------------------


def test_buying_20_from_the_thin_book_averages_065() -> None:
    # 5 @ 0.50 = 2.50; 15 @ 0.70 = 10.50; cost 13.00; VWAP 13.00 / 20 = 0.65
    walk = vwap_buy(THIN_ASKS, D(20))
    assert walk is not None
    assert (walk.cost, walk.vwap, walk.worst_price) == (D("13.00"), D("0.65"), D("0.70"))
    assert walk.fills == ((D("0.50"), D(5)), (D("0.70"), D(15)))


def test_vwap_buy_is_none_when_depth_is_short_and_walk_buy_shows_the_partial_fill() -> None:
    # depth is 5 + 100 = 105 < 200
    assert vwap_buy(THIN_ASKS, D(200)) is None
    partial = walk_buy(THIN_ASKS, D(200))
    assert (partial.complete, partial.filled, partial.shortfall) == (False, D(105), D(95))


def test_selling_15_into_the_bids_averages_047() -> None:
    # 10 @ 0.48 = 4.80; 5 @ 0.45 = 2.25; 7.05 / 15 = 0.47
    walk = vwap_sell(BIDS, D(15))
    assert walk is not None
    assert (walk.cost, walk.vwap, walk.worst_price) == (D("7.05"), D("0.47"), D("0.45"))


def test_a_book_or_its_side_give_the_same_walk() -> None:
    book = OrderBook(
        token_id="t",
        condition_id="c",
        bids=BIDS,
        asks=THIN_ASKS,
        tick_size=D("0.01"),
        min_order_size=D(5),
        timestamp=datetime(2026, 11, 23, tzinfo=UTC),
    )
    assert walk_buy(book, D(20)) == walk_buy(THIN_ASKS, D(20))
    assert walk_sell(book, D(15)) == walk_sell(BIDS, D(15))


def test_an_empty_walk_has_no_vwap() -> None:
    walk = walk_buy((), D(5))
    assert (walk.filled, walk.vwap, walk.worst_price) == (D(0), None, None)


def test_walk_fee_is_charged_per_level() -> None:
    # level 1: 5 * 0.04 * (0.50 * 0.50) = 0.05; level 2: 15 * 0.04 * (0.70 * 0.30) = 0.126
    walk = walk_buy(THIN_ASKS, D(20), POLITICS)
    assert walk.fee == D("0.176")
    assert walk.cost_with_fee == D("13.176")


def test_per_level_fee_floors_each_level_separately() -> None:
    # each level: 1 * 0.04 * 0.99 * 0.01 = 0.000396 -> floored 0.00039; two levels 0.00078
    # (one match of 2 shares would be 0.000792 -> 0.00079: per-level never understates)
    asks = (Level(price=D("0.99"), size=D(1)), Level(price=D("0.99"), size=D(1)))
    assert walk_buy(asks, D(2), POLITICS).fee == D("0.00078")


def test_shares_for_notional_spends_at_most_the_budget() -> None:
    # 5 @ 0.50 = 2.50 leaves 7.50; 7.50 / 0.70 = 10.714.. -> 10.71 shares for 7.497
    walk = shares_for_notional(THIN_ASKS, D(10))
    assert (walk.filled, walk.cost) == (D("15.71"), D("9.997"))


def test_shares_for_notional_takes_all_depth_when_the_book_runs_out() -> None:
    # whole book: 2.50 + 70.00 = 72.50 < 100
    walk = shares_for_notional(THIN_ASKS, D(100))
    assert (walk.filled, walk.cost) == (D(105), D("72.50"))


def test_depth_to_limit_counts_levels_at_or_better_than_the_limit() -> None:
    assert depth_to_limit(THIN_ASKS, Side.BUY, D("0.60")) == D(5)
    assert depth_to_limit(THIN_ASKS, Side.BUY, D("0.70")) == D(105)
    assert depth_to_limit(BIDS, Side.SELL, D("0.46")) == D(10)


# --- fees --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shares", "price", "fees", "expected"),
    [
        # 100 * 0.04 * (0.5 * 0.5) = 1.00000
        (D(100), D("0.50"), POLITICS, D("1.00000")),
        # 10 * 0.25 * (0.5 * 0.5) ** 2 = 10 * 0.25 * 0.0625 = 0.15625
        (D(10), D("0.50"), CRYPTO, D("0.15625")),
        # 1 * 0.04 * 0.99 * 0.01 = 0.000396 -> 0.00039 (floor; half-up would say 0.00040)
        (D(1), D("0.99"), POLITICS, D("0.00039")),
        # 0.0006 * 0.04 * 0.25 = 0.000006: under 0.00001 -> 0 (half-up would say 0.00001)
        (D("0.0006"), D("0.50"), POLITICS, D(0)),
        # no schedule, zero rate -> no fee
        (D(100), D("0.50"), None, D(0)),
        (D(100), D("0.50"), FeeSchedule.none(), D(0)),
    ],
)
def test_taker_fee_by_hand(
    shares: Decimal, price: Decimal, fees: FeeSchedule | None, expected: Decimal
) -> None:
    assert taker_fee(shares, price, fees) == expected


# --- ticks and precision -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "tick", "mode", "expected"),
    [
        (D("0.5234"), D("0.01"), "down", D("0.52")),
        (D("0.5234"), D("0.01"), "up", D("0.53")),
        (D("0.525"), D("0.01"), "nearest", D("0.52")),  # half-even, like Python round()
        (D("0.535"), D("0.01"), "nearest", D("0.54")),
        # 0.50126 / 0.0025 = 200.504 ticks -> 200 or 201
        (D("0.50126"), D("0.0025"), "down", D("0.5000")),
        (D("0.50126"), D("0.0025"), "up", D("0.5025")),
    ],
)
def test_round_to_tick(price: Decimal, tick: Decimal, mode: str, expected: Decimal) -> None:
    assert round_to_tick(price, tick, mode) == expected  # type: ignore[arg-type]


def test_valid_prices_are_on_tick_and_inside_tick_and_one_minus_tick() -> None:
    tick = D("0.001")
    assert is_valid_price(D("0.001"), tick) and is_valid_price(D("0.999"), tick)
    assert not is_valid_price(D("1.000"), tick)
    assert not is_valid_price(D("0"), tick)
    assert not is_on_tick(D("0.0005"), tick)


def test_decimal_places_ignore_trailing_zeros() -> None:
    assert (decimal_places(D("1.50")), decimal_places(D(100)), decimal_places(D("0.001"))) == (
        1,
        0,
        3,
    )


def test_fok_buy_with_a_four_decimal_amount_is_refused_but_gtc_is_not() -> None:
    # py-clob-client#121: 1.74 @ 0.58 = 1.0092 pUSD, 4 decimals > 2 for a FOK BUY
    problem = precision_problem(Side.BUY, D("1.74"), D("0.58"), D("0.01"), OrderType.FOK)
    assert problem is not None and "maker amount 1.0092" in problem
    assert precision_problem(Side.BUY, D("1.74"), D("0.58"), D("0.01"), OrderType.GTC) is None


def test_fok_sell_taker_amount_may_have_four_decimals_not_five() -> None:
    # 10.5 * 0.583 = 6.1215 (4) is fine; 10.55 * 0.583 = 6.15065 (5) is not
    tick = D("0.001")
    assert precision_problem(Side.SELL, D("10.5"), D("0.583"), tick, OrderType.FOK) is None
    assert precision_problem(Side.SELL, D("10.55"), D("0.583"), tick, OrderType.FOK) is not None


def test_three_decimal_sizes_and_unknown_ticks_are_refused() -> None:
    assert "size 1.234" in str(
        precision_problem(Side.BUY, D("1.234"), D("0.5"), D("0.01"), OrderType.GTC)
    )
    assert "tick size 0.02" in str(
        precision_problem(Side.BUY, D(5), D("0.5"), D("0.02"), OrderType.GTC)
    )


def test_marketable_buy_limit_moves_up_to_a_two_decimal_amount() -> None:
    # 19 * 0.583 = 11.077; needs 19 * n / 1000 to have 2 decimals -> n multiple of 10 -> 0.590
    assert marketable_buy_limit(D(19), D("0.583"), D("0.001")) == D("0.590")
    # 20 * 0.583 = 11.66 already has 2 decimals
    assert marketable_buy_limit(D(20), D("0.583"), D("0.001")) == D("0.583")
    # 19 * 0.995 = 18.905; the next 2-decimal price 1.00 is above 1 - tick
    assert marketable_buy_limit(D(19), D("0.995"), D("0.001")) is None


def test_sizes_round_down_to_cents_and_amounts_convert_to_micro_units() -> None:
    assert round_size(D("4.359")) == D("4.35")
    assert to_micro_units(D("1.0092")) == 1_009_200
    with pytest.raises(ValueError, match="more than 6 decimals"):
        to_micro_units(D("0.0000001"))


# --- properties ----------------------------------------------------------------------------------

CENT = D("0.01")
sizes = st.integers(min_value=1, max_value=100_000).map(lambda n: D(n) * CENT)


@st.composite
def ask_ladders(draw: st.DrawFn) -> tuple[Level, ...]:
    ticks = draw(st.lists(st.integers(1, 99), min_size=1, max_size=8, unique=True))
    return tuple(Level(price=D(t) * CENT, size=draw(sizes)) for t in sorted(ticks))


def _all_decimal(walk: Walk) -> bool:
    values = [walk.requested, walk.filled, walk.cost, walk.fee]
    values += [x for fill in walk.fills for x in fill]
    return all(type(v) is Decimal for v in values)


@given(asks=ask_ladders(), a=sizes, b=sizes)
def test_buy_vwap_never_falls_as_size_grows(asks: tuple[Level, ...], a: D, b: D) -> None:
    small, large = sorted((a, b))
    first, second = walk_buy(asks, small), walk_buy(asks, large)
    if first.vwap is not None and second.vwap is not None:
        assert first.vwap <= second.vwap
        # and exactly, without the 8-decimal rounding of vwap
        assert first.cost * second.filled <= second.cost * first.filled


@given(asks=ask_ladders(), size=sizes)
def test_buy_vwap_is_never_better_than_the_best_ask(asks: tuple[Level, ...], size: D) -> None:
    walk = walk_buy(asks, size)
    assert walk.vwap is not None and walk.worst_price is not None
    assert asks[0].price <= walk.vwap <= walk.worst_price


@given(asks=ask_ladders(), size=sizes)
def test_sell_vwap_is_never_better_than_the_best_bid(asks: tuple[Level, ...], size: D) -> None:
    bids = tuple(reversed(asks))  # best (highest) first
    walk = walk_sell(bids, size)
    assert walk.vwap is not None
    assert walk.vwap <= bids[0].price


@given(asks=ask_ladders(), size=sizes)
def test_walk_cost_is_the_exact_sum_of_its_fills(asks: tuple[Level, ...], size: D) -> None:
    walk = walk_buy(asks, size, POLITICS)
    assert walk.cost == sum((p * s for p, s in walk.fills), D(0))
    assert walk.filled == sum((s for _, s in walk.fills), D(0))
    assert walk.fee == sum((taker_fee(s, p, POLITICS) for p, s in walk.fills), D(0))
    assert _all_decimal(walk)


@given(asks=ask_ladders(), usd=sizes)
def test_shares_for_notional_never_overspends(asks: tuple[Level, ...], usd: D) -> None:
    walk = shares_for_notional(asks, usd)
    assert walk.cost <= usd
    assert _all_decimal(walk)


def test_fractional_fee_exponent_as_listed_live_for_economics_markets() -> None:
    # fee = shares * rate * (p(1-p)) ** 0.5; p = 0.2: p(1-p) = 0.16, sqrt = 0.4
    # 100 * 0.03 * 0.4 = 1.2 exactly; p = 0.5: sqrt(0.25) = 0.5 -> 100 * 0.03 * 0.5 = 1.5
    economics = FeeSchedule(rate=D("0.03"), exponent=D("0.5"))
    assert taker_fee(D(100), D("0.2"), economics) == D("1.2")
    assert taker_fee(D(100), D("0.5"), economics) == D("1.5")


def test_marketable_spend_is_what_executes_along_the_book_up_to_the_limit() -> None:
    asks = (Level(price=D("0.05"), size=D(8)), Level(price=D("0.11"), size=D(100)))
    bids = (Level(price=D("0.40"), size=D(3)), Level(price=D("0.30"), size=D(100)))
    assert marketable_spend(asks, Side.BUY, D(10), D("0.11")) == D("0.62")  # not 1.10
    assert marketable_spend(asks, Side.BUY, D(10), D("0.05")) == D("0.40")  # the rest rests
    assert marketable_spend(asks, Side.BUY, D(10), D("0.04")) == D(0)  # not marketable
    assert marketable_spend(bids, Side.SELL, D(5), D("0.30")) == D("1.80")  # 1.20 + 0.60
    assert marketable_spend(bids, Side.SELL, D(5), D("0.35")) == D("1.20")
