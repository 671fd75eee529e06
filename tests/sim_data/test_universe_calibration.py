"""The generated universe matches the recorded live venue (docs/EMULATOR.md, calibration)
within tolerances, and the same seed always draws the same universe."""

from __future__ import annotations

import statistics
from dataclasses import astuple
from decimal import Decimal

import pytest

from pm_lib.sim.market_admin import move_clock
from pm_lib.sim.universe import generate_universe
from pm_lib.sim.venue import SimConfig, SimVenue

SEED, N, ANCHOR = 5, 5000, 1_795_400_000.0
ZERO = Decimal(0)


@pytest.fixture(scope="module")
def venue() -> SimVenue:
    """The universe at epoch 0 (clock frozen at the anchor): as generated, before any move."""
    venue = SimVenue(SimConfig(markets=N, seed=SEED, universe_anchor=ANCHOR))
    move_clock(venue.state.clock, {"freeze": True, "set": ANCHOR + 1})
    return venue


@pytest.fixture(scope="module")
def quoted(venue: SimVenue) -> list[tuple[Decimal, Decimal | None, Decimal]]:
    """(tick, best bid, best ask) of every quoted market at epoch 0."""
    out = []
    for m in venue.state.markets.values():
        top = venue.market_data.top_of_book(m)
        if top is not None and top.ask is not None:
            out.append((m.tick_size, top.bid, top.ask))
    return out


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


def test_size_and_neg_risk_share(venue: SimVenue) -> None:
    markets = list(venue.state.markets.values())
    assert len(markets) == N
    # PROFILE A: 1612/2100 = 76.8% of market snapshots are neg-risk.
    assert _share([m.neg_risk for m in markets]) == pytest.approx(0.768, abs=0.03)


def test_tick_shares_and_minimum_size(venue: SimVenue) -> None:
    markets = list(venue.state.markets.values())
    # PROFILE A: tick 0.001 on 75.0%, 0.01 on 25.0%; orderMinSize 5 everywhere.
    assert _share([m.tick_size == Decimal("0.001") for m in markets]) == pytest.approx(
        0.75, abs=0.05
    )
    assert {m.tick_size for m in markets} == {Decimal("0.001"), Decimal("0.01")}
    assert {m.min_order_size for m in markets} == {Decimal(5)}


def test_spreads_are_one_tick_at_the_median_and_two_cents_at_p90(
    quoted: list[tuple[Decimal, Decimal | None, Decimal]],
) -> None:
    spreads = sorted(ask - (bid or ZERO) for _, bid, ask in quoted)
    in_ticks = [(ask - (bid or ZERO)) / tick for tick, bid, ask in quoted]
    # PROFILE A: spread in ticks p50 = 1 (57.2% one tick); spread p90 = 0.02.
    assert statistics.median(in_ticks) == 1
    assert _share([t == 1 for t in in_ticks]) == pytest.approx(0.572, abs=0.05)
    assert spreads[int(len(spreads) * 0.9)] == Decimal("0.02")


def test_prices_pile_near_zero_and_one(
    quoted: list[tuple[Decimal, Decimal | None, Decimal]],
) -> None:
    mids = [((bid or ZERO) + ask) / 2 for _, bid, ask in quoted]
    extreme = [m < Decimal("0.05") or m > Decimal("0.95") for m in mids]
    # PROFILE A: two thirds (66.7%) of YES prices are below 0.05 or above 0.95.
    assert _share(extreme) == pytest.approx(0.667, abs=0.05)
    # PROFILE A: 263 of 2100 rows (12.5%) have no bestBid (empty bid side).
    assert _share([bid is None for _, bid, _ in quoted]) == pytest.approx(0.125, abs=0.04)


def test_fee_schedules_follow_the_live_captures(venue: SimVenue) -> None:
    markets = list(venue.state.markets.values())
    assert _share([m.fees_enabled for m in markets]) == pytest.approx(1 / 3, abs=0.03)
    schedules = {(m.fee_type, m.fee_rate, m.fee_exponent) for m in markets if m.fees_enabled}
    assert ("politics_fees", Decimal("0.04"), 1) in schedules
    assert ("sports_fees_v3", Decimal("0.05"), 1) in schedules
    assert ("crypto_fees", Decimal("0.25"), 2) in schedules
    assert all(m.fee_type is None for m in markets if not m.fees_enabled)


def test_neg_risk_groups_are_sized_and_priced_like_recorded_events(venue: SimVenue) -> None:
    md = venue.market_data
    sizes: list[int] = []
    ask_sums: list[Decimal] = []
    bid_sums: list[Decimal] = []
    for event in venue.state.events.values():
        if not event.neg_risk:
            continue
        sizes.append(len(event.condition_ids))
        if event.neg_risk_augmented:
            continue
        tops = [md.top_of_book(venue.state.markets[c]) for c in event.condition_ids]
        if all(t is not None and t.ask is not None for t in tops):
            ask_sums.append(sum((t.ask for t in tops if t and t.ask), ZERO))
            bid_sums.append(sum(((t.bid or ZERO) for t in tops if t), ZERO))
    # PROFILE A/B: page groups p50 10-17 legs; complete events 7-36 legs.
    assert 9 <= statistics.median(sizes) <= 17 and max(sizes) >= 30
    # PROFILE B: sum of best YES asks 1.003-1.156 (never < 1), bids 0.847-0.999 (never > 1).
    assert min(ask_sums) > 1 and 1.01 <= statistics.median(ask_sums) <= 1.08
    assert max(bid_sums) < 1 and 0.94 <= statistics.median(bid_sums) <= 0.995
    assert any(e.neg_risk_augmented for e in venue.state.events.values())


def test_end_dates_are_mostly_ahead_with_some_within_the_hour(venue: SimVenue) -> None:
    open_markets = [m for m in venue.state.markets.values() if not m.closed]
    ends = [m.end_date.timestamp() for m in open_markets if m.end_date]
    assert _share([e > ANCHOR for e in ends]) == 1.0
    assert 0.005 <= _share([e < ANCHOR + 3600 for e in ends]) <= 0.06
    closed = [m for m in venue.state.markets.values() if m.closed]
    assert 0.002 <= len(closed) / N <= 0.03
    assert any(not m.accepting_orders and not m.closed for m in venue.state.markets.values())


def test_same_seed_draws_the_same_universe() -> None:
    a = generate_universe(SEED, 500, ANCHOR)
    b = generate_universe(SEED, 500, ANCHOR)
    assert [astuple(m) for m in a.markets] == [astuple(m) for m in b.markets]
    assert [astuple(p) for p in a.profiles.values()] == [astuple(p) for p in b.profiles.values()]


def test_another_seed_draws_another_universe() -> None:
    a = generate_universe(SEED, 200, ANCHOR)
    b = generate_universe(SEED + 1, 200, ANCHOR)
    assert {m.condition_id for m in a.markets}.isdisjoint({m.condition_id for m in b.markets})
