"""The fast cold-book path (integer ticks and cents) serves exactly what the Decimal path does.

The reference is the obviously-correct path: ``depth.background_levels`` (Decimal levels drawn
through ``random.Random``'s own methods) serialised by ``wire_out.book_json_levels`` (orjson of
the payload, then the hash). The fast path is ``depth_ticks.background_ticks`` serialised by
``wire_book_ticks.TickBook``, which ``MarketData.book_bodies`` serves for untouched books.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from pm_lib.sim.depth import background_levels
from pm_lib.sim.depth_ticks import background_ticks, tick_count
from pm_lib.sim.evolution import BackgroundBooks
from pm_lib.sim.quotes import DipKind, Generation
from pm_lib.sim.seeding import stream
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.sim.wire_book_ticks import TickBook, cents_str
from pm_lib.sim.wire_out import book_json_levels, decimal_str

_STREAM_DEPTH = 21  # evolution._STREAM_DEPTH
_GENERATIONS = [Generation(epoch, window) for epoch in (0, 1, 2, 5, 9) for window in (True, False)]


def _books() -> BackgroundBooks:
    # Dips made frequent so arbitrage touches and thin (depth near miss) asks are covered.
    venue = SimVenue(
        SimConfig(markets=800, seed=5, negrisk_dip_rate=0.3, negrisk_near_miss_rate=0.4)
    )
    books = venue.market_data.books
    assert books is not None
    return books


@pytest.fixture(scope="module")
def books() -> BackgroundBooks:
    return _books()


def test_tick_levels_are_the_decimal_levels(books: BackgroundBooks) -> None:
    seen: Counter[str] = Counter()
    for gen in _GENERATIONS:
        for cond, market in books.state.markets.items():
            quote = books.model.quote(cond, gen)
            profile = books.profiles.get(cond)
            if quote is None or profile is None:
                continue
            seed = (books.model.settings.seed, _STREAM_DEPTH, profile.index, gen.epoch)
            count = tick_count(market.tick_size)
            assert count is not None
            tick = market.tick_size
            bids, asks = background_ticks(quote, count, tick, profile.depth, stream(*seed))
            as_decimals = tuple(
                [(tick * p, Decimal(s).scaleb(-2)) for p, s in side] for side in (bids, asks)
            )
            assert as_decimals == background_levels(market, quote, profile.depth, stream(*seed))
            seen[quote.dip or "none"] += 1
            seen["thin"] += quote.thin_ask is not None
    assert seen[DipKind.ARBITRAGE] and seen[DipKind.DEPTH_NEAR_MISS] and seen["thin"]
    assert seen["none"] > 1000


def test_tick_book_bodies_are_the_reference_bytes(books: BackgroundBooks) -> None:
    compared = 0
    for gen in _GENERATIONS[:4]:
        for cond, market in books.state.markets.items():
            if cond not in books.profiles or market.closed:
                continue
            quote = books.model.quote(cond, gen)
            count = tick_count(market.tick_size)
            assert count is not None
            book = TickBook(market, books.background_in_ticks(cond, gen, quote, count), count)
            reference = books.background(cond, gen)
            for is_yes in (True, False):
                expected = book_json_levels(market, is_yes, reference, 1_795_400_000_123)
                assert book.body(is_yes, 1_795_400_000_123) == expected
                compared += 1
    assert compared > 5000


def test_served_cold_books_are_the_reference_bytes() -> None:
    venue = SimVenue(SimConfig(markets=300, seed=9, book_epoch_seconds=0))
    venue.state.clock.frozen_at = 1_795_400_000.5
    md = venue.market_data
    assert md.books is not None
    odd = next(m for m in venue.state.markets.values() if not m.closed)
    odd.tick_size = Decimal("0.003")  # not a venue tick: served through the Decimal levels
    tokens = [(m, yes) for m in venue.state.markets.values() for yes in (True, False)]
    served = md.book_bodies(tokens)
    for (market, is_yes), body in zip(tokens, served, strict=True):
        if market.closed:
            continue
        reference = md.books.background(market.condition_id, Generation(0, False))
        assert body == book_json_levels(market, is_yes, reference, 1_795_400_000_500)


def test_a_tick_that_does_not_divide_one_has_no_tick_count() -> None:
    assert tick_count(Decimal("0.003")) is None
    assert tick_count(Decimal("0.0025")) == 400


@pytest.mark.parametrize("cents", [100, 101, 110, 199, 2500, 12_340, 12_345, 99_999_999, 10**9])
def test_cents_print_as_the_clob_prints_sizes(cents: int) -> None:
    assert cents_str(cents) == decimal_str(Decimal(cents).scaleb(-2))
