"""Background books move with the venue clock, deterministically, and never touch users' orders."""

from __future__ import annotations

from collections import deque
from decimal import Decimal

import pytest

from pm_lib.sim.evolution import TopOfBook
from pm_lib.sim.market_admin import move_clock, set_book
from pm_lib.sim.quotes import DipKind
from pm_lib.sim.state import RestingOrder, SimEvent, SimMarket
from pm_lib.sim.venue import SimConfig, SimVenue

ONE = Decimal(1)
EPOCH = 30.0
START = 1_795_400_000.0


def _venue(**options: object) -> SimVenue:
    config = SimConfig(markets=400, seed=21, book_epoch_seconds=EPOCH, universe_anchor=START)
    for name, value in options.items():
        setattr(config, name, value)
    return SimVenue(config)


def _at(venue: SimVenue, seconds_after_start: float) -> None:
    """Freeze the venue clock ``seconds_after_start`` after epoch 0 began."""
    move_clock(venue.state.clock, {"freeze": True, "set": START + seconds_after_start})


def _tops(venue: SimVenue) -> dict[str, TopOfBook | None]:
    md = venue.market_data
    return {c: md.top_of_book(m) for c, m in venue.state.markets.items()}


def _quoted(venue: SimVenue) -> SimMarket:
    for m in venue.state.markets.values():
        top = venue.market_data.top_of_book(m)
        if top and top.bid and top.ask and top.bid > Decimal("0.1") and top.ask < Decimal("0.9"):
            return m
    raise AssertionError("no mid-range market")


def test_books_move_when_the_clock_crosses_an_epoch() -> None:
    venue = _venue()
    _at(venue, 1.0)
    before = _tops(venue)
    _at(venue, EPOCH + 1.0)
    after = _tops(venue)
    moved = sum(1 for c in before if before[c] != after[c])
    assert moved > len(before) / 4


def test_books_stay_within_an_epoch() -> None:
    venue = _venue()
    _at(venue, EPOCH * 3 + 12.0)  # after the dip window, so only the epoch matters
    before = _tops(venue)
    _at(venue, EPOCH * 3 + 29.0)
    assert _tops(venue) == before


def test_the_same_clock_shows_the_same_books_in_two_venues() -> None:
    a, b = _venue(), _venue()
    for venue in (a, b):
        _at(venue, EPOCH * 7 + 3.0)
    market = _quoted(a)
    body_a = a.market_data.book_body(a.state.markets[market.condition_id], True)
    body_b = b.market_data.book_body(b.state.markets[market.condition_id], True)
    assert body_a == body_b


def test_users_orders_survive_a_move_and_are_never_crossed() -> None:
    venue = _venue()
    _at(venue, 1.0)
    market = _quoted(venue)
    ladder = venue.state.ladders[market.condition_id]
    top = venue.market_data.top_of_book(market)
    assert top is not None and top.bid is not None
    mine = RestingOrder("0xmine", "BUY", top.bid, Decimal(7), owner="api-key-1")
    ladder.bids.setdefault(top.bid, deque()).append(mine)
    ladder.version += 1
    for epoch in range(1, 12):
        _at(venue, EPOCH * epoch + 1.0)
        ladder = venue.state.ladders[market.condition_id]
        assert mine in ladder.bids[top.bid] and mine.remaining == 7
        assert min(ladder.asks) > top.bid


@pytest.mark.parametrize("cached_books", [0, 1000])  # rebuilt, or served from detached bytes
def test_evicted_books_come_back_identical(cached_books: int) -> None:
    venue = _venue(max_books_in_memory=8, max_cached_books=cached_books)
    _at(venue, EPOCH * 2 + 15.0)
    market = _quoted(venue)
    first = venue.market_data.book_body(market, False)
    for other in list(venue.state.markets.values())[:50]:
        if not other.closed:
            venue.market_data.book_body(other, True)
    assert not venue.state.ladders.is_built(market.condition_id)  # type: ignore[attr-defined]
    assert venue.market_data.book_body(market, False) == first


