"""Regressions for defects the reliability work found (once strict xfails, now fixed):
a time past year 9999 in a book or trade is bad venue data (the item is skipped, the fetch and
reconcile go on), and an order a killed worker signed and maybe posted counts as exposure
before reconcile resolves it.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine

from pm_lib.auth import credentials_from_mapping
from pm_lib.errors import BadVenueData
from pm_lib.models import OrderType, Side
from pm_lib.portfolio import read_portfolio
from pm_lib.settings import Settings
from pm_lib.sim.server import running_venue
from pm_lib.store import make_engine, session_scope, upgrade
from pm_lib.venue.books import fetch_books
from pm_lib.venue.trading import SignedOrder, TradingClient
from pm_lib.venue.wire import PostOrderAck, parse_book, parse_trade
from tests.execution.builders import request
from tests.execution.conftest import connected
from tests.execution.emulator import COND, FEES, KEY, YES, make_venue
from tests.reliability.payloads import BOOK, TRADE

YEAR_10000_MS = 253_402_300_800_000  # 10000-01-01T00:00:00Z in milliseconds


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


class KilledAfterPost(TradingClient):
    """The worker dies right after the venue took the order, before the answer is stored."""

    def post(self, signed: SignedOrder) -> PostOrderAck:
        super().post(signed)
        raise SystemExit("killed after the post")


def test_an_order_posted_by_a_killed_worker_counts_as_exposure_before_reconcile(
    engine: Engine, tmp_path: object
) -> None:
    with running_venue(make_venue()) as running:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            mode="live",
            clob_url=running.clob_url,
            gamma_url=running.gamma_url,
            http_timeout_seconds=3.0,
        )
        doomed = connected(
            settings,
            engine,
            credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY}),
            KilledAfterPost,
        )
        order = request(
            "r1:o:0", Side.BUY, "10", "0.55", OrderType.FOK, token=YES, condition=COND, fees=FEES
        )
        with pytest.raises(SystemExit):
            doomed.place([order])
    with session_scope(engine, read_only=True) as session:
        state = read_portfolio(session, "live", datetime.now(UTC), settings)
    assert state.open_order_notional == Decimal("5.5")


def test_a_book_stamped_beyond_year_9999_is_bad_venue_data() -> None:
    book = {**copy.deepcopy(BOOK), "timestamp": str(YEAR_10000_MS)}
    with pytest.raises(BadVenueData):
        parse_book(book)


def test_a_trade_matched_beyond_year_9999_is_bad_venue_data() -> None:
    trade = {**TRADE, "match_time": str(YEAR_10000_MS // 1000)}
    with pytest.raises(BadVenueData):
        parse_trade(trade, owner="our-api-key", addresses=["0x" + "11" * 20])


def test_one_absurd_book_does_not_fail_the_whole_books_fetch() -> None:
    absurd = {**copy.deepcopy(BOOK), "timestamp": str(YEAR_10000_MS)}
    good = {**copy.deepcopy(BOOK), "asset_id": "777"}

    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[absurd, good])

    async def go() -> object:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            settings = Settings(_env_file=None, clob_url="http://clob.test")  # type: ignore[call-arg]
            return await fetch_books(client, settings, ["777", BOOK["asset_id"]], datetime.now(UTC))

    batch = asyncio.run(go())
    assert "777" in batch.books  # type: ignore[attr-defined]
