"""One token's book as the market channel keeps it, in the venue's own strings.

The book is kept as the wire has it (price and size strings) so that its hash can be recomputed
with the venue's recipe (``pm_lib.venue.wire_book.book_hash``, docs/VENUE.md 4.3) after every
change: a ``price_change`` carries the hash the book must have afterwards, and a book whose hash
differs missed a message (a gap) and is no longer trusted. ``order_book`` hands the strategies
the same ``OrderBook`` ``POST /books`` would, through the one parser (``parse_book``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pm_lib.errors import BadVenueData
from pm_lib.models import OrderBook
from pm_lib.venue.wire_book import book_hash, parse_book

__all__ = ["LocalBook", "millis"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def millis(moment: datetime) -> int:
    """Exact milliseconds since the epoch (no float rounding)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _sized(raw: Any, side: str, token: str) -> dict[str, str]:
    if not isinstance(raw, list):
        raise BadVenueData("book", token, f"{side} is not a level list")
    return {str(level["price"]): str(level["size"]) for level in raw}


class LocalBook:
    """One token's book: levels by price string, the fields the hash covers, trust."""

    __slots__ = (
        "asks",
        "bids",
        "hash",
        "last_trade_price",
        "market",
        "min_order_size",
        "neg_risk",
        "tick_size",
        "timestamp",
        "token_id",
        "trusted",
    )

    def __init__(self, raw: Mapping[str, Any]) -> None:
        """From a ``book`` event or a ``/book`` object; raises ``BadVenueData`` when it does not
        parse or its hash is not the venue's recipe of its content."""
        parse_book(raw)  # the one validation of a book (types, ranges, crossing)
        token = str(raw["asset_id"])
        self.token_id = token
        self.market = str(raw["market"])
        self.bids = _sized(raw.get("bids"), "bids", token)
        self.asks = _sized(raw.get("asks"), "asks", token)
        self.tick_size = str(raw["tick_size"])
        self.min_order_size = str(raw["min_order_size"])
        self.neg_risk = bool(raw.get("neg_risk"))
        self.last_trade_price = raw.get("last_trade_price")
        self.timestamp = str(raw["timestamp"])
        self.hash = str(raw.get("hash", ""))
        self.trusted = self.verify(self.hash, self.timestamp)
        if not self.trusted:
            raise BadVenueData("book", token, "hash does not match the book's content")

    @classmethod
    def from_order_book(cls, book: OrderBook) -> LocalBook:
        """From a parsed ``POST /books`` answer (Decimal strings round-trip exactly)."""
        raw = {
            "market": book.condition_id,
            "asset_id": book.token_id,
            "timestamp": str(millis(book.timestamp)),
            "hash": book.hash,
            "bids": [{"price": str(x.price), "size": str(x.size)} for x in reversed(book.bids)],
            "asks": [{"price": str(x.price), "size": str(x.size)} for x in reversed(book.asks)],
            "min_order_size": str(book.min_order_size),
            "tick_size": str(book.tick_size),
            "neg_risk": book.neg_risk,
            "last_trade_price": (
                None if book.last_trade_price is None else str(book.last_trade_price)
            ),
        }
        return cls(raw)

    def wire(self, timestamp: str, hash_value: str = "") -> dict[str, Any]:
        """The book as ``/book`` serves it: bids ascending, asks descending (best last)."""
        bids = sorted(self.bids.items(), key=lambda kv: Decimal(kv[0]))
        asks = sorted(self.asks.items(), key=lambda kv: Decimal(kv[0]), reverse=True)
        return {
            "market": self.market,
            "asset_id": self.token_id,
            "timestamp": timestamp,
            "hash": hash_value,
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [{"price": p, "size": s} for p, s in asks],
            "min_order_size": self.min_order_size,
            "tick_size": self.tick_size,
            "neg_risk": self.neg_risk,
            "last_trade_price": self.last_trade_price,
        }

    def verify(self, expected: str, timestamp: str) -> bool:
        """Whether the book now hashes to ``expected`` at ``timestamp`` (venue recipe)."""
        return book_hash(self.wire(timestamp)) == expected

    def apply(self, price: str, size: str, side: str) -> None:
        """One ``price_change`` entry: the level's new size ("0" removes it)."""
        levels = self.bids if side == "BUY" else self.asks
        if Decimal(size) == 0:
            levels.pop(price, None)
        else:
            levels[price] = size

    def best(self) -> tuple[str, str]:
        """(best bid, best ask) as wire strings ("" for an empty side)."""
        bid = max(self.bids, key=Decimal, default="")
        ask = min(self.asks, key=Decimal, default="")
        return bid, ask

    def order_book(self) -> OrderBook:
        """The ``OrderBook`` the strategies read (best first), through ``parse_book``."""
        return parse_book(self.wire(self.timestamp, self.hash))
