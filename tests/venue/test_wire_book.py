"""parse_book and book_hash on recorded live books and on broken ones."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pm_lib.errors import BadVenueData
from pm_lib.venue.wire import book_hash, parse_book
from tests.venue.conftest import load_resource

FULL_LIVE_BOOKS = ("sajiiid09-polywatch__book.json", "ra1nty-polymarket-cli__book.json")


def test_live_best_last_book_comes_out_best_first(live_book: dict[str, Any]) -> None:
    book = parse_book(live_book)

    bid_prices = [level.price for level in book.bids]
    ask_prices = [level.price for level in book.asks]
    assert bid_prices == sorted(bid_prices, reverse=True)
    assert ask_prices == sorted(ask_prices)
    assert (book.best_bid, book.best_ask) == (Decimal("0.3"), Decimal("0.43"))


def test_live_book_fields_are_exact_and_typed(live_book: dict[str, Any]) -> None:
    book = parse_book(live_book)

    assert book.token_id == live_book["asset_id"]
    assert book.condition_id == live_book["market"]
    assert book.tick_size == Decimal("0.01")
    assert book.min_order_size == Decimal(5)
    assert book.neg_risk is True
    assert book.last_trade_price == Decimal("0.430")
    assert book.hash == "392ec3ffd9bb39e5eaa0961367b1c3b34d64eff4"
    assert book.bids[-1].size == Decimal("869.76")


def test_millisecond_timestamp_becomes_aware_utc(live_book: dict[str, Any]) -> None:
    book = parse_book(live_book)

    assert book.timestamp == datetime(2026, 9, 5, 19, 34, 10, 933000, tzinfo=UTC)


def test_book_with_an_empty_side_parses(resource: Callable[[str], Any]) -> None:
    book = parse_book(resource("ra1nty-polymarket-cli__book.json"))

    assert book.bids == ()
    assert book.best_ask == Decimal("0.001")
    assert len(book.asks) == 104


@pytest.mark.parametrize("name", FULL_LIVE_BOOKS)
def test_book_hash_recomputes_the_live_hash(name: str, resource: Callable[[str], Any]) -> None:
    raw = resource(name)

    assert book_hash(raw) == raw["hash"]


def test_book_hash_changes_when_a_level_changes(live_book: dict[str, Any]) -> None:
    live_book["asks"][0]["size"] = "11"

    assert book_hash(live_book) != live_book["hash"]


def test_extra_keys_on_a_level_are_tolerated(live_book: dict[str, Any]) -> None:
    live_book["asks"][0]["orders"] = 3

    assert parse_book(live_book).asks[-1].size == Decimal("10")


def test_json_number_prices_become_exact_decimals(live_book: dict[str, Any]) -> None:
    live_book["bids"] = [{"price": 0.3, "size": 60.25}]

    book = parse_book(live_book)

    assert book.bids[0].price == Decimal("0.3")
    assert book.bids[0].size == Decimal("60.25")


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(book: dict[str, Any]) -> None:
        if "." in path:
            side, index, field = path.split(".")
            book[side][int(index)][field] = value
        elif value is _DELETE:
            del book[path]
        else:
            book[path] = value

    return mutate


_DELETE = object()

BROKEN_BOOKS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("missing asset id", _set("asset_id", _DELETE), "missing field 'asset_id'"),
    ("token id not digits", _set("asset_id", "0xabc"), "not a decimal token id"),
    ("bad condition id", _set("market", "abc"), "condition id"),
    ("bids not a list", _set("bids", "[]"), "'bids' should be a list"),
    ("missing asks", _set("asks", _DELETE), "missing field 'asks'"),
    ("price not a number", _set("bids.0.price", "abc"), "not a decimal number"),
    ("price NaN", _set("bids.0.price", "NaN"), "not a finite number"),
    ("size infinite", _set("asks.0.size", "Infinity"), "not a finite number"),
    ("price missing", _set("asks.0.price", None), "expected a number"),
    ("price zero", _set("bids.0.price", "0"), "outside (0, 1)"),
    ("price one", _set("asks.0.price", "1"), "outside (0, 1)"),
    ("price above one", _set("asks.0.price", "1.5"), "outside (0, 1)"),
    ("price negative", _set("bids.0.price", "-0.01"), "outside (0, 1)"),
    ("size zero", _set("bids.0.size", "0"), "not positive"),
    ("size negative", _set("asks.0.size", "-3"), "not positive"),
    ("duplicate bid level", _set("bids.1.price", "0.01"), "duplicate bids price level 0.01"),
    ("crossed book", _set("bids.0.price", "0.5"), "crossed book"),
    ("locked book", _set("bids.0.price", "0.43"), "crossed book"),
    ("tick not a venue tick", _set("tick_size", "0.02"), "not a venue tick size"),
    ("timestamp not a number", _set("timestamp", "yesterday"), "'timestamp'"),
    ("neg_risk not a bool", _set("neg_risk", "true"), "'neg_risk' should be true/false"),
    ("min size zero", _set("min_order_size", "0"), "not positive"),
    ("last trade above one", _set("last_trade_price", "2"), "outside [0, 1]"),
]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [pytest.param(m, r, id=name) for name, m, r in BROKEN_BOOKS],
)
def test_broken_book_is_bad_venue_data_with_a_clear_reason(
    live_book: dict[str, Any], mutate: Callable[[dict[str, Any]], None], reason: str
) -> None:
    mutate(live_book)

    with pytest.raises(BadVenueData) as caught:
        parse_book(live_book)

    assert caught.value.kind == "book"
    assert reason in caught.value.reason


def test_non_object_book_is_bad_venue_data() -> None:
    with pytest.raises(BadVenueData, match="expected a JSON object"):
        parse_book(["not", "a", "book"])


def test_level_that_is_not_an_object_is_named(live_book: dict[str, Any]) -> None:
    live_book["asks"][2] = ["0.5", "10"]

    with pytest.raises(BadVenueData, match=r"asks\[2\] is not an object"):
        parse_book(live_book)


@given(seed=st.integers(min_value=0, max_value=2**32))
def test_wire_order_of_levels_does_not_change_the_book(seed: int) -> None:
    raw = load_resource("sajiiid09-polywatch__book.json")
    expected = parse_book(raw)
    rng = random.Random(seed)
    rng.shuffle(raw["bids"])
    rng.shuffle(raw["asks"])

    assert parse_book(raw) == expected
