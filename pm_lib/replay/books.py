"""Local order books kept from market-channel messages, in integer micro-units.

Prices and sizes are held as integers of 10^-6 (pUSD and share micro-units): exact, and fast to
compare and add. A ``book`` message replaces a token's book; a ``price_change`` sets one level
(size 0 removes it); a ``tick_size_change`` sets the tick. Wire order is irrelevant (the venue
sends best prices last; levels are kept by price). ``take`` removes liquidity a replayed fill
took: it stays taken until a later message sets that level again.

``order_book`` builds the domain ``OrderBook`` (Decimal, best first) the strategies, the risk
gate and the paper executor read, only for the tokens a decision needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pm_lib.models import Level, OrderBook, Side
from pm_lib.replay.recording import BadRecording

__all__ = ["NO_ASK", "SCALE", "LocalBook", "LocalBooks", "from_micro", "micro"]

SCALE = 1_000_000
NO_ASK = 10 * SCALE
_MICRO = Decimal(SCALE)


_CACHE: dict[str, int] = {}
_CACHE_LIMIT = 200_000


def micro(text: Any) -> int:
    """A decimal string (or number) as an integer of micro-units; more than 6 decimals is
    refused (the venue's amounts have at most 6). Recent strings are remembered (prices and
    sizes repeat a lot)."""
    found = _CACHE.get(text)
    if found is not None:
        return found
    value = _micro(text)
    if isinstance(text, str):
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[text] = value
    return value


def _micro(text: Any) -> int:
    s = text if isinstance(text, str) else str(text)
    whole, _, frac = s.partition(".")
    if len(frac) > 6 or not (whole.isdigit() or whole == "") or (frac and not frac.isdigit()):
        value = Decimal(s) * _MICRO
        if value != value.to_integral_value() or value < 0:
            raise BadRecording(f"amount {s!r} is not a non-negative number of micro-units")
        return int(value)
    return int(whole or "0") * SCALE + (int(frac.ljust(6, "0")) if frac else 0)


def from_micro(value: int) -> Decimal:
    """Micro-units back to an exact Decimal, normalised (no trailing zeros)."""
    return (Decimal(value) / _MICRO).normalize() if value % SCALE else Decimal(value // SCALE)


@dataclass(slots=True)
class LocalBook:
    """One token's book: levels by price (micro), and its best prices kept current."""

    token_id: str
    condition_id: str
    tick: int = 10_000
    min_size: int = 0
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    best_bid: int = 0  # 0: no bid
    best_ask: int = NO_ASK  # NO_ASK: no ask
    version: int = 0

    def replace(self, bids: list[Any], asks: list[Any]) -> None:
        self.bids = {micro(x["price"]): micro(x["size"]) for x in bids}
        self.asks = {micro(x["price"]): micro(x["size"]) for x in asks}
        self.bids = {p: s for p, s in self.bids.items() if s > 0}
        self.asks = {p: s for p, s in self.asks.items() if s > 0}
        self.best_bid = max(self.bids) if self.bids else 0
        self.best_ask = min(self.asks) if self.asks else NO_ASK
        self.version += 1

    def set_level(self, buy: bool, price: int, size: int) -> None:
        if buy:
            levels = self.bids
            if size > 0:
                levels[price] = size
                if price > self.best_bid:
                    self.best_bid = price
            elif levels.pop(price, None) is not None and price == self.best_bid:
                self.best_bid = max(levels) if levels else 0
        else:
            levels = self.asks
            if size > 0:
                levels[price] = size
                if price < self.best_ask:
                    self.best_ask = price
            elif levels.pop(price, None) is not None and price == self.best_ask:
                self.best_ask = min(levels) if levels else NO_ASK
        self.version += 1

    def take(self, side: Side, price: Decimal, size: Decimal) -> None:
        """A replayed order of ``side`` took ``size`` at ``price`` from the opposite side."""
        p = int(price * _MICRO)
        levels = self.asks if side is Side.BUY else self.bids
        left = levels.get(p, 0) - int(size * _MICRO)
        self.set_level(side is Side.SELL, p, max(left, 0))

    def order_book(self, neg_risk: bool, at: datetime) -> OrderBook:
        return OrderBook.model_construct(
            token_id=self.token_id,
            condition_id=self.condition_id,
            bids=tuple(
                Level.model_construct(price=from_micro(p), size=from_micro(self.bids[p]))
                for p in sorted(self.bids, reverse=True)
            ),
            asks=tuple(
                Level.model_construct(price=from_micro(p), size=from_micro(self.asks[p]))
                for p in sorted(self.asks)
            ),
            tick_size=from_micro(self.tick),
            min_order_size=from_micro(self.min_size),
            neg_risk=neg_risk,
            hash="",
            timestamp=at,
            last_trade_price=None,
        )


