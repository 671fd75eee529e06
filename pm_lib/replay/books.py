"""Local order books kept from market-channel messages, in integer micro-units.

Prices and sizes are held as integers of 10^-6 (``pm_lib.replay.wire.micro``). A ``book``
message replaces a token's book; a ``price_change`` sets one level (size 0 removes it); a
``tick_size_change`` sets the tick. Wire order is irrelevant (the venue
sends best prices last; levels are kept by price). ``take`` removes liquidity a replayed fill
took: it stays taken until a later message sets that level again.

``order_book`` builds the domain ``OrderBook`` (Decimal, best first) the strategies, the risk
gate and the paper executor read, only for the tokens a decision needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pm_lib.models import Level, OrderBook, Side
from pm_lib.replay.wire import _MICRO, NO_ASK, SCALE, from_micro, micro

__all__ = ["NO_ASK", "SCALE", "LocalBook", "LocalBooks", "Record", "from_micro", "micro"]

Record = tuple[int, int, int, int, int]
"""(timestamp ms, token number or ~k, buy, price, size): one digested change."""


@dataclass(slots=True)
class LocalBook:
    """One token's book: levels by price (micro), and its best ask kept current (the triggers
    read it; nothing reads a best bid between decisions, so none is kept)."""

    token_id: str
    condition_id: str
    tick: int = 10_000
    min_size: int = 0
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    best_ask: int = NO_ASK  # NO_ASK: no ask
    version: int = 0
    built: tuple[tuple[int, int, int, bool], OrderBook] | None = None  # order_book's last

    def replace(self, bids: list[Any], asks: list[Any]) -> None:
        self.bids = {micro(x["price"]): micro(x["size"]) for x in bids}
        self.asks = {micro(x["price"]): micro(x["size"]) for x in asks}
        self.bids = {p: s for p, s in self.bids.items() if s > 0}
        self.asks = {p: s for p, s in self.asks.items() if s > 0}
        self.best_ask = min(self.asks) if self.asks else NO_ASK
        self.version += 1

    def set_level(self, buy: bool, price: int, size: int) -> None:
        if buy:
            if size > 0:
                self.bids[price] = size
            else:
                self.bids.pop(price, None)
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
        """The domain book as of ``at`` (built again only when the book changed since)."""
        key = (self.version, self.tick, self.min_size, neg_risk)
        if self.built is not None and self.built[0] == key:
            return self.built[1].model_copy(update={"timestamp": at})
        book = OrderBook.model_construct(
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
        self.built = (key, book)
        return book


class LocalBooks:
    """Every token's local book, fed with messages and digested records; ``changed`` collects
    the tokens touched since the clock last moved on (one set for the whole replay: cleared,
    never replaced; ``play`` names a token there only while some unit is hot, which is all the
    triggers need). ``on_ask(token, best_ask)`` is called whenever a token's best ask may have
    moved (``pm_lib.replay.units.Triggers`` keeps its necessary conditions current with it)."""

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
        # tokens by digest number (``name``): id, first market, book once met
        self._names: list[Any] = []
        self._markets: list[str] = []
        self._numbered: list[LocalBook | None] = []

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

    def name(self, fresh: list[tuple[Any, str]]) -> None:
        """Tokens numbered by a digest (``pm_lib.replay.digest``): each the next number, with
        the market of the message that showed it first."""
        for token, market in fresh:
            self._names.append(token)
            self._markets.append(market)
            self._numbered.append(None)

    def play(
        self,
        records: Iterator[Record],
        others: list[dict[str, Any]],
        current: int,
        wake: int,
        hot: set[str],
        wanted: Callable[[set[str]], bool],
    ) -> tuple[Record | None, int]:
        """Apply ``records`` (a digest's, ``pm_lib.replay.digest``; a negative token number
        ``~k`` is the message ``others[k]``) in order, the clock at ``current``. When the clock
        moves on, the replay has nothing to do (and ``changed`` is cleared) unless tokens
        changed while ``hot`` is not empty (some unit may trade) and ``wanted(changed)`` (a
        unit is to be evaluated), or the new time is past ``wake`` (an order or a settlement
        is due): then this stops. Returns the first record
        of the new time, not applied (``None``: every record applied), and the clock.

        The hot path of a replay: each ``price_change`` change is a level set in micro-units,
        here, inline; every message passed whole is applied by ``apply``.
        """
        numbered, names, changed, on_ask = self._numbered, self._names, self.changed, self.on_ask
        add, clear = changed.add, changed.clear
        for stamp, number, buy, price, size in records:
            if stamp != current:
                if stamp > wake or (changed and hot and wanted(changed)):
                    return (stamp, number, buy, price, size), current
                if changed:
                    clear()
                current = stamp
            if number < 0:
                self.apply(others[~number])
                continue
            book = numbered[number]
            if book is None:
                book = numbered[number] = self.book(names[number], self._markets[number])
            if buy:
                if size:
                    book.bids[price] = size
                else:
                    book.bids.pop(price, None)
            else:
                levels = book.asks
                best = book.best_ask
                if size:
                    levels[price] = size
                    if price < best:
                        book.best_ask = price
                        on_ask(names[number], price)
                elif levels.pop(price, None) is not None and price == best:
                    book.best_ask = best = min(levels) if levels else NO_ASK
                    on_ask(names[number], best)
            book.version += 1
            if hot:  # else no unit can trade: nothing to look at (a unit that turns hot
                add(names[number])  # later in this timestamp is named by the change doing it)
        return None, current


def _ignore(token: str, ask: int) -> None:
    return None
