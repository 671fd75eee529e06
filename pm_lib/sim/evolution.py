"""Books that live with the venue clock: lazy ladders whose background liquidity evolves.

``LiveLadders`` replaces ``VenueState.ladders`` for a generated or loaded universe. It is a
plain ``dict[str, Ladder]`` to its readers (the exchange matches against ``state.ladders[c]``)
with three differences:

- a ladder is built on first access (``__missing__``), so a 50,000-market venue starts in
  seconds and only the books someone looked at take memory;
- every ``ladders[c]`` first brings the background liquidity (``owner is None``) up to the
  current generation of the venue clock (``pm_lib.sim.quotes``): when the clock crossed an epoch
  boundary the background orders are re-derived from (seed, market, epoch). Orders with an
  owner are never touched; background levels that would cross them are left out. Work is per
  accessed book, never a sweep of the universe;
- untouched background-only ladders beyond ``max_books`` are evicted (least recently used) and
  rebuilt identically on the next access. A ladder that holds user orders, was traded against
  (its ``version`` moved) or was pinned by the control API is never evicted.

All mutation happens under ``VenueState.lock``.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from pm_lib.sim.depth import background_levels, background_orders
from pm_lib.sim.depth_ticks import TickLevels, background_ticks
from pm_lib.sim.quotes import Generation, Quote, QuoteModel
from pm_lib.sim.seeding import stream
from pm_lib.sim.state import Ladder, RestingOrder, VenueState
from pm_lib.sim.universe import MarketProfile

__all__ = [
    "Background",
    "BackgroundBooks",
    "LiveLadders",
    "QuoteKey",
    "Stamp",
    "TickBackground",
    "TopOfBook",
]

_STREAM_DEPTH = 21


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """Best YES bid/ask and last trade of a market as the books show them now."""

    bid: Decimal | None
    ask: Decimal | None
    last_trade: Decimal | None


# A quote's fields as a plain tuple: equal exactly when the quotes are equal, and made of
# atomic values only, so the garbage collector stops tracking the ~100k stamps a full scan
# caches (as dataclass instances they made every full collection walk them).
QuoteKey = tuple[Decimal | None, Decimal | None, Decimal, str, Decimal | None, int]
Stamp = tuple[int, QuoteKey | None]  # (epoch, quote): what a pristine background book is made of
Levels = list[tuple[Decimal, Decimal]]
Background = tuple[Levels, Levels, Decimal | None]
TickBackground = tuple[TickLevels, TickLevels, Decimal | None]


@dataclass(slots=True)
class _Built:
    stamp: Stamp
    version: int


class BackgroundBooks:
    """Derives, refreshes and evicts the background liquidity of ``state``'s ladders."""

    def __init__(
        self,
        state: VenueState,
        model: QuoteModel,
        profiles: dict[str, MarketProfile],
        *,
        origin: float,
        epoch_seconds: float,
        dip_window_seconds: float,
        max_books: int,
    ) -> None:
        self.state = state
        self.model = model
        self.profiles = profiles
        self.origin = origin
        self.epoch_seconds = epoch_seconds
        self.dip_window_seconds = dip_window_seconds
        self.max_books = max_books
        self.pinned: set[str] = set()
        # Told (condition id, ladder, stamp) when an untouched ladder leaves memory.
        self.on_evict: Callable[[str, Ladder, Stamp], None] = lambda _c, _l, _s: None
        self._built: dict[str, _Built] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()

    # --- clock -------------------------------------------------------------------------------
    def generation(self) -> Generation:
        """The generation the venue clock is in now."""
        if self.epoch_seconds <= 0:
            return Generation(0, False)
        elapsed = self.state.clock.now() - self.origin
        epoch = math.floor(elapsed / self.epoch_seconds)
        into = elapsed - epoch * self.epoch_seconds
        return Generation(epoch, into < self.dip_window_seconds)

    def quote(self, condition_id: str) -> Quote | None:
        """The background top of book of a market now (no ladder is built)."""
        return self.model.quote(condition_id, self.generation())

    def stamp(self, condition_id: str, gen: Generation | None = None) -> Stamp:
        """What the market's untouched background book is derived from (now, or at ``gen``):
        the epoch (depth draws) and the quote. Equal stamps mean identical pristine books."""
        return self.stamped_quote(condition_id, gen or self.generation())[0]

    def stamped_quote(self, condition_id: str, gen: Generation) -> tuple[Stamp, Quote | None]:
        """``stamp`` at ``gen`` and the quote it was made from."""
        quote = self.model.quote(condition_id, gen)
        if quote is None:
            return (gen.epoch, None), None
        q = quote
        return (gen.epoch, (q.bid, q.ask, q.last_trade, q.dip, q.thin_ask, q.ask_gap_ticks)), q

    def background(self, condition_id: str, gen: Generation) -> Background:
        """The untouched background book at ``gen``: YES bids and asks (best first) and the
        last trade, without building a ladder (read-only scans never materialise books)."""
        quote = self.model.quote(condition_id, gen)
        if quote is None:
            return [], [], None
        profile = self.profiles[condition_id]
        rng = stream(self.model.settings.seed, _STREAM_DEPTH, profile.index, gen.epoch)
        market = self.state.markets[condition_id]
        bids, asks = background_levels(market, quote, profile.depth, rng)
        return bids, asks, quote.last_trade

    def background_in_ticks(
        self, condition_id: str, gen: Generation, quote: Quote | None, count: int
    ) -> TickBackground:
        """``background`` in ticks and cents, given the market's ``quote`` at ``gen`` (as
        ``stamp`` gives it) and its ``count`` ticks to 1 (``depth_ticks.tick_count``)."""
        if quote is None:
            return [], [], None
        market = self.state.markets[condition_id]
        profile = self.profiles[condition_id]
        rng = stream(self.model.settings.seed, _STREAM_DEPTH, profile.index, gen.epoch)
        bids, asks = background_ticks(quote, count, market.tick_size, profile.depth, rng)
        return bids, asks, quote.last_trade

    def pristine_stamp(self, condition_id: str, ladder: Ladder) -> Stamp | None:
        """The ladder's stamp if it is untouched background liquidity, else ``None``."""
        built = self._built.get(condition_id)
        if built is None or built.version != ladder.version or condition_id in self.pinned:
            return None
        return None if _has_owned(ladder) else built.stamp

    # --- ladders -----------------------------------------------------------------------------
    def build(self, condition_id: str) -> Ladder:
        """A new ladder holding the current background liquidity of the market."""
        ladder = Ladder()
        self._rederive(condition_id, ladder, self.generation())
        return ladder

    def keep_current(self, condition_id: str, ladder: Ladder) -> None:
        """Bring the ladder's background liquidity to the current generation (if it moved).

        A new epoch always re-derives (fresh depth); within an epoch only a changed quote does
        (a neg-risk dip window opening or closing), so fills against the background persist
        until the next move."""
        if condition_id in self.pinned or condition_id not in self.profiles:
            return
        with self.state.lock:
            built = self._built.get(condition_id)
            gen = self.generation()
            if built is None or built.stamp != self.stamp(condition_id, gen):
                self._rederive(condition_id, ladder, gen)
            self._recent[condition_id] = None
            self._recent.move_to_end(condition_id)

    def pin(self, condition_id: str) -> None:
        """Stop evolving (and evicting) the market's book: the control API set it."""
        self.pinned.add(condition_id)
        self._built.pop(condition_id, None)

    def reset(self) -> None:
        """Forget every built book (the caller clears the ladders)."""
        self.pinned.clear()
        self._built.clear()
        self._recent.clear()

    def evict_surplus(self, ladders: dict[str, Ladder], keep: str) -> None:
        """Drop least recently used pristine background-only ladders beyond ``max_books``."""
        while len(ladders) > self.max_books and self._recent:
            cond, _ = self._recent.popitem(last=False)
            ladder = dict.get(ladders, cond)
            built = self._built.get(cond)
            if ladder is None or cond == keep or cond in self.pinned or built is None:
                continue
            if built.version != ladder.version or _has_owned(ladder):
                continue  # traded against or holding user orders: kept
            dict.__delitem__(ladders, cond)
            stamp = self._built.pop(cond).stamp
            self.on_evict(cond, ladder, stamp)

    def _rederive(self, condition_id: str, ladder: Ladder, gen: Generation) -> None:
        market = self.state.markets[condition_id]
        profile = self.profiles[condition_id]
        stamp, quote = self.stamped_quote(condition_id, gen)
        owned_bids = _owned(ladder.bids)
        owned_asks = _owned(ladder.asks)
        ladder.bids, ladder.asks = owned_bids, owned_asks
        if quote is not None:
            bids, asks, _ = self.background(condition_id, gen)
            # Never cross a user's resting order: the live book is never crossed.
            if owned_bids:
                top_owned_bid = max(owned_bids)
                asks = [lv for lv in asks if lv[0] > top_owned_bid]
            if owned_asks:
                low_owned_ask = min(owned_asks)
                bids = [lv for lv in bids if lv[0] < low_owned_ask]
            tag = f"{profile.index}-{gen.epoch}{'w' if gen.window_open else ''}"
            bg_bids, bg_asks = background_orders(market, (bids, asks), tag, self.state.clock.now())
            for book, extra in ((ladder.bids, bg_bids), (ladder.asks, bg_asks)):
                for price, queue in extra.items():
                    if price in book:
                        book[price].extend(queue)  # behind the users' orders: time priority
                    else:
                        book[price] = queue
            ladder.last_trade_price = quote.last_trade
        ladder.version += 1
        self._built[condition_id] = _Built(stamp, ladder.version)


