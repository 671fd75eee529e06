"""Hostile venue payloads: typed errors, the item skipped and logged, the scan goes on.

Three levels, each fed by ``tests/reliability/payloads.py``:

1. every ``parse_*`` at the venue edge either returns a sane domain object or raises
   ``BadVenueData`` (never KeyError, TypeError, InvalidOperation, a pydantic error...);
2. the fetchers (``POST /books``, Gamma keyset pages) skip and log a bad item and keep the rest;
3. a whole scan on the emulator with one leg's book or market replaced by a broken one places
   nothing in that basket, while a second, clean basket is still traded.

``PM_FUZZ_EXAMPLES`` scales the number of examples (default 150 per parser property).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings

from pm_lib.errors import BadVenueData
from pm_lib.models import ZERO, OrderBook
from pm_lib.settings import Settings
from pm_lib.venue.books import fetch_books
from pm_lib.venue.gamma import fetch_catalogue
from pm_lib.venue.wire import (
    TICK_SIZES,
    is_open_order_book_market,
    parse_book,
    parse_clob_market_info,
    parse_gamma_event,
    parse_gamma_market,
    parse_open_order,
    parse_post_order_response,
    parse_trade,
)
from tests.reliability import payloads

EXAMPLES = int(os.environ.get("PM_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FETCH = settings(FUZZ, max_examples=max(10, EXAMPLES // 3))
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
GOOD_BOOK = payloads.BOOK
GOOD_MARKET = payloads.GAMMA_MARKET


def assert_sane_book(book: OrderBook) -> None:
    """What every parsed book promises the strategies."""
    for levels, best_first in ((book.bids, True), (book.asks, False)):
        prices = [level.price for level in levels]
        assert prices == sorted(prices, reverse=best_first) and len(set(prices)) == len(prices)
        assert all(ZERO < p < 1 and p.is_finite() for p in prices)
        assert all(level.size > ZERO and level.size.is_finite() for level in levels)
    if book.bids and book.asks:
        assert book.bids[0].price < book.asks[0].price
    assert book.tick_size in TICK_SIZES and book.min_order_size > ZERO
    assert book.token_id.isascii() and book.token_id.isdigit()


# --- 1. the parsers ----------------------------------------------------------------------


@FUZZ
@given(payloads.book_payloads())
def test_a_book_payload_becomes_a_sane_book_or_bad_venue_data(raw: Any) -> None:
    try:
        book = parse_book(raw)
    except BadVenueData as e:
        assert e.kind == "book" and e.reason
        return
    assert_sane_book(book)


@FUZZ
@given(payloads.broken_books())
def test_a_broken_book_is_always_refused(raw: dict[str, Any]) -> None:
    try:
        parse_book(raw)
    except BadVenueData as e:
        assert e.reason
    else:
        raise AssertionError(f"accepted a broken book: {raw}")


@FUZZ
@given(payloads.gamma_market_payloads())
def test_a_gamma_market_becomes_a_sane_market_or_bad_venue_data(raw: Any) -> None:
    try:
        market = parse_gamma_market(raw)
    except BadVenueData as e:
        assert e.kind == "market" and e.reason
        return
    assert len(market.outcomes) >= 2 and len(set(market.token_ids)) == len(market.token_ids)
    assert all(t.isascii() and t.isdigit() for t in market.token_ids)
    assert market.tick_size in TICK_SIZES and market.min_order_size > ZERO
    assert ZERO <= market.fees.rate <= 1


@FUZZ
@given(payloads.broken_gamma_markets(GOOD_MARKET))
def test_a_broken_gamma_market_is_always_refused(raw: dict[str, Any]) -> None:
    try:
        parse_gamma_market(raw)
    except BadVenueData as e:
        assert e.reason
    else:
        raise AssertionError(f"accepted a broken market: {raw}")


@FUZZ
@given(payloads.gamma_event_payloads())
def test_a_gamma_event_is_parsed_or_refused_with_bad_venue_data(raw: Any) -> None:
    try:
        event = parse_gamma_event(raw)
    except BadVenueData:
        return
    assert all(c.startswith("0x") and len(c) == 66 for c in event.market_condition_ids)


@FUZZ
@given(payloads.clob_market_info_payloads())
def test_clob_market_info_is_parsed_or_refused_with_bad_venue_data(raw: Any) -> None:
    try:
        info = parse_clob_market_info(raw)
    except BadVenueData:
        return
    assert len(info.tokens) >= 2 and info.min_order_size > ZERO


@FUZZ
@given(payloads.order_payloads())
def test_an_order_is_parsed_or_refused_with_bad_venue_data(raw: Any) -> None:
    try:
        order = parse_open_order(raw)
    except BadVenueData:
        return
    assert ZERO <= order.size_matched <= order.original_size


@FUZZ
@given(payloads.trade_payloads())
def test_a_trade_is_parsed_or_refused_with_bad_venue_data(raw: Any) -> None:
    try:
        found = parse_trade(raw, owner="our-api-key", addresses=["0x" + "11" * 20])
    except BadVenueData:
        return
    assert all(f.size > ZERO and ZERO < f.price < 1 for f in found)


@FUZZ
@given(payloads.post_ack_payloads())
def test_an_order_ack_is_parsed_or_refused_with_bad_venue_data(raw: Any) -> None:
    try:
        ack = parse_post_order_response(raw)
    except BadVenueData:
        return
    assert isinstance(ack.success, bool)


# --- 2. the fetchers -------------------------------------------------------------------------


class Records(logging.Handler):
    """Collects the log records of one logger while in use."""

    def __init__(self, name: str) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self._logger = logging.getLogger(name)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> Records:
        self._logger.addHandler(self)
        self._previous = self._logger.level
        self._logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._previous)


def on_the_wire(payload: Any) -> bytes:
    """``payload`` as a lax server would send it (NaN and Infinity written as such)."""
    return json.dumps(payload, allow_nan=True).encode()


def answering(payload: Any) -> httpx.AsyncClient:
    """A client whose every request is answered with ``payload(request)`` as JSON."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=on_the_wire(payload(request)))

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def as_received(payload: Any) -> Any:
    """What pm-agent's JSON decoder makes of ``payload`` (orjson: integers beyond 64 bits
    become floats); raises ``orjson.JSONDecodeError`` when the document is not JSON at all."""
    return orjson.loads(on_the_wire(payload))


