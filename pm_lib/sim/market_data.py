"""The market-data side of a ``SimVenue``: universe, evolving books, serialised-book cache.

``MarketData`` installs a generated (``SimConfig.seed``/``markets``) or loaded
(``SimConfig.universe_file``) universe into ``VenueState``, replaces ``state.ladders`` with
``LiveLadders`` (lazy, clock-driven background liquidity) and answers the read questions of the
Gamma and public CLOB routes. A venue built on a caller's own ``VenueState`` keeps that state's
markets and plain ladders untouched (static books).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from pm_lib.sim.depth_ticks import tick_count
from pm_lib.sim.evolution import BackgroundBooks, LiveLadders, Stamp, TopOfBook
from pm_lib.sim.gamma_omissions import EventOmissions
from pm_lib.sim.quotes import Generation, Quote, QuoteModel, QuoteSettings
from pm_lib.sim.state import Ladder, SimEvent, SimMarket, VenueState
from pm_lib.sim.universe import EventProfile, MarketProfile, Universe, generate_universe
from pm_lib.sim.universe_loader import load_universe_file
from pm_lib.sim.wire_book_ticks import TickBook
from pm_lib.sim.wire_out import BookCache, book_json, book_json_levels, token_top

if TYPE_CHECKING:
    from pm_lib.sim.venue import SimConfig

__all__ = ["CatalogueIndex", "MarketData"]


@dataclass
class CatalogueIndex:
    """Markets and events in id order, for keyset paging and lookups."""

    markets: list[SimMarket]
    events: list[SimEvent]
    market_by_id: dict[str, SimMarket]
    market_by_slug: dict[str, SimMarket]
    event_by_slug: dict[str, SimEvent]


@dataclass(slots=True)
class _Derived:
    """A market's background book at one generation, derived once per ``book_bodies`` call
    and forgotten once two of its tokens were served (few objects outlive a garbage
    collection, so long scans do not trigger full collections)."""

    stamp: Stamp
    quote: Quote | None
    book: TickBook | None = None
    tokens_left: int = 2


_Memo = dict[tuple[str, int, bool], _Derived]  # (condition id, epoch, window open) -> book


def _id_key(value: str) -> tuple[int, str]:
    return (int(value) if value.isdigit() else -1, value)


class MarketData:
    """Everything the read routes need, kept consistent with the venue clock."""

    def __init__(self, state: VenueState, config: SimConfig, *, generate: bool = True) -> None:
        self.state = state
        self.config = config
        self.catalogue_version = 0
        self.book_cache = BookCache(max_entries=config.max_cached_books)
        self.profiles: dict[str, MarketProfile] = {}
        self.event_profiles: dict[str, EventProfile] = {}
        self.books: BackgroundBooks | None = None
        self.universe_seed = config.seed
        self._index: CatalogueIndex | None = None
        self._index_key: tuple[int, int, int] = (-1, -1, -1)
        # Legs left out of events' nested ``markets`` lists (``pm_lib.sim.gamma_omissions``).
        self.omissions = EventOmissions(seed=config.seed, rate=config.incomplete_event_rate)
        if generate:
            self.install(self.build_universe())

    # --- universe --------------------------------------------------------------------------
    def build_universe(self) -> Universe:
        """The universe the configuration asks for (snapshot file, else generator)."""
        cfg = self.config
        anchor = cfg.universe_anchor
        if anchor is None:
            anchor = math.floor(self.state.clock.now() / 60) * 60
        if cfg.universe_file:
            return load_universe_file(cfg.universe_file, seed=cfg.seed, anchor=anchor)
        return generate_universe(cfg.seed, cfg.markets, anchor)

    def install(self, universe: Universe) -> None:
        """Replace the venue's markets, events and books with ``universe`` (epoch 0 now)."""
        cfg = self.config
        state = self.state
        with state.lock:
            state.markets.clear()
            state.events.clear()
            state.token_index.clear()
            for market in universe.markets:
                state.markets[market.condition_id] = market
                state.token_index[market.yes_token] = (market.condition_id, True)
                state.token_index[market.no_token] = (market.condition_id, False)
            for event in universe.events:
                state.events[event.event_id] = event
            self.profiles = universe.profiles
            self.event_profiles = universe.event_profiles
            self.universe_seed = universe.seed
            self.omissions = EventOmissions(seed=universe.seed, rate=cfg.incomplete_event_rate)
            model = QuoteModel(
                QuoteSettings(
                    seed=universe.seed,
                    volatility=cfg.book_volatility,
                    dip_rate=cfg.negrisk_dip_rate,
                    near_miss_rate=cfg.negrisk_near_miss_rate,
                ),
                state.markets,
                state.events,
                self.profiles,
                coupled_groups=universe.coupled_groups,
            )
            self.books = BackgroundBooks(
                state,
                model,
                self.profiles,
                # Epoch 0 starts at the configured anchor (reproducible) or now.
                origin=cfg.universe_anchor
                if cfg.universe_anchor is not None
                else state.clock.now(),
                epoch_seconds=cfg.book_epoch_seconds,
                dip_window_seconds=cfg.dip_window_seconds,
                max_books=cfg.max_books_in_memory,
            )
            self.books.on_evict = self._forget_book
            state.ladders = LiveLadders(self.books)
            self.book_cache.clear()
            self.touch_catalogue()

    def _forget_book(self, condition_id: str, ladder: Ladder, stamp: Stamp) -> None:
        market = self.state.markets.get(condition_id)
        if market is not None:
            for token in market.token_ids:
                self.book_cache.detach(token, ladder)

    def touch_catalogue(self) -> None:
        """Note that a market or event changed (listings and cached books are re-derived)."""
        self.catalogue_version += 1

    # --- reads -----------------------------------------------------------------------------
    def index(self) -> CatalogueIndex:
        """Markets and events in id order (rebuilt only when the catalogue changed)."""
        key = (self.catalogue_version, len(self.state.markets), len(self.state.events))
        if self._index is None or key != self._index_key:
            markets = sorted(self.state.markets.values(), key=lambda m: _id_key(m.market_id))
            events = sorted(self.state.events.values(), key=lambda e: _id_key(e.event_id))
            self._index = CatalogueIndex(
                markets=markets,
                events=events,
                market_by_id={m.market_id: m for m in markets},
                market_by_slug={m.slug: m for m in markets},
                event_by_slug={e.slug: e for e in events},
            )
            self._index_key = key
        return self._index

    def market_for_token(self, token_id: str) -> tuple[SimMarket, bool] | None:
        """The market of a token and whether it is the YES token."""
        return self.state.market_for_token(token_id)

    def has_book(self, market: SimMarket) -> bool:
        """Closed (resolved) markets have no order book on the live CLOB."""
        return not market.closed

    def ladder(self, market: SimMarket) -> Ladder:
        """The market's current ladder (built and refreshed on demand)."""
        return self.state.ladders[market.condition_id]

    def top_of_book(self, market: SimMarket) -> TopOfBook | None:
        """YES best bid/ask and last trade now, without building a ladder if none is built."""
        ladders = self.state.ladders
        cond = market.condition_id
        lazy = isinstance(ladders, LiveLadders) and not ladders.is_built(cond)
        if lazy and self.books is not None and cond in self.profiles:
            quote = self.books.quote(cond)
            if quote is None:
                return None
            return TopOfBook(quote.bid, quote.ask, quote.last_trade)
        if not self.has_book(market):
            return None
        with self.state.lock:
            ladder = self.ladder(market)
            top = token_top(ladder, True)
            return TopOfBook(top.bid, top.ask, ladder.last_trade_price)

    def book_body(self, market: SimMarket, is_yes: bool) -> bytes:
        """The serialised /book of a token, from cache while its book did not change."""
        return self.book_bodies([(market, is_yes)])[0]

    def book_bodies(self, tokens: list[tuple[SimMarket, bool]]) -> list[bytes]:
        """``book_body`` of each (market, is YES) in one hold of the venue lock, so a market's
        background book is derived once for both of its tokens."""
        derived: _Memo = {}
        with self.state.lock:
            return [self._book_body(market, is_yes, derived) for market, is_yes in tokens]

    def _book_body(self, market: SimMarket, is_yes: bool, derived: _Memo) -> bytes:
        token = market.yes_token if is_yes else market.no_token
        cond = market.condition_id
        ladders = self.state.ladders
        books = self.books
        lazy = isinstance(ladders, LiveLadders) and not ladders.is_built(cond)
        if lazy and books is not None and cond in self.profiles:
            # Read-only: serve the untouched background book without building a ladder.
            gen = books.generation()
            key = (cond, gen.epoch, gen.window_open)
            hit = derived.get(key)
            if hit is None:
                hit = derived[key] = _Derived(*books.stamped_quote(cond, gen))
            body = self.book_cache.get_detached(token, hit.stamp, self.catalogue_version)
            if body is None:
                now_ms = int(self.state.clock.now() * 1000)
                body = self._background_body(market, is_yes, gen, hit, now_ms)
                self.book_cache.put(token, None, self.catalogue_version, body, hit.stamp)
            hit.tokens_left -= 1
            if not hit.tokens_left:
                del derived[key]
            return body
        ladder = self.ladder(market)
        body = self.book_cache.get(token, ladder, self.catalogue_version)
        if body is None:
            now_ms = int(self.state.clock.now() * 1000)
            body = book_json(market, is_yes, ladder, now_ms)
            pristine = books.pristine_stamp(cond, ladder) if books is not None else None
            self.book_cache.put(token, ladder, self.catalogue_version, body, pristine)
        return body

    def _background_body(
        self, market: SimMarket, is_yes: bool, gen: Generation, hit: _Derived, now_ms: int
    ) -> bytes:
        """An untouched background book serialised: from integer levels when the tick divides
        1 (every venue tick; the fast path), else from the Decimal levels."""
        assert self.books is not None
        cond = market.condition_id
        count = tick_count(market.tick_size)
        if count is None:
            return book_json_levels(market, is_yes, self.books.background(cond, gen), now_ms)
        if hit.book is None:
            levels = self.books.background_in_ticks(cond, gen, hit.quote, count)
            hit.book = TickBook(market, levels, count)
        return hit.book.body(is_yes, now_ms)

    def yes_price(self, market: SimMarket) -> Decimal:
        """The YES display price (midpoint, empty bid = 0, empty ask = 1; once resolved, the
        payout: 1 when YES won, else 0)."""
        if market.winner is not None:
            return Decimal(1 if market.winner == market.outcomes[0] else 0)
        top = self.top_of_book(market)
        if top is None:
            return Decimal("0.5")
        bid = top.bid or Decimal(0)
        ask = top.ask if top.ask is not None else Decimal(1)
        return (bid + ask) / 2
