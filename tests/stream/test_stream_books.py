"""pm-agent's streamed books against the emulator's market channel: snapshots, deltas, gaps and
their POST /books resync, dropped and silent connections, reconnect storms."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import orjson
import pytest

from pm_lib.sim.market_admin import set_book
from pm_lib.sim.server import RunningVenue
from pm_lib.sim.state import SimMarket
from pm_lib.stream.books import StreamBooks
from tests.stream.conftest import eventually, stream_settings, streaming


def _tokens(running: RunningVenue) -> list[str]:
    return [t for m in running.venue.state.markets.values() if not m.closed for t in m.token_ids]


def _open_market(running: RunningVenue, n: int = 0) -> SimMarket:
    return [m for m in running.venue.state.markets.values() if not m.closed][n]


def _matches_venue(books: StreamBooks, running: RunningVenue, market: SimMarket) -> bool:
    served = orjson.loads(running.venue.market_data.book_body(market, True))
    local = books.books.get(market.yes_token)
    return (
        local is not None
        and local.trusted
        and local.bids == {x["price"]: x["size"] for x in served["bids"]}
        and local.asks == {x["price"]: x["size"] for x in served["asks"]}
    )


def _ws_fault(running: RunningVenue, **fault: object) -> None:
    httpx.post(f"{running.clob_url}/_sim/ws-faults", json=fault).raise_for_status()


def test_snapshots_over_shards_then_deltas(stream_venue: RunningVenue, tmp_path: Path) -> None:
    settings = stream_settings(stream_venue, tmp_path, ws_max_assets=25)
    tokens = _tokens(stream_venue)
    market = _open_market(stream_venue)

    async def go() -> None:
        async with streaming(settings, tokens) as (stream, _):
            assert len(stream.shards) == -(-len(tokens) // 25)
            assert all(stream.books.trusted(t) for t in tokens)
            stream.books.drain_changed()
            set_book(
                stream_venue.venue.market_data, market.yes_token, [["0.31", "7"]], [["0.33", "9"]]
            )
            await eventually(lambda: market.yes_token in stream.books.changed)
            assert _matches_venue(stream.books, stream_venue, market)
            book = stream.books.books[market.yes_token].order_book()
            assert (book.best_bid, book.best_ask) == (book.bids[0].price, book.asks[0].price)
            assert str(book.best_ask) == "0.33"
            assert stream.books.counters.gaps == 0

    asyncio.run(go())


def test_a_missed_message_is_caught_by_the_hash_and_resynced_through_post_books(
    stream_venue: RunningVenue, tmp_path: Path
) -> None:
    settings = stream_settings(stream_venue, tmp_path)
    market = _open_market(stream_venue)
    md = stream_venue.venue.market_data

    async def go() -> None:
        async with streaming(settings, list(market.token_ids)) as (stream, _):
            _ws_fault(stream_venue, kind="gap", count=1)
            await asyncio.sleep(0.1)  # the pump applies the fault
            set_book(md, market.yes_token, [["0.31", "7"]], [["0.33", "9"]])  # lost
            await asyncio.sleep(0.2)
            assert stream.books.counters.gaps == 0  # unnoticed until the next change
            set_book(md, market.yes_token, [["0.31", "7"]], [["0.34", "9"]])
            await eventually(lambda: stream.books.counters.gaps >= 1)
            await eventually(lambda: _matches_venue(stream.books, stream_venue, market))
            assert stream.books.counters.resynced_books >= 1
            assert stream.books.books[market.yes_token].best() == ("0.31", "0.34")

    asyncio.run(go())


def test_a_dropped_connection_untrusts_reconnects_and_resnapshots(
    stream_venue: RunningVenue, tmp_path: Path
) -> None:
    settings = stream_settings(stream_venue, tmp_path)
    market = _open_market(stream_venue)

    async def go() -> None:
        async with streaming(settings, list(market.token_ids)) as (stream, _):
            [shard] = stream.shards
            _ws_fault(stream_venue, kind="drop")
            await eventually(lambda: shard.connections >= 2 and shard.connected)
            await eventually(lambda: stream.books.trusted(market.yes_token))
            set_book(
                stream_venue.venue.market_data, market.yes_token, [["0.2", "5"]], [["0.25", "5"]]
            )
            await eventually(lambda: _matches_venue(stream.books, stream_venue, market))
            assert stream.books.counters.reconnects >= 1

    asyncio.run(go())


def test_a_silent_stall_takes_the_books_out_of_trading_until_the_stream_is_back(
    stream_venue: RunningVenue, tmp_path: Path
) -> None:
    settings = stream_settings(stream_venue, tmp_path)
    market = _open_market(stream_venue)

    async def go() -> None:
        async with streaming(settings, list(market.token_ids)) as (stream, _):
            _ws_fault(stream_venue, kind="stall", seconds=30)
            stalled_at = time.monotonic()
            await eventually(lambda: not stream.live(market.yes_token), timeout=3)
            assert time.monotonic() - stalled_at < 2.5  # stale_seconds 1.0 + a watchdog step
            await eventually(lambda: stream.books.counters.stale >= 1, timeout=1)
            # the reconnect gets a fresh (unstalled) connection and its snapshot
            await eventually(
                lambda: stream.live(market.yes_token) and stream.books.trusted(market.yes_token)
            )

    asyncio.run(go())


@pytest.mark.slow
def test_a_reconnect_storm_is_ridden_out_with_backoff(
    stream_venue: RunningVenue, tmp_path: Path
) -> None:
    settings = stream_settings(stream_venue, tmp_path)
    market = _open_market(stream_venue)

    async def go() -> None:
        async with streaming(settings, list(market.token_ids)) as (stream, _):
            _ws_fault(stream_venue, kind="storm", seconds=1.5)
            await eventually(lambda: not stream.books.trusted(market.yes_token), timeout=2)
            await eventually(lambda: stream.books.trusted(market.yes_token), timeout=8)
            # jittered exponential backoff (0.05 s doubling to 0.5 s): a handful, not hundreds
            assert 1 <= stream.books.counters.reconnects <= 20

    asyncio.run(go())