def offline_settings() -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, clob_url="http://clob.test", gamma_url="http://gamma.test"
    )


@FETCH
@given(payloads.book_payloads())
def test_books_fetch_skips_and_logs_a_bad_book_and_keeps_the_good_one(raw: Any) -> None:
    good = {**GOOD_BOOK, "asset_id": "777"}
    wanted = ["777", str(GOOD_BOOK["asset_id"])]

    async def go() -> Any:
        async with answering(lambda _request: [raw, good]) as client:
            return await fetch_books(client, offline_settings(), wanted, NOW)

    try:
        received = as_received(raw)
    except orjson.JSONDecodeError:  # NaN/Infinity literals: the whole answer is not JSON
        with pytest.raises(BadVenueData):
            asyncio.run(go())
        return
    with Records("pm_lib.venue.books") as log:
        batch = asyncio.run(go())
    assert "777" in batch.books
    try:
        parse_book(received)
    except BadVenueData as e:
        assert [(s.kind, s.reason) for s in batch.skipped] == [("book", e.reason)]
        assert any(e.reason in r.getMessage() for r in log.records)


@FETCH
@given(payloads.gamma_market_payloads())
def test_catalogue_fetch_skips_and_logs_a_bad_market_and_keeps_the_good_one(raw: Any) -> None:
    good = {**GOOD_MARKET, "id": "777", "conditionId": "0x" + "77" * 32}
    good["clobTokenIds"] = '["7771", "7772"]'

    def page(request: httpx.Request) -> Any:
        if request.url.path.endswith("/events/keyset"):
            return {"events": []}
        return {"markets": [raw, good]}

    async def go() -> Any:
        async with answering(page) as client:
            return await fetch_catalogue(client, offline_settings(), NOW)

    try:
        received = as_received(raw)
    except orjson.JSONDecodeError:  # NaN/Infinity literals: the whole page is not JSON
        with pytest.raises(BadVenueData):
            asyncio.run(go())
        return
    with Records("pm_lib.venue.gamma") as log:
        catalogue = asyncio.run(go())
    assert "0x" + "77" * 32 in catalogue.market_by_condition()
    if not isinstance(received, dict) or not is_open_order_book_market(received):
        return  # not listed for trading: neither parsed nor an error
    try:
        parse_gamma_market(received)
    except BadVenueData as e:
        assert [s.reason for s in catalogue.skipped] == [e.reason]
        assert any(e.reason in r.getMessage() for r in log.records)
    else:
        assert len(catalogue.markets) == 2 - (received.get("conditionId") == good["conditionId"])


def test_a_huge_book_is_parsed_best_first() -> None:
    book = parse_book(payloads.huge_book(4000))
    assert (len(book.bids), len(book.asks)) == (4000, 4000)
    assert (book.bids[0].price, book.asks[0].price) == (Decimal("0.4000"), Decimal("0.6000"))
