"""The changed markets as the books source of the one scan (``run_scan(books_source=...)``).

``ChangedMarkets.focus`` keeps the markets whose tokens' books changed, widened to whole
neg-risk groups and events (a basket is judged with every leg, and the strategy cross-checks
the event's list against the group), and ``books`` hands the scan their trusted books: a book
that is not trusted, or whose connection is down or stale, is reported missing, so no strategy
can trade it (a basket with a missing leg is refused by the strategy as with ``POST /books``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Protocol

from pm_lib.models import Catalogue, Event, Market
from pm_lib.pipeline.context import RunContext
from pm_lib.stream.books import StreamBooks
from pm_lib.venue.books import BookBatch

__all__ = ["CatalogueIndex", "ChangedMarkets"]


class CatalogueIndex:
    """Lookups over one catalogue: token -> market, market -> its events and group."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.by_token: dict[str, Market] = catalogue.market_by_token()
        self.by_condition: dict[str, Market] = catalogue.market_by_condition()
        self.group: dict[str, list[str]] = {}
        for m in catalogue.markets:
            if m.neg_risk_market_id:
                self.group.setdefault(m.neg_risk_market_id, []).append(m.condition_id)
        self.events_of: dict[str, list[Event]] = {}
        for event in catalogue.events:
            for cond in event.market_condition_ids:
                self.events_of.setdefault(cond, []).append(event)

    def focus(self, tokens: Iterable[str]) -> Catalogue:
        conds: set[str] = set()
        events: dict[str, Event] = {}
        for token in tokens:
            market = self.by_token.get(token)
            if market is None:
                continue
            conds.add(market.condition_id)
            if market.neg_risk_market_id:
                conds.update(self.group.get(market.neg_risk_market_id, ()))
            for event in self.events_of.get(market.condition_id, ()):
                events[event.event_id] = event
        for event in list(events.values()):
            conds.update(event.market_condition_ids)
            if event.neg_risk_market_id:
                conds.update(self.group.get(event.neg_risk_market_id, ()))
        markets = tuple(self.by_condition[c] for c in sorted(conds) if c in self.by_condition)
        return Catalogue(
            markets=markets,
            events=tuple(events.values()),
            fetched_at=self.catalogue.fetched_at,
            watermark=self.catalogue.watermark,
        )


class LiveBooks(Protocol):
    """What the view needs of the stream (``MarketStream``)."""

    books: StreamBooks

    def live(self, token: str) -> bool: ...

    def confirmed_at(self, token: str) -> datetime | None: ...


class ChangedMarkets:
    """A ``BooksSource`` over the stream's books for the tokens that changed."""

    def __init__(
        self,
        stream: LiveBooks,
        changed: Iterable[str],
        index: Callable[[Catalogue], CatalogueIndex],
    ) -> None:
        self.stream = stream
        self.changed = set(changed)
        self.index = index

    def focus(self, catalogue: Catalogue) -> Catalogue:
        return self.index(catalogue).focus(self.changed)

    async def books(self, ctx: RunContext, catalogue: Catalogue) -> BookBatch:
        live = self.stream.live
        tokens = [t for t in catalogue.token_ids if live(t)]
        books, left_out = self.stream.books.order_books(tokens)
        for token, book in books.items():
            # A trusted book on a live connection is the venue's book as of the last moment
            # the connection was heard from (any change would have been published).
            confirmed = self.stream.confirmed_at(token)
            if confirmed is not None and confirmed > book.timestamp:
                books[token] = book.model_copy(update={"timestamp": confirmed})
        down = [t for t in catalogue.token_ids if not live(t)]
        return BookBatch(
            books=books,
            missing=tuple(left_out + down),
            fetched_at=datetime.now(UTC),
        )
