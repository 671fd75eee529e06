"""CLOB order books (``GET /book``, ``POST /books``) decoded into ``OrderBook``, and the book hash.

Venue quirks (VENUE-FACTS 4.3):
- the live ``/book`` returns bids ascending and asks descending, i.e. the best price LAST (the
  docs say the opposite); ``parse_book`` sorts, so every ``OrderBook`` is best first;
- every price and size is a decimal string, ``timestamp`` is a millisecond string;
- ``hash`` is the SHA1 of the compact JSON of the book in a fixed key order with ``hash`` set to
  ``""`` (recipe from py_clob_client_v2/utilities.py; recomputes the live hash on both full
  recorded captures), so the emulator can emit genuine hashes with ``book_hash``.

Speed: a scan parses ~100k books, so levels are validated into ``Level`` in one pydantic call
(Rust loop) and only prices/sizes are checked in Python; the slow path runs only to name the
field of a malformed level.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from itertools import pairwise
from operator import attrgetter
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from pm_lib.models import ZERO, Level, OrderBook
from pm_lib.venue.errors import BadVenueData
from pm_lib.venue.wire_fields import WireObject, to_decimal

__all__ = ["book_hash", "parse_book"]

_ONE: Final = Decimal(1)
_LEVELS: Final = TypeAdapter(tuple[Level, ...])
_PRICE: Final = attrgetter("price")

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


def _levels_slowly(wire: WireObject, side: str, raw: list[Any]) -> tuple[Level, ...]:
    # Only reached when the fast path failed: name the first bad level, or accept levels that
    # merely carry extra keys (the venue adding a field must not blank every book).
    levels: list[Level] = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise wire.bad(f"{side}[{i}] is not an object: {item!r}")
        try:
            price = to_decimal(item.get("price"))
            size = to_decimal(item.get("size"))
        except ValueError as e:
            raise wire.bad(f"{side}[{i}]: {e}") from None
        levels.append(Level(price=price, size=size))
    return tuple(levels)


def _side(wire: WireObject, side: str) -> list[Level]:
    raw = wire.fields.get(side)
    if raw is None:
        raise wire.bad(f"missing field {side!r}")
    if not isinstance(raw, list):
        raise wire.bad(f"field {side!r} should be a list, got {type(raw).__name__}")
    try:
        levels = _LEVELS.validate_python(raw)
    except ValidationError:
        levels = _levels_slowly(wire, side, raw)
    for level in levels:
        if not ZERO < level.price < _ONE:
            raise wire.bad(f"{side} price {level.price} outside (0, 1)")
        if level.size <= ZERO:
            raise wire.bad(f"{side} size {level.size} at price {level.price} is not positive")
    # Best first: bids descending, asks ascending. The wire's best-last order is one reversed
    # run, which the sort detects in linear time.
    ordered = sorted(levels, key=_PRICE, reverse=(side == "bids"))
    for better, worse in pairwise(ordered):
        if better.price == worse.price:
            raise wire.bad(f"duplicate {side} price level {better.price}")
    return ordered


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
    last_trade = wire.optional_decimal("last_trade_price")
    if last_trade is not None and not ZERO <= last_trade <= _ONE:
        raise wire.bad(f"last_trade_price {last_trade} outside [0, 1]")
    minimum_size = wire.decimal("min_order_size")
    if minimum_size <= ZERO:
        raise wire.bad(f"min_order_size {minimum_size} is not positive")
    hash_value = wire.fields.get("hash", "")
    if not isinstance(hash_value, str):
        raise wire.bad(f"field 'hash' should be a string, got {hash_value!r}")
    return OrderBook(
        token_id=token_id,
        condition_id=wire.condition_id("market"),
        bids=tuple(bids),
        asks=tuple(asks),
        tick_size=wire.tick("tick_size"),
        min_order_size=minimum_size,
        neg_risk=wire.flag("neg_risk"),
        hash=hash_value,
        timestamp=wire.epoch_datetime("timestamp", millis=True),
        last_trade_price=last_trade,
    )
