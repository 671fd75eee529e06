"""The books of one paper run, minus the liquidity paper orders already took from them.

Two orders of the same run cannot take the same shares: every take is remembered per token, book
side and price, and later walks see only what is left. Books the run was not given are fetched
once through the ``BookSource``. Limitation: a binary market's YES and NO books mirror one
ladder on the venue (a YES ask at p is a NO bid at 1 - p); takes are tracked per token, so taking
YES asks does not thin the NO bids here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal

from pm_lib.execution.base import BookSource
from pm_lib.models import ZERO, Level, OrderBook, Side

__all__ = ["RunLiquidity"]


class RunLiquidity:
    """Per-run book snapshot with consumption; ``side`` is the side of the order taking."""

    def __init__(self, books: Mapping[str, OrderBook], source: BookSource | None) -> None:
        self._books: dict[str, OrderBook] = dict(books)
        self._source = source
        self._taken: dict[tuple[str, Side], dict[Decimal, Decimal]] = defaultdict(dict)

    def add_books(self, books: Mapping[str, OrderBook]) -> None:
        """Use newer books (what was taken from the old ones is forgotten for those tokens)."""
        for token_id, book in books.items():
            self._books[token_id] = book
            self._taken.pop((token_id, Side.BUY), None)
            self._taken.pop((token_id, Side.SELL), None)

    def book(self, token_id: str) -> OrderBook | None:
        """The run's book of ``token_id`` (fetched once through the source if missing)."""
        if token_id not in self._books and self._source is not None:
            self._books.update(self._source([token_id]))
        return self._books.get(token_id)

    def fetch(self, token_ids: Sequence[str]) -> None:
        """Fetch, in one call, the books of ``token_ids`` the run does not have yet."""
        missing = [t for t in dict.fromkeys(token_ids) if t not in self._books]
        if missing and self._source is not None:
            self._books.update(self._source(missing))

    def available(self, token_id: str, side: Side, limit: Decimal) -> tuple[Level, ...]:
        """What an order on ``side`` may still take at ``limit`` or better, best first."""
        book = self.book(token_id)
        if book is None:
            return ()
        levels = book.asks if side is Side.BUY else book.bids
        taken = self._taken.get((token_id, side), {})
        left: list[Level] = []
        for level in levels:
            if (side is Side.BUY and level.price > limit) or (
                side is Side.SELL and level.price < limit
            ):
                break
            size = level.size - taken.get(level.price, ZERO)
            if size > ZERO:
                left.append(Level(price=level.price, size=size))
        return tuple(left)

    def take(self, token_id: str, side: Side, fills: Sequence[tuple[Decimal, Decimal]]) -> None:
        """Remember that ``(price, size)`` fills were taken from ``token_id`` by ``side``."""
        taken = self._taken[(token_id, side)]
        for price, size in fills:
            taken[price] = taken.get(price, ZERO) + size
