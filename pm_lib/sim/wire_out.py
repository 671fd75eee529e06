"""Serialisers from emulator state to the live CLOB JSON shapes (books, prices, market info).

Shapes follow the recorded live responses in ``tests/resources`` (docs/VENUE.md 2.4
and 4.3). Venue quirks kept on purpose:

- ``/book`` lists bids ascending and asks descending, so the best price is LAST;
- every price and size in a book is a string; ``timestamp`` is a millisecond string;
- ``hash`` is the genuine venue hash (the recipe of ``pm_lib.venue.wire.book_hash``: SHA1 of
  the compact JSON in the venue's key order with ``hash: ""``; it reproduces the server hash on
  both full live captures), computed once per book version thanks to ``BookCache``;
- ``last_trade_price`` comes with at least three decimals ("0.430" on a 0.01-tick book).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from pm_lib.sim.state import Ladder, SimMarket

__all__ = [
    "BookCache",
    "TokenTop",
    "book_json",
    "book_json_levels",
    "clob_market",
    "clob_market_info",
    "decimal_str",
    "last_trade_str",
    "token_top",
]

ONE = Decimal(1)
ZERO = Decimal(0)
Levels = list[tuple[Decimal, Decimal]]
_EMPTY_HASH = b'"hash":""'
_THREE_PLACES = Decimal("0.001")


def decimal_str(value: Decimal) -> str:
    """A Decimal as the CLOB prints it: plain notation, no trailing zeros ("0.3", "200")."""
    text = str(value)
    if "E" not in text and not ("." in text and text.endswith("0")):
        return text  # already plain and minimal (the common case: fast)
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def last_trade_str(value: Decimal | None) -> str:
    """``last_trade_price`` as on the live /book: at least three decimals ("0.430")."""
    if value is None:
        return "0.500"  # GUESS: never-traded books; no live capture shows one
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -3:
        return format(value.quantize(_THREE_PLACES), "f")
    return format(value, "f")


def book_json(market: SimMarket, is_yes: bool, ladder: Ladder, timestamp_ms: int) -> bytes:
    """The /book body of one token of a ladder, best price last, with the genuine hash."""
    return book_json_levels(
        market,
        is_yes,
        (ladder.levels("BUY"), ladder.levels("SELL"), ladder.last_trade_price),
        timestamp_ms,
    )


def book_json_levels(
    market: SimMarket,
    is_yes: bool,
    yes_book: tuple[Levels, Levels, Decimal | None],
    timestamp_ms: int,
) -> bytes:
    """The /book body of one token from YES-terms (bids, asks, last trade), bids and asks best
    first; the NO token's book is the reflection (NO bid q = YES ask 1 - q)."""
    yes_bids, yes_asks, ltp = yes_book
    if is_yes:
        bids, asks = yes_bids, yes_asks
    else:
        bids = [(ONE - p, s) for p, s in yes_asks]
        asks = [(ONE - p, s) for p, s in yes_bids]
        ltp = ONE - ltp if ltp is not None else None
    payload = {
        "market": market.condition_id,
        "asset_id": market.yes_token if is_yes else market.no_token,
        "timestamp": str(timestamp_ms),
        "hash": "",
        "bids": [{"price": decimal_str(p), "size": decimal_str(s)} for p, s in reversed(bids)],
        "asks": [{"price": decimal_str(p), "size": decimal_str(s)} for p, s in reversed(asks)],
        "min_order_size": decimal_str(market.min_order_size),
        "tick_size": decimal_str(market.tick_size),
        "neg_risk": market.neg_risk,
        "last_trade_price": last_trade_str(ltp),
    }
    # The payload is hashed as serialised with hash "": orjson's compact output is the same
    # bytes as the recipe's json.dumps(separators=(",", ":"), ensure_ascii=False) for these
    # ASCII fields (tests check every served hash with pm_lib.venue.wire.book_hash). The
    # replace also drops orjson's multi-KB buffer, keeping 100k cached books lean.
    raw = orjson.dumps(payload)
    digest = hashlib.sha1(raw).hexdigest().encode()
    return raw.replace(_EMPTY_HASH, b'"hash":"' + digest + b'"', 1)


# A cache entry: (ladder, its version, catalogue version, stamp, body). The ladder is None
# once the (untouched) ladder left memory; the stamp is what an untouched background book was
# derived from (None if touched). A plain tuple, not a class: a detached entry then holds only
# atomic values (ints, bytes, a stamp of Decimals and strings), so the garbage collector stops
# tracking it and the ~100k entries of a full scan do not lengthen every full collection.
_CachedBook = tuple[Ladder | None, int, int, object, bytes]