def test_a_book_set_by_control_stops_evolving() -> None:
    venue = _venue()
    _at(venue, 1.0)
    market = _quoted(venue)
    set_book(venue.market_data, market.no_token, [["0.40", "10"]], [["0.45", "20"]])
    _at(venue, EPOCH * 5 + 1.0)
    top = venue.market_data.top_of_book(market)
    assert top == TopOfBook(
        ONE - Decimal("0.45"), ONE - Decimal("0.40"), top.last_trade if top else None
    )


def _groups(venue: SimVenue) -> list[SimEvent]:
    return [e for e in venue.state.events.values() if e.neg_risk and not e.neg_risk_augmented]


def _ask_sum(venue: SimVenue, event: SimEvent) -> Decimal:
    md = venue.market_data
    tops = [md.top_of_book(venue.state.markets[c]) for c in event.condition_ids]
    return sum((t.ask for t in tops if t is not None and t.ask is not None), Decimal(0))


def test_neg_risk_asks_dip_below_one_only_in_the_window_after_a_move() -> None:
    venue = _venue(negrisk_dip_rate=1.0, negrisk_near_miss_rate=0.0, dip_window_seconds=10.0)
    _at(venue, EPOCH * 4 + 2.0)
    inside = {e.event_id: _ask_sum(venue, e) for e in _groups(venue)}
    _at(venue, EPOCH * 4 + 20.0)
    after = {e.event_id: _ask_sum(venue, e) for e in _groups(venue)}
    assert all(total < 1 for total in inside.values())
    assert all(total > 1 for total in after.values())


def test_without_dips_every_group_keeps_asks_above_one_across_epochs() -> None:
    venue = _venue(negrisk_dip_rate=0.0, negrisk_near_miss_rate=0.0)
    for epoch in range(0, 6):
        _at(venue, EPOCH * epoch + 1.0)
        assert all(_ask_sum(venue, e) > 1 for e in _groups(venue))


def test_a_depth_near_miss_has_a_best_ask_thinner_than_the_minimum_order() -> None:
    venue = _venue(negrisk_dip_rate=0.0, negrisk_near_miss_rate=1.0)
    _at(venue, EPOCH * 3 + 1.0)
    model = venue.market_data.books.model if venue.market_data.books else None
    assert model is not None
    event = next(
        e for e in _groups(venue) if model.dip_of(e.event_id, 3) == DipKind.DEPTH_NEAR_MISS
    )
    thin = []
    for cond in event.condition_ids:
        market = venue.state.markets[cond]
        ladder = venue.state.ladders[cond]
        best = min(ladder.asks)
        size = sum((o.remaining for o in ladder.asks[best]), Decimal(0))
        thin.append(size < market.min_order_size)
    assert _ask_sum(venue, event) < 1 and any(thin)


def test_binary_books_are_mirrored_so_yes_and_no_asks_sum_above_one() -> None:
    venue = _venue()
    _at(venue, EPOCH * 9 + 1.0)
    md = venue.market_data
    for market in list(venue.state.markets.values())[:100]:
        if market.closed:
            continue
        with venue.state.lock:
            ladder = md.ladder(market)
        yes_asks = ladder.token_levels(True)[1]
        no_asks = ladder.token_levels(False)[1]
        if yes_asks and no_asks:
            assert yes_asks[0][0] + no_asks[0][0] > 1


def test_a_built_book_is_not_rederived_within_an_epoch() -> None:
    venue = _venue()
    _at(venue, EPOCH * 3 + 12.0)
    cond = _quoted(venue).condition_id
    first = venue.state.ladders[cond]
    version = first.version
    _at(venue, EPOCH * 3 + 20.0)
    assert venue.state.ladders[cond] is first
    assert first.version == version  # background fills would persist until the next move