class LocalBooks:
    """Every token's local book, fed with messages; ``changed`` collects touched tokens (one
    set for the whole replay: it is cleared, never replaced). ``on_ask(token, best_ask)`` is
    called whenever a token's best ask may have moved (``pm_lib.replay.units.Triggers`` keeps
    its necessary conditions current with it)."""

    def __init__(
        self,
        ticks: dict[str, int],
        min_sizes: dict[str, int],
        on_ask: Callable[[str, int], None] | None = None,
    ) -> None:
        self.books: dict[str, LocalBook] = {}
        self.changed: set[str] = set()
        self.on_ask: Callable[[str, int], None] = on_ask or _ignore
        self._ticks = ticks
        self._min_sizes = min_sizes

    def book(self, token_id: str, condition_id: str = "") -> LocalBook:
        found = self.books.get(token_id)
        if found is None:
            found = LocalBook(
                token_id,
                condition_id,
                tick=self._ticks.get(token_id, 10_000),
                min_size=self._min_sizes.get(token_id, 0),
            )
            self.books[token_id] = found
        return found

    def apply(self, message: dict[str, Any]) -> None:
        """Apply one market-channel message (unknown kinds and ``last_trade_price`` are kept
        out of the books)."""
        kind = message.get("event_type")
        if kind == "price_change":
            market = message.get("market", "")
            for change in message["price_changes"]:
                token = change["asset_id"]
                book = self.book(token, market)
                price, size = micro(change["price"]), micro(change["size"])
                book.set_level(change["side"] == "BUY", price, size)
                self.changed.add(token)
                self.on_ask(token, book.best_ask)
        elif kind == "book":
            token = message["asset_id"]
            book = self.book(token, message.get("market", ""))
            book.replace(message.get("bids") or [], message.get("asks") or [])
            if message.get("tick_size"):
                book.tick = micro(message["tick_size"])
            self.changed.add(token)
            self.on_ask(token, book.best_ask)
        elif kind == "tick_size_change":
            token = message["asset_id"]
            self.book(token, message.get("market", "")).tick = micro(message["new_tick_size"])
            self.changed.add(token)

    def take(self, token_id: str, side: Side, price: Decimal, size: Decimal) -> None:
        """A replayed fill of ``side`` took ``size`` at ``price`` from ``token_id``'s book."""
        book = self.book(token_id)
        book.take(side, price, size)
        self.changed.add(token_id)
        self.on_ask(token_id, book.best_ask)

    def play(
        self,
        stamps: list[int],
        messages: list[dict[str, Any]],
        start: int,
        current: int,
        wake: int,
        hot: set[str],
    ) -> tuple[int, int]:
        """Apply ``messages[start:]`` (``stamps`` their timestamps) in order, the clock at
        ``current``. When the clock moves on, the replay has nothing to do (and ``changed`` is
        cleared) unless a token changed while ``hot`` is not empty (some unit may trade), or the
        new time is past ``wake`` (an order or a settlement is due): then this stops before the
        message of the new time. (where it stopped, the clock there).

        The hot path of a replay: ``price_change`` is applied here, inline (each change is a
        level set in micro-units, the parse cache read inline); every other kind by ``apply``.
        """
        books, changed, on_ask, apply = self.books, self.changed, self.on_ask, self.apply
        add, clear, cache = changed.add, changed.clear, _CACHE
        for index in range(start, len(messages)):
            stamp = stamps[index]
            if stamp != current:
                if stamp > wake or (changed and hot):
                    return index, current
                clear()
                current = stamp
            message = messages[index]
            if message.get("event_type") != "price_change":
                apply(message)
                continue
            for change in message["price_changes"]:
                token = change["asset_id"]
                book = books.get(token)
                if book is None:
                    book = self.book(token, message.get("market", ""))
                try:
                    price = cache[change["price"]]
                except KeyError:
                    price = micro(change["price"])
                try:
                    size = cache[change["size"]]
                except KeyError:
                    size = micro(change["size"])
                if change["side"] == "BUY":
                    levels = book.bids
                    if size:
                        levels[price] = size
                        if price > book.best_bid:
                            book.best_bid = price
                    elif levels.pop(price, None) is not None and price == book.best_bid:
                        book.best_bid = max(levels) if levels else 0
                else:
                    levels = book.asks
                    best = book.best_ask
                    if size:
                        levels[price] = size
                        if price < best:
                            book.best_ask = price
                            on_ask(token, price)
                    elif levels.pop(price, None) is not None and price == best:
                        book.best_ask = best = min(levels) if levels else NO_ASK
                        on_ask(token, best)
                book.version += 1
                add(token)
        return len(messages), current


def _ignore(token: str, ask: int) -> None:
    return None
