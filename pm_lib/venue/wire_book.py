"""CLOB order books (``GET /book``, ``POST /books``) decoded into ``OrderBook``, and the book hash.

Venue quirks (docs/VENUE.md 4.3):
- the live ``/book`` returns bids ascending and asks descending, i.e. the best price LAST (the
  docs say the opposite); ``parse_book`` sorts, so every ``OrderBook`` is best first;
- every price and size is a decimal string, ``timestamp`` is a millisecond string;
- ``hash`` is the SHA1 of the compact JSON of the book in a fixed key order with ``hash`` set to
  ``""`` (recipe from py_clob_client_v2/utilities.py; recomputes the live hash on both full
  recorded captures), so the emulator can emit genuine hashes with ``book_hash``.

Speed and size: a 50,000-market scan parses ~100k books and ~1.3 M levels, so a level is
decoded with ``Decimal`` directly (prices shared per wire string) and built without a second
pydantic validation (``_level``); the slow path runs only to name the field of a malformed level.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from itertools import pairwise
from operator import itemgetter
from typing import Any, Final, TypeVar

from pydantic import BaseModel

from pm_lib.errors import BadVenueData
from pm_lib.models import ZERO, Level, OrderBook
from pm_lib.venue.wire_fields import WireObject, to_decimal

__all__ = ["book_hash", "parse_book"]

_ONE: Final = Decimal(1)
_FIRST: Final = itemgetter(0)
_NEW: Final = object.__new__
_SET: Final = object.__setattr__
# Shared fields-sets: never mutated in place (pydantic's model_copy copies before updating).
_LEVEL_FIELDS: Final = set(Level.model_fields)
_BOOK_FIELDS: Final = set(OrderBook.model_fields)
_SHARED_NUMBERS: dict[str, Decimal] = {}
_BOOK_PRICES: dict[str, Decimal] = {}  # wire price strings of prices in (0, 1) only
_MAX_SHARED_NUMBERS: Final = 100_000
_M = TypeVar("_M", bound=BaseModel)

# Key order of the server's hash payload (py_clob_client_v2 generate_orderbook_summary_hash).
_HASHED_KEYS: Final = (
    "market",
    "asset_id",
    "timestamp",
    "hash",
    "bids",
    "asks",
    "min_order_size",
    "tick_size",
    "neg_risk",
    "last_trade_price",
)


def book_hash(obj: Mapping[str, Any]) -> str:
    """The venue's book hash of a raw book object (wire strings, wire level order).

    SHA1 over ``json.dumps(payload, separators=(",", ":"), ensure_ascii=False)`` where the payload
    has the keys above in that order, ``hash`` set to ``""`` and levels reduced to price/size.
    """
    payload: dict[str, Any] = {}
    for key in _HASHED_KEYS:
        if key in ("bids", "asks"):
            levels = obj.get(key) or []
            if not isinstance(levels, list) or not all(isinstance(x, Mapping) for x in levels):
                raise BadVenueData("book", str(obj.get("asset_id")), f"{key} is not a level list")
            payload[key] = [{"price": x.get("price"), "size": x.get("size")} for x in levels]
        else:
            payload[key] = "" if key == "hash" else obj.get(key)
    serialized = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha1(serialized.encode("utf-8")).hexdigest()


def _levels_slowly(wire: WireObject, side: str, raw: list[Any]) -> list[tuple[Decimal, Decimal]]:
    # Only reached when the fast path failed: name the first bad level. Levels that merely carry
    # extra keys are fine (the venue adding a field must not blank every book).
    levels: list[tuple[Decimal, Decimal]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise wire.bad(f"{side}[{i}] is not an object: {item!r}")
        try:
            price = to_decimal(item.get("price"))
            size = to_decimal(item.get("size"))
        except ValueError as e:
            raise wire.bad(f"{side}[{i}]: {e}") from None
        levels.append((price, size))
    return levels


def _number(text: object) -> Decimal:
    # Prices, ticks and minimum sizes repeat across books (one price grid), so one Decimal per
    # distinct wire string is shared by every level that quotes it (~1.3 M levels at 50k
    # markets). Sizes vary too much to share.
    if type(text) is str:
        cached = _SHARED_NUMBERS.get(text)
        if cached is not None:
            return cached
        number = to_decimal(text)
        if len(_SHARED_NUMBERS) < _MAX_SHARED_NUMBERS:
            _SHARED_NUMBERS[text] = number
        return number
    return to_decimal(text)


def _book_price(wire: WireObject, side: str, item: Mapping[str, Any]) -> Decimal:
    # A price not seen yet: decoded, range-checked (a bad one raises), then remembered, so
    # later levels quoting it skip both (one price grid: a few thousand distinct strings).
    text = item["price"]
    price = _number(text)
    if not ZERO < price < _ONE:
        _check_level(wire, side, price, _size(item["size"]))
    if type(text) is str and len(_BOOK_PRICES) < _MAX_SHARED_NUMBERS:
        _BOOK_PRICES[text] = price
    return price


def _size(value: object) -> Decimal:
    if type(value) is str:
        number = Decimal(value)  # junk raises InvalidOperation: the slow path names it
        if number.is_finite():
            return number
    return to_decimal(value)


def _decoded_levels(wire: WireObject, side: str, raw: list[Any]) -> list[tuple[Decimal, Decimal]]:
    try:
        return [(_number(item["price"]), _size(item["size"])) for item in raw]
    except (ArithmeticError, LookupError, TypeError, ValueError):
        return _levels_slowly(wire, side, raw)


def _built(model: type[_M], fields_set: set[str], values: dict[str, Any]) -> _M:
    """A model instance of values this module has checked, built as ``model_construct`` does.

    Pydantic re-validating ~1.3 M levels took ~7 us and ~690 bytes each (with a fields-set per
    instance). Values here are already exact, finite and range-checked; one shared fields-set
    and attribute-by-attribute assignment (a key-sharing instance dict) make a level ~220 bytes.
    The result compares, hashes and dumps like a validated instance (checked against the former
    pydantic-validated parser on 19,910 emulator books: equal, same repr; see the commit).
    """
    instance = _NEW(model)
    for name, value in values.items():
        _SET(instance, name, value)
    _SET(instance, "__pydantic_fields_set__", fields_set)
    _SET(instance, "__pydantic_extra__", None)
    _SET(instance, "__pydantic_private__", None)
    return instance


def _level(price: Decimal, size: Decimal) -> Level:
    # _built, unrolled: this runs ~1.3 M times in a 50,000-market scan.
    level = _NEW(Level)
    _SET(level, "price", price)
    _SET(level, "size", size)
    _SET(level, "__pydantic_fields_set__", _LEVEL_FIELDS)
    _SET(level, "__pydantic_extra__", None)
    _SET(level, "__pydantic_private__", None)
    return level


def _checked_pairs(
    wire: WireObject, side: str, pairs: list[tuple[Decimal, Decimal]]
) -> tuple[Level, ...]:
    # The general path: any level order, levels already decoded (by the slow path or not).
    descending = side == "bids"
    for price, size in pairs:
        _check_level(wire, side, price, size)
    pairs.sort(key=_FIRST, reverse=descending)
    for (better, _), (worse, _) in pairwise(pairs):
        if better == worse:
            raise wire.bad(f"duplicate {side} price level {better}")
    return tuple([_level(price, size) for price, size in pairs])


def _check_level(wire: WireObject, side: str, price: Decimal, size: Decimal) -> None:
    if not ZERO < price < _ONE:
        raise wire.bad(f"{side} price {price} outside (0, 1)")
    if size <= ZERO:
        raise wire.bad(f"{side} size {size} at price {price} is not positive")


def _side(wire: WireObject, side: str) -> tuple[Level, ...]:
    raw = wire.fields.get(side)
    if raw is None:
        raise wire.bad(f"missing field {side!r}")
    if not isinstance(raw, list):
        raise wire.bad(f"field {side!r} should be a list, got {type(raw).__name__}")
    # The wire sends best last (bids ascending, asks descending): reversed, that is best first.
    # One pass decodes and checks each level, builds it and watches whether the wire order
    # holds; a book in any other order (or with a level the fast decode refuses) takes the
    # general path, which sorts, finds duplicates and names a bad level.
    descending = side == "bids"
    levels: list[Level] = []
    previous = None
    try:
        for item in raw:
            price = _BOOK_PRICES.get(item["price"])
            if price is None:
                price = _book_price(wire, side, item)
            size = _size(item["size"])
            if size <= ZERO:
                _check_level(wire, side, price, size)
            if previous is not None and (previous >= price if descending else previous <= price):
                return _checked_pairs(wire, side, _decoded_levels(wire, side, raw))
            previous = price
            levels.append(_level(price, size))
    except (ArithmeticError, LookupError, TypeError, ValueError):
        return _checked_pairs(wire, side, _levels_slowly(wire, side, raw))
    levels.reverse()
    return tuple(levels)


def _shared_decimal(wire: WireObject, key: str, *, required: bool) -> Decimal | None:
    value = wire.fields.get(key)
    if value is None or value == "":
        if required:
            raise wire.bad(f"missing field {key!r}")
        return None
    try:
        return _number(value)
    except ValueError as e:
        raise wire.bad(f"field {key!r}: {e}") from None


def parse_book(obj: object) -> OrderBook:
    """Decode one CLOB book object into an ``OrderBook`` with bids and asks best first.

    Raises ``BadVenueData`` for missing or mistyped fields, non-finite numbers, a price outside
    (0, 1), a size <= 0, a duplicate price level on one side, or a crossed book (best bid >=
    best ask). The venue's ``hash`` is kept as sent.
    """
    wire = WireObject(obj, "book", ("asset_id",))
    token_id = wire.token_id("asset_id")
    bids = _side(wire, "bids")
    asks = _side(wire, "asks")
    if bids and asks and bids[0].price >= asks[0].price:
        raise wire.bad(f"crossed book: best bid {bids[0].price} >= best ask {asks[0].price}")
    last_trade = _shared_decimal(wire, "last_trade_price", required=False)
    if last_trade is not None and not ZERO <= last_trade <= _ONE:
        raise wire.bad(f"last_trade_price {last_trade} outside [0, 1]")
    minimum_size = _shared_decimal(wire, "min_order_size", required=True)
    if minimum_size is None or minimum_size <= ZERO:
        raise wire.bad(f"min_order_size {minimum_size} is not positive")
    hash_value = wire.fields.get("hash", "")
    if not isinstance(hash_value, str):
        raise wire.bad(f"field 'hash' should be a string, got {hash_value!r}")
    values = {
        "token_id": token_id,
        "condition_id": wire.condition_id("market"),
        "bids": bids,
        "asks": asks,
        "tick_size": wire.tick("tick_size"),
        "min_order_size": minimum_size,
        "neg_risk": wire.flag("neg_risk"),
        "hash": hash_value,
        "timestamp": wire.epoch_datetime("timestamp", millis=True),
        "last_trade_price": last_trade,
    }
    return _built(OrderBook, _BOOK_FIELDS, values)
