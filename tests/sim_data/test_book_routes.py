"""The emulator's /book and /books: live shape, best-last order, genuine hash, mirrored NO book."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from py_clob_client_v2.utilities import (
    generate_orderbook_summary_hash,
    parse_raw_orderbook_summary,
)

from pm_lib.sim.server import RunningVenue
from pm_lib.sim.state import SimMarket
from pm_lib.venue.wire import book_hash
from tests.sim_data.conftest import resource

NO_BOOK = {"error": "No orderbook exists for the requested token id"}


def _open_market(served: RunningVenue, **want: Any) -> SimMarket:
    md = served.venue.market_data
    for market in served.venue.state.markets.values():
        top = md.top_of_book(market)
        if top is None or top.bid is None or top.ask is None:
            continue
        if all(getattr(market, k) == v for k, v in want.items()):
            return market
    raise AssertionError(f"no quoted market with {want}")


def _book(clob: httpx.Client, token: str) -> dict[str, Any]:
    response = clob.get("/book", params={"token_id": token})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_book_has_the_keys_and_json_types_of_the_live_book(
    clob: httpx.Client, served: RunningVenue
) -> None:
    live = resource("sajiiid09-polywatch__book.json")
    book = _book(clob, _open_market(served).yes_token)
    assert list(book) == list(live)
    assert {k: type(v) for k, v in book.items()} == {k: type(v) for k, v in live.items()}
    levels = book["bids"] + book["asks"]
    assert levels and all(set(lv) == {"price", "size"} for lv in levels)
    assert all(isinstance(lv["price"], str) and isinstance(lv["size"], str) for lv in levels)


def test_book_lists_the_best_price_last(clob: httpx.Client, served: RunningVenue) -> None:
    book = _book(clob, _open_market(served).yes_token)
    bids = [Decimal(lv["price"]) for lv in book["bids"]]
    asks = [Decimal(lv["price"]) for lv in book["asks"]]
    assert bids == sorted(bids) and len(bids) >= 2
    assert asks == sorted(asks, reverse=True) and len(asks) >= 2
    assert bids[-1] < asks[-1]


def test_book_hash_recomputes_with_the_venue_edge_and_sdk_recipes(
    clob: httpx.Client, served: RunningVenue
) -> None:
    tokens = [t for m in served.venue.state.markets.values() if not m.closed for t in m.token_ids]
    books = clob.post("/books", json=[{"token_id": t} for t in tokens[:400]]).json()
    assert len(books) == 400
    assert all(book_hash(book) == book["hash"] for book in books)
    sdk = [generate_orderbook_summary_hash(parse_raw_orderbook_summary(b)) for b in books[:50]]
    assert sdk == [b["hash"] for b in books[:50]]


def _levels(side: list[dict[str, str]]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(lv["price"]), Decimal(lv["size"])) for lv in side]


def test_no_book_is_the_reflection_of_the_yes_book(
    clob: httpx.Client, served: RunningVenue
) -> None:
    market = _open_market(served)
    yes, no = _book(clob, market.yes_token), _book(clob, market.no_token)
    assert _levels(no["bids"]) == [(1 - p, s) for p, s in _levels(yes["asks"])]
    assert _levels(no["asks"]) == [(1 - p, s) for p, s in _levels(yes["bids"])]
    assert no["market"] == yes["market"] and no["asset_id"] == market.no_token


def test_unknown_token_is_404_with_the_live_body(clob: httpx.Client) -> None:
    response = clob.get("/book", params={"token_id": "12345678901234567890"})
    assert response.status_code == 404
    assert response.json() == NO_BOOK


def test_malformed_token_is_400_invalid_token_id(clob: httpx.Client) -> None:
    response = clob.get("/book", params={"token_id": "0xnot-a-token"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid token id"}


def test_books_accepts_500_tokens_and_leaves_unknown_ones_out(
    clob: httpx.Client, served: RunningVenue
) -> None:
    tokens = [t for m in served.venue.state.markets.values() if not m.closed for t in m.token_ids]
    asked = [*tokens[:499], "999"]
    response = clob.post("/books", json=[{"token_id": t} for t in asked])
    assert response.status_code == 200
    assert [b["asset_id"] for b in response.json()] == tokens[:499]


def test_books_refuses_501_tokens_with_400(clob: httpx.Client, served: RunningVenue) -> None:
    tokens = [t for m in served.venue.state.markets.values() for t in m.token_ids][:501]
    response = clob.post("/books", json=[{"token_id": t} for t in tokens])
    assert response.status_code == 400
    assert "error" in response.json()


def test_books_serves_the_same_bytes_as_book_for_each_token(
    clob: httpx.Client, served: RunningVenue
) -> None:
    market = _open_market(served)
    batch = clob.post("/books", json=[{"token_id": market.yes_token}]).json()
    assert batch == [_book(clob, market.yes_token)]


def test_closed_market_has_no_order_book(clob: httpx.Client, served: RunningVenue) -> None:
    closed = next(m for m in served.venue.state.markets.values() if m.closed)
    response = clob.get("/book", params={"token_id": closed.yes_token})
    assert response.status_code == 404
    assert response.json() == NO_BOOK
