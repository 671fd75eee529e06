"""Top of book of the background liquidity, per market and per generation of the venue clock.

A *generation* is one epoch of the venue clock (``SimConfig.book_epoch_seconds``), plus whether
the short window after the epoch's move is still open. Quotes are a pure function of
(seed, market, generation): the same clock always shows the same books.

- Epoch 0 is the universe as generated (or loaded); from epoch 1 each mid moves by a small
  moving-average of keyed normal draws (logit space for binaries, log-weights for neg-risk legs).
- Neg-risk legs move together: their mids are renormalised so the group sums to about 1, then
  the best asks are nudged so that the sum of asks stays above 1 and the sum of bids below 1,
  as in every recorded complete event (docs/VENUE.md 7: asks 1.003-1.156, bids 0.847-0.999).
- In a few epochs (``negrisk_dip_rate``, ``negrisk_near_miss_rate``) a non-augmented group's
  asks dip below 1 right after the move, for ``dip_window_seconds``: a real basket arbitrage
  (edge above taker fees and with depth), or a near miss erased by fees or by a thin best ask.
- A binary market's YES and NO books are one mirrored ladder, so it can never be mispriced.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from pm_lib.sim.seeding import normal, unit
from pm_lib.sim.state import SimEvent, SimMarket
from pm_lib.sim.universe import MarketProfile

__all__ = ["DipKind", "Generation", "Quote", "QuoteModel", "QuoteSettings"]

ONE = Decimal(1)
_SIZE = Decimal("0.01")
_STREAM_MID, _STREAM_SUM, _STREAM_DIP, _STREAM_SPREAD, _STREAM_EDGE = 11, 12, 13, 14, 15


class DipKind:
    """What a dipping group shows in its window (strings for the control API)."""

    NONE = ""
    ARBITRAGE = "arbitrage"
    FEE_NEAR_MISS = "fee_near_miss"
    DEPTH_NEAR_MISS = "depth_near_miss"


@dataclass(frozen=True, slots=True)
class Generation:
    """One state of the background books: the clock epoch and whether its dip window is open."""

    epoch: int
    window_open: bool


@dataclass(frozen=True, slots=True)
class QuoteSettings:
    """The knobs of the quote model (copied from ``SimConfig``)."""

    seed: int
    volatility: float = 0.08
    dip_rate: float = 0.02
    near_miss_rate: float = 0.05


@dataclass(frozen=True, slots=True)
class Quote:
    """Best YES bid/ask of the background book (``None``: that side is empty).

    ``thin_ask`` (shares) and ``ask_gap_ticks`` describe a depth near miss: the best ask holds
    fewer shares than the minimum order and the next level is ``ask_gap_ticks`` higher.
    """

    bid: Decimal | None
    ask: Decimal | None
    last_trade: Decimal
    dip: str = DipKind.NONE
    thin_ask: Decimal | None = None
    ask_gap_ticks: int = 0


@dataclass(slots=True)
class _Leg:
    market: SimMarket
    mid: float
    spread: int
    bid_t: int
    ask_t: int

    @property
    def tick(self) -> Decimal:
        return self.market.tick_size

    def bid(self) -> Decimal:
        return self.tick * self.bid_t

    def ask(self) -> Decimal:
        return self.tick * self.ask_t


@functools.lru_cache(maxsize=64)
def _max_ticks(tick: Decimal) -> int:
    return int(ONE / tick) - 1


@functools.lru_cache(maxsize=64)
def _tick_float(tick: Decimal) -> float:
    return float(tick)


def _place(mid: float, spread: int, tick: Decimal) -> tuple[int, int]:
    """(bid, ask) in ticks around ``mid``: valid prices are tick <= p <= 1 - tick."""
    top = _max_ticks(tick)
    bid = round(mid / _tick_float(tick) - spread / 2)
    ask = bid + spread
    if ask > top:
        ask, bid = top, top - spread
    if ask < 1:
        ask, bid = 1, 1 - spread
    return bid, ask


def _quote(leg: _Leg, dip: str = DipKind.NONE, thin: Decimal | None = None, gap: int = 0) -> Quote:
    bid = leg.bid() if leg.bid_t >= 1 else None
    ask = leg.ask()
    mid_price = Decimal(repr(min(max(leg.mid, 0.0), 1.0)))
    last = mid_price.quantize(leg.tick, ROUND_HALF_EVEN)
    last = min(max(last, leg.tick), ONE - leg.tick)
    return Quote(bid, ask, last, dip, thin, gap)


class QuoteModel:
    """Computes quotes for generated markets; caches neg-risk groups per generation."""

    def __init__(
        self,
        settings: QuoteSettings,
        markets: dict[str, SimMarket],
        events: dict[str, SimEvent],
        profiles: dict[str, MarketProfile],
        coupled_groups: bool = True,
    ) -> None:
        self.settings = settings
        self.markets = markets
        self.events = events
        self.profiles = profiles
        self.coupled_groups = coupled_groups
        # (event id, epoch, window open) -> quotes: plain keys hash in C, unlike Generation
        self._groups: dict[tuple[str, int, bool], dict[str, Quote]] = {}

    # --- public --------------------------------------------------------------------------
    def quote(self, condition_id: str, gen: Generation) -> Quote | None:
        """The background top of book of a market now; ``None`` when it has no book."""
        market = self.markets[condition_id]
        profile = self.profiles.get(condition_id)
        if profile is None or profile.placeholder or market.closed:
            return None
        event = self.events.get(market.event_id or "")
        if self.coupled_groups and market.neg_risk and event is not None:
            return self._group(event, gen).get(condition_id)
        return self._binary(market, profile, gen)

    def dip_of(self, event_id: str, epoch: int) -> str:
        """The dip a group shows in the window after the move into ``epoch`` (or none)."""
        event = self.events.get(event_id)
        if event is None or not event.neg_risk or event.neg_risk_augmented or epoch < 1:
            return DipKind.NONE
        u = unit(self.settings.seed, _STREAM_DIP, int(event.event_id), epoch)
        if u < self.settings.dip_rate:
            return DipKind.ARBITRAGE
        if u < self.settings.dip_rate + self.settings.near_miss_rate:
            fee_side = unit(self.settings.seed, _STREAM_DIP, int(event.event_id), epoch, 1)
            return DipKind.FEE_NEAR_MISS if fee_side < 0.5 else DipKind.DEPTH_NEAR_MISS
        return DipKind.NONE

    # --- moves -----------------------------------------------------------------------------
    def _noise(self, index: int, epoch: int) -> float:
        """A small smooth move: moving average of three keyed normals; none at epoch 0."""
        if epoch == 0 or self.settings.volatility == 0:
            return 0.0
        s = self.settings.seed
        z = sum(normal(s, _STREAM_MID, index, epoch - j) for j in range(3))
        return self.settings.volatility * z / math.sqrt(3)

    def _spread(self, profile: MarketProfile, epoch: int) -> int:
        if epoch == 0:
            return profile.spread_ticks
        u = unit(self.settings.seed, _STREAM_SPREAD, profile.index, epoch)
        if u < 0.1:
            return profile.spread_ticks + 1
        if u < 0.2 and profile.spread_ticks > 1:
            return profile.spread_ticks - 1
        return profile.spread_ticks

    def _binary(self, market: SimMarket, profile: MarketProfile, gen: Generation) -> Quote:
        p = min(max(profile.fair, 1e-6), 1 - 1e-6)
        logit = math.log(p / (1 - p)) + self._noise(profile.index, gen.epoch)
        mid = 1 / (1 + math.exp(-logit))
        spread = self._spread(profile, gen.epoch)
        bid_t, ask_t = _place(mid, spread, market.tick_size)
        return _quote(_Leg(market, mid, spread, bid_t, ask_t))

    # --- neg-risk groups -------------------------------------------------------------------
    def _group(self, event: SimEvent, gen: Generation) -> dict[str, Quote]:
        key = (event.event_id, gen.epoch, gen.window_open)
        cached = self._groups.get(key)
        if cached is not None:
            return cached
        if len(self._groups) > 20_000:
            self._groups.clear()
        legs = self._group_legs(event, gen.epoch)
        dip = self.dip_of(event.event_id, gen.epoch) if gen.window_open else DipKind.NONE
        quotes = self._dipped(event, legs, gen.epoch, dip) if dip else None
        if quotes is None:
            _keep_sums_fair(legs)
            quotes = {leg.market.condition_id: _quote(leg) for leg in legs}
        self._groups[key] = quotes
        return quotes

    def _group_legs(self, event: SimEvent, epoch: int) -> list[_Leg]:
        live: list[tuple[SimMarket, MarketProfile, float]] = []
        for cond in event.condition_ids:
            market = self.markets.get(cond)
            profile = self.profiles.get(cond)
            if market is None or profile is None or profile.placeholder or market.closed:
                continue
            weight = max(profile.fair, 1e-6) * math.exp(self._noise(profile.index, epoch))
            live.append((market, profile, weight))
        total = sum(w for _, _, w in live) or 1.0
        # Live groups sum slightly above or below 1 (docs/VENUE.md 7); draw that per epoch.
        target = 1 + (unit(self.settings.seed, _STREAM_SUM, int(event.event_id), epoch) - 0.3) / 60
        legs = []
        for market, profile, weight in live:
            mid = weight / total * target
            spread = self._spread(profile, epoch)
            bid_t, ask_t = _place(mid, spread, market.tick_size)
            legs.append(_Leg(market, mid, spread, bid_t, ask_t))
        return legs

    def _dipped(
        self, event: SimEvent, legs: list[_Leg], epoch: int, dip: str
    ) -> dict[str, Quote] | None:
        """Asks lowered so their sum is below 1 (``None`` if the group cannot show it)."""
        if len(legs) < 2:
            return None
        fee = _basket_fee(legs)
        u = unit(self.settings.seed, _STREAM_EDGE, int(event.event_id), epoch)
        coarsest = max(leg.tick for leg in legs)
        if dip == DipKind.ARBITRAGE:
            edge = fee + Decimal("0.005") + Decimal(repr(round(0.015 * u, 4)))
        elif dip == DipKind.FEE_NEAR_MISS and fee >= 3 * coarsest:
            edge = (fee * Decimal(repr(round(0.3 + 0.5 * u, 3)))).quantize(Decimal("0.0001"))
        else:
            dip = DipKind.DEPTH_NEAR_MISS
            edge = Decimal("0.002") + Decimal(repr(round(0.008 * u, 4)))
        if not _lower_asks(legs, ONE - edge):
            return None
        quotes = {leg.market.condition_id: _quote(leg, dip) for leg in legs}
        if dip == DipKind.DEPTH_NEAR_MISS:
            # The edge exists for a few shares only: buying the minimum size on the thin leg
            # walks to a level high enough that the basket costs more than 1.
            thin_leg = max(legs, key=lambda leg: leg.ask())
            size = thin_leg.market.min_order_size
            thin = (size * Decimal(repr(round(0.2 + 0.6 * u, 2)))).quantize(_SIZE)
            real_edge = ONE - sum((leg.ask() for leg in legs), Decimal(0))
            gap = int(real_edge * size / (size - thin) / thin_leg.tick) + 2
            quotes[thin_leg.market.condition_id] = _quote(thin_leg, dip, thin, gap)
        return quotes


def _basket_fee(legs: list[_Leg]) -> Decimal:
    """Taker fee per basket share: sum of rate * (p(1-p))^exponent (docs/VENUE.md 4.4)."""
    total = Decimal(0)
    for leg in legs:
        m = leg.market
        if m.fees_enabled:
            p = leg.ask()
            total += m.fee_rate * (p * (ONE - p)) ** m.fee_exponent
    return total.quantize(Decimal("0.0001"))


def _keep_sums_fair(legs: list[_Leg]) -> None:
    """Sum of best bids < 1 < sum of best asks, as on every recorded complete event."""
    while legs and sum((leg.bid() for leg in legs if leg.bid_t >= 1), Decimal(0)) >= ONE:
        top = max((leg for leg in legs if leg.bid_t >= 1), key=lambda leg: leg.bid())
        top.bid_t -= 1
    while legs and sum((leg.ask() for leg in legs), Decimal(0)) <= ONE:
        movable = [leg for leg in legs if leg.ask_t < _max_ticks(leg.tick)]
        if not movable:
            break
        max(movable, key=lambda leg: leg.ask()).ask_t += 1


def _lower_asks(legs: list[_Leg], target: Decimal) -> bool:
    """Lower the largest asks a tick at a time until their sum is at most ``target``."""
    total = sum((leg.ask() for leg in legs), Decimal(0))
    while total > target:
        movable = [leg for leg in legs if leg.ask_t > 1]
        if not movable:
            return False
        leg = max(movable, key=lambda x: x.ask())
        leg.ask_t -= 1
        total -= leg.tick
        if leg.bid_t >= leg.ask_t:
            leg.bid_t = leg.ask_t - 1
    return True