class BookCache:
    """Serialised books per token.

    An entry is valid while its ladder's ``version`` does not move. When an untouched
    background ladder is evicted from memory its entry is *detached* and stays valid for as
    long as the market's stamp (epoch and quote) is the same, so a full scan of a large
    universe is served from bytes without rebuilding ladders. At most ``max_entries`` are kept.
    """

    def __init__(self, max_entries: int = 120_000) -> None:
        self.max_entries = max_entries
        self._books: dict[str, _CachedBook] = {}

    def get(self, token_id: str, ladder: Ladder, catalogue: int) -> bytes | None:
        """The cached body if the ladder (and market listing) did not change since."""
        hit = self._books.get(token_id)
        if hit is None:
            return None
        held, version, cached_catalogue, _, body = hit
        if held is ladder and version == ladder.version and cached_catalogue == catalogue:
            return body
        return None

    def get_detached(self, token_id: str, stamp: object, catalogue: int) -> bytes | None:
        """The body of an evicted untouched book, if it would be rebuilt identically."""
        hit = self._books.get(token_id)
        if hit is None:
            return None
        held, _, cached_catalogue, cached_stamp, body = hit
        if held is None and cached_stamp is not None and cached_stamp == stamp:
            return body if cached_catalogue == catalogue else None
        return None

    def put(
        self, token_id: str, ladder: Ladder | None, catalogue: int, body: bytes, stamp: object
    ) -> None:
        """Remember the body served for the ladder's current version (``ladder=None``: an
        untouched background book served without building its ladder)."""
        self._books.pop(token_id, None)
        version = ladder.version if ladder is not None else -1
        self._books[token_id] = (ladder, version, catalogue, stamp, body)
        while len(self._books) > self.max_entries:
            del self._books[next(iter(self._books))]

    def detach(self, token_id: str, ladder: Ladder) -> None:
        """The token's ladder left memory: keep its body only if it was untouched."""
        hit = self._books.get(token_id)
        if hit is None:
            return
        held, version, catalogue, stamp, body = hit
        if held is ladder and version == ladder.version and stamp is not None:
            self._books[token_id] = (None, version, catalogue, stamp, body)  # keeps its place
        else:
            del self._books[token_id]

    def clear(self) -> None:
        """Forget everything."""
        self._books.clear()


@dataclass(frozen=True, slots=True)
class TokenTop:
    """Best bid/ask of one token's book (``None``: empty side)."""

    bid: Decimal | None
    ask: Decimal | None

    @property
    def midpoint(self) -> Decimal:
        """Mid as the venue computes it: an empty bid counts 0, an empty ask 1 (ra1nty sample:
        no bids, best ask 0.001 -> mid "0.0005")."""
        return ((self.bid or ZERO) + (self.ask if self.ask is not None else ONE)) / 2

    @property
    def spread(self) -> Decimal:
        """Ask minus bid with the same conventions as ``midpoint``."""
        return (self.ask if self.ask is not None else ONE) - (self.bid or ZERO)


def token_top(ladder: Ladder, is_yes: bool) -> TokenTop:
    """Best prices of one token from the mirrored ladder."""
    yes_bid = _best(ladder.bids, highest=True)
    yes_ask = _best(ladder.asks, highest=False)
    if is_yes:
        return TokenTop(yes_bid, yes_ask)
    return TokenTop(
        ONE - yes_ask if yes_ask is not None else None,
        ONE - yes_bid if yes_bid is not None else None,
    )


def _best(book: dict[Decimal, Any], *, highest: bool) -> Decimal | None:
    prices = [p for p, q in book.items() if any(o.remaining > 0 for o in q)]
    if not prices:
        return None
    return max(prices) if highest else min(prices)


def _iso_z(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def clob_market_info(market: SimMarket, accepting_since: str) -> dict[str, Any]:
    """GET /clob-markets/{condition} (ChloePike live capture; ``nr`` only on neg-risk)."""
    info: dict[str, Any] = {
        "r": {"mi": 200, "ma": 3.5, "e": True, "moas": 4},
        "t": [
            {"t": market.yes_token, "o": market.outcomes[0]},
            {"t": market.no_token, "o": market.outcomes[1]},
        ],
        "c": market.condition_id,
        "mos": _number(market.min_order_size),
        "mts": _number(market.tick_size),
        "mbf": 1000,
        "tbf": 1000,
        "ao": market.accepting_orders,
        "cbos": True,
        "aot": accepting_since,
        "ibce": True,
    }
    if market.fees_enabled:
        info["fd"] = {"r": _number(market.fee_rate), "e": _number(market.fee_exponent), "to": True}
    if market.neg_risk:
        info["nr"] = True
    if market.taker_delay_seconds > 0:
        info["itode"] = True  # the docs' taker-delay flag (marketable orders are held)
    return info


def clob_market(
    market: SimMarket, yes_price: Decimal, accepting_since: str, question_id: str
) -> dict[str, Any]:
    """GET /markets/{condition}: the CLOB market object with ``tokens[]`` (live capture)."""
    return {
        "enable_order_book": market.enable_order_book,
        "active": market.active,
        "closed": market.closed,
        "archived": False,
        "accepting_orders": market.accepting_orders,
        "accepting_order_timestamp": accepting_since,
        "minimum_order_size": _number(market.min_order_size),
        "minimum_tick_size": _number(market.tick_size),
        "condition_id": market.condition_id,
        "question_id": question_id,
        "question": market.question,
        "description": market.extra.get("description", ""),
        "market_slug": market.slug,
        "end_date_iso": _iso_z(market.end_date),
        "game_start_time": None,
        "seconds_delay": 0,
        "fpmm": "",
        "maker_base_fee": 1000,
        "taker_base_fee": 1000,
        "notifications_enabled": True,
        "neg_risk": market.neg_risk,
        "neg_risk_market_id": market.neg_risk_market_id or "",
        "neg_risk_request_id": "",
        "icon": "",
        "image": "",
        "rewards": {"rates": None, "min_size": 0, "max_spread": 0},
        "is_50_50_outcome": False,
        "tokens": [
            {
                "token_id": market.yes_token,
                "outcome": market.outcomes[0],
                "price": _number(yes_price),
                "winner": market.winner == market.outcomes[0],
            },
            {
                "token_id": market.no_token,
                "outcome": market.outcomes[1],
                "price": _number(ONE - yes_price),
                "winner": market.winner == market.outcomes[1],
            },
        ],
        "tags": [],
    }


def _number(value: Decimal) -> int | float:
    """A JSON number at the wire edge (the venue sends these as numbers, e.g. "mts": 0.001)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
