"""The emulator's market channel, spoken to over a real WebSocket (docs/EMULATOR.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from pm_lib.sim.market_admin import set_book
from pm_lib.sim.server import RunningVenue
from pm_lib.venue.wire_book import book_hash


def _url(running: RunningVenue, channel: str = "market") -> str:
    return f"ws://{running.host}:{running.port}/ws/{channel}"


async def _recv(ws: Any, timeout: float = 3.0) -> Any:
    return orjson.loads(await asyncio.wait_for(ws.recv(), timeout))


def test_snapshot_then_price_changes_whose_hash_is_the_book_hash(
    stream_venue: RunningVenue,
) -> None:
    venue = stream_venue.venue
    market = next(m for m in venue.state.markets.values() if not m.closed)

    async def go() -> None:
        async with connect(_url(stream_venue)) as ws:
            await ws.send(orjson.dumps({"assets_ids": [market.yes_token], "type": "market"}))
            [book] = await _recv(ws)
            assert book["event_type"] == "book" and book["asset_id"] == market.yes_token
            served = orjson.loads(venue.market_data.book_body(market, True))
            assert book_hash(served) == book["hash"] == served["hash"]  # the /book hash
            set_book(venue.market_data, market.yes_token, [["0.40", "100"]], [["0.45", "50"]])
            change = await _recv(ws)
            assert change["event_type"] == "price_change"
            entries = change["price_changes"]
            assert {e["asset_id"] for e in entries} == {market.yes_token}  # NO not subscribed
            assert all(e["best_bid"] == "0.4" and e["best_ask"] == "0.45" for e in entries)
            served = orjson.loads(venue.market_data.book_body(market, True))  # what /book says now
            assert entries[0]["hash"] == served["hash"]
            await ws.send("PING")
            assert await asyncio.wait_for(ws.recv(), 3) == "PONG"

    asyncio.run(go())


def test_the_asset_cap_closes_an_oversized_subscription(stream_venue: RunningVenue) -> None:
    stream_venue.venue.config.ws_max_assets = 3
    tokens = [t for m in list(stream_venue.venue.state.markets.values())[:2] for t in m.token_ids]

    async def go() -> None:
        async with connect(_url(stream_venue)) as ws:
            await ws.send(orjson.dumps({"assets_ids": tokens, "type": "market"}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 3)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert "at most 3" in closed.value.rcvd.reason

    asyncio.run(go())


def test_an_idle_connection_is_closed(stream_venue: RunningVenue) -> None:
    stream_venue.venue.config.ws_idle_seconds = 0.3
    market = next(iter(stream_venue.venue.state.markets.values()))

    async def go() -> None:
        async with connect(_url(stream_venue)) as ws:
            await ws.send(orjson.dumps({"assets_ids": [market.yes_token], "type": "market"}))
            await _recv(ws)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 3)

    asyncio.run(go())


def test_custom_features_and_unsubscribe(stream_venue: RunningVenue) -> None:
    venue = stream_venue.venue
    a, b = [m for m in venue.state.markets.values() if not m.closed][:2]

    async def go() -> None:
        async with connect(_url(stream_venue)) as ws:
            await ws.send(
                orjson.dumps(
                    {"assets_ids": [a.yes_token], "type": "market", "custom_feature_enabled": True}
                )
            )
            await _recv(ws)
            await ws.send(orjson.dumps({"assets_ids": [b.yes_token], "operation": "subscribe"}))
            [snap] = await _recv(ws)
            assert snap["asset_id"] == b.yes_token
            await ws.send(orjson.dumps({"assets_ids": [a.yes_token], "operation": "unsubscribe"}))
            await asyncio.sleep(0.1)
            set_book(venue.market_data, a.yes_token, [["0.30", "10"]], [["0.35", "10"]])
            set_book(venue.market_data, b.yes_token, [["0.20", "10"]], [["0.25", "10"]])
            kinds = []
            for _ in range(2):
                msg = await _recv(ws)
                kinds.append(msg["event_type"])
                assert msg["market"] == b.condition_id
            assert kinds == ["price_change", "best_bid_ask"]

    asyncio.run(go())


RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "ws"


def test_events_carry_every_key_of_the_recorded_live_ones(stream_venue: RunningVenue) -> None:
    recorded_book = orjson.loads((RESOURCES / "book_event.json").read_bytes())
    recorded_change = orjson.loads((RESOURCES / "price_change_v2.json").read_bytes())
    venue = stream_venue.venue
    market = next(m for m in venue.state.markets.values() if not m.closed)

    async def go() -> None:
        async with connect(_url(stream_venue)) as ws:
            await ws.send(orjson.dumps({"assets_ids": [market.yes_token], "type": "market"}))
            [book] = await _recv(ws)
            set_book(venue.market_data, market.yes_token, [["0.40", "100"]], [["0.45", "50"]])
            change = await _recv(ws)
        assert set(recorded_book) <= set(book)
        assert set(recorded_change) <= set(change)
        assert set(recorded_change["price_changes"][0]) <= set(change["price_changes"][0])
        for key, value in recorded_change["price_changes"][0].items():
            assert type(change["price_changes"][0][key]) is type(value), key

    asyncio.run(go())
