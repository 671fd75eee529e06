"""The books of one paper run, minus the liquidity paper orders already took from them.

Two orders of the same run cannot take the same shares: every take is remembered per token, book
side and price, and later walks see only what is left. Books the run was not given are fetched
once through the ``BookSource``.

Across runs, takes are remembered too (``recall``: ``pm_lib.store.paper_takes``): a later run's
book still shows the shares paper took (paper orders never reach the venue), so what was taken
from a level is subtracted again while that level shows the size it showed when taken from. Once
the venue's level changes (another size, or gone: the book moved, a new book epoch on the
emulator) the take is forgotten. So a persisting mispricing is not bought again every run.

Limitation: a binary market's YES and NO books mirror one
ladder on the venue (a YES ask at p is a NO bid at 1 - p); takes are tracked per token, so taking
YES asks does not thin the NO bids here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from pm_lib.execution.base import BookSource
from pm_lib.models import ZERO, Level, OrderBook, Side

__all__ = ["Recall", "RunLiquidity"]

Recall = Callable[[str, Side], Mapping[Decimal, tuple[Decimal, Decimal]]]
"""Earlier runs' takes of a token and side: price -> (level size when taken, shares taken)."""


class RunLiquidity:
    """Per-run book snapshot with consumption; ``side`` is the side of the order taking."""

    def __init__(
        self,
        books: Mapping[str, OrderBook],
        source: BookSource | None,
        recall: Recall | None = None,
    ) -> None:
        self._books: dict[str, OrderBook] = dict(books)
        self._source = source
        self._recall = recall
        self._recalled: set[tuple[str, Side]] = set()
        self._taken: dict[tuple[str, Side], dict[Decimal, Decimal]] = defaultdict(dict)

    def add_books(self, books: Mapping[str, OrderBook]) -> None:
        """Use newer books (what was taken from the old ones is forgotten for those tokens,
        unless remembered and the new book's level has not moved)."""
        for token_id, book in books.items():
            self._books[token_id] = book
            for side in (Side.BUY, Side.SELL):
                self._taken.pop((token_id, side), None)
                self._recalled.discard((token_id, side))

    @staticmethod
    def _levels(book: OrderBook, side: Side) -> tuple[Level, ...]:
        return book.asks if side is Side.BUY else book.bids

    def _taken_from(self, token_id: str, side: Side, book: OrderBook) -> dict[Decimal, Decimal]:
        key = (token_id, side)
        if key not in self._recalled:
            self._recalled.add(key)
            if self._recall is not None:
                shown = {level.price: level.size for level in self._levels(book, side)}
                taken = self._taken[key]
                for price, (level_size, size) in self._recall(token_id, side).items():
                    if shown.get(price) == level_size:  # the level has not moved since
                        taken[price] = taken.get(price, ZERO) + size
        return self._taken.get(key, {})

    def remembered(self, token_id: str, side: Side) -> dict[Decimal, tuple[Decimal, Decimal]]:
        """What to remember of ``token_id``/``side`` now: price -> (the book's level size,
        shares taken from it), for the levels of the current book taken from."""
        book = self._books.get(token_id)
        if book is None:
            return {}
        taken = self._taken_from(token_id, side, book)
        return {
            level.price: (level.size, taken[level.price])
            for level in self._levels(book, side)
            if taken.get(level.price, ZERO) > ZERO
        }

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
        levels = self._levels(book, side)
        taken = self._taken_from(token_id, side, book)
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
        book = self._books.get(token_id)
        if book is not None:
            self._taken_from(token_id, side, book)
        taken = self._taken[(token_id, side)]
        for price, size in fills:
            taken[price] = taken.get(price, ZERO) + size