def _owned(book: dict[Decimal, deque[RestingOrder]]) -> dict[Decimal, deque[RestingOrder]]:
    """The users' orders of one side (background orders dropped), FIFO order kept."""
    out: dict[Decimal, deque[RestingOrder]] = {}
    for price, queue in book.items():
        kept = deque(o for o in queue if o.owner is not None)
        if kept:
            out[price] = kept
    return out


def _has_owned(ladder: Ladder) -> bool:
    return any(o.owner is not None for q in ladder.bids.values() for o in q) or any(
        o.owner is not None for q in ladder.asks.values() for o in q
    )


class LiveLadders(dict[str, Ladder]):
    """``VenueState.ladders`` that builds lazily and keeps background liquidity current."""

    def __init__(self, books: BackgroundBooks) -> None:
        super().__init__()
        self.books = books

    def __missing__(self, condition_id: str) -> Ladder:
        state = self.books.state
        if condition_id not in state.markets:
            raise KeyError(condition_id)
        with state.lock:
            if condition_id in self.books.profiles:
                ladder = self.books.build(condition_id)
            else:
                ladder = Ladder()  # a market added without a profile: a static book
            dict.__setitem__(self, condition_id, ladder)
            self.books.evict_surplus(self, keep=condition_id)
        return ladder

    def __getitem__(self, condition_id: str) -> Ladder:
        ladder = super().__getitem__(condition_id)
        self.books.keep_current(condition_id, ladder)
        return ladder

    def __contains__(self, condition_id: object) -> bool:
        return dict.__contains__(self, condition_id) or condition_id in self.books.state.markets

    def get(self, condition_id: str, default: Ladder | None = None) -> Ladder | None:  # type: ignore[override]
        """Like ``dict.get``, but builds and refreshes as ``ladders[c]`` does."""
        try:
            return self[condition_id]
        except KeyError:
            return default

    def is_built(self, condition_id: str) -> bool:
        """Whether the market's ladder is in memory now (no side effect)."""
        return dict.__contains__(self, condition_id)
