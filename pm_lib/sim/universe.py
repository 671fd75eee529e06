"""The emulator's market universe: a seeded generator calibrated to the live venue.

``generate_universe(seed, markets, anchor)`` draws events and markets whose shapes follow
``pm_lib.sim.universe_profile`` (neg-risk share, group sizes, ticks, spreads, fee schedules,
prices piled near 0 and 1). Same arguments, same universe. ``anchor`` (unix seconds) is the
time the universe is "now" for: end dates are drawn relative to it.

Only listing data and the *parameters* of each book are generated here (``MarketProfile``);
books themselves are materialised lazily by ``pm_lib.sim.evolution``, so 50,000 markets build
in seconds and hold little memory.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from pm_lib.sim.state import SimEvent, SimMarket
from pm_lib.sim.universe_profile import (
    AUGMENTED_SHARE,
    CATEGORIES,
    CLOSED_SHARE,
    CRYPTO_5M_FEES,
    ENDING_WITHIN_HOUR_SHARE,
    FEES_ENABLED_SHARE,
    NEG_RISK_SHARE,
    NOT_ACCEPTING_SHARE,
    FeeSchedule,
    draw_binary_fair,
    draw_group_size,
    draw_group_weights,
    draw_spread_ticks,
    draw_tick,
)
from pm_lib.sim.universe_text import EventText, binary_text, group_text

__all__ = ["EventProfile", "MarketProfile", "Universe", "generate_universe"]

_MONEY = Decimal("0.000001")
_FIRST_MARKET_ID = 600_000
_FIRST_EVENT_ID = 40_000


@dataclass(slots=True)
class MarketProfile:
    """How one market's background book is drawn (not on the wire).

    ``fair`` is the base YES probability (for a neg-risk leg, its share of the group).
    ``placeholder`` marks an augmented event's inactive leg: listed, never quoted.
    """

    index: int
    fair: float
    spread_ticks: int
    depth: float
    category: str
    group_title: str = ""
    placeholder: bool = False
    neg_risk_other: bool = False
    volume24hr: Decimal = Decimal(0)
    start_ts: float = 0.0
    leg: int = 0  # position in its neg-risk event (the last byte of its questionID)


@dataclass(slots=True)
class EventProfile:
    """Listing data of one event that ``SimEvent`` does not carry."""

    index: int
    category: str
    description: str
    start_ts: float
    end_ts: float
    series_slug: str = ""


@dataclass
class Universe:
    """The generated (or loaded) venue: markets in market-id order, events, book parameters."""

    seed: int
    anchor: float
    markets: list[SimMarket] = field(default_factory=list)
    events: list[SimEvent] = field(default_factory=list)
    profiles: dict[str, MarketProfile] = field(default_factory=dict)  # by condition id
    event_profiles: dict[str, EventProfile] = field(default_factory=dict)  # by event id
    # Generated neg-risk groups are complete, so their legs are quoted together; a recorded
    # snapshot page holds partial groups, so its markets are quoted one by one.
    coupled_groups: bool = True


def _hex32(seed: int, *parts: object) -> str:
    key = f"{seed}/" + "/".join(map(str, parts))
    return "0x" + hashlib.sha256(key.encode()).hexdigest()


def _big_decimal_id(seed: int, *parts: object) -> str:
    """A decimal id the size of a live ERC-1155 token id (~77 digits)."""
    key = f"{seed}/" + "/".join(map(str, parts))
    raw = hashlib.sha256(key.encode()).digest()
    return str(int.from_bytes(raw, "big"))


def _money(x: float) -> Decimal:
    return Decimal(repr(round(x, 6))).quantize(_MONEY)


def _iso(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class _Generator:
    """Draws the universe market by market from one seeded stream (order is part of the seed)."""

    def __init__(self, seed: int, anchor: float) -> None:
        self.seed = seed
        self.anchor = anchor
        self.rng = random.Random(seed)
        self.universe = Universe(seed=seed, anchor=anchor)
        self.market_id = _FIRST_MARKET_ID
        self.event_id = _FIRST_EVENT_ID
        self.neg_risk_markets = 0
        self.fee_markets = 0

    @property
    def count(self) -> int:
        return len(self.universe.markets)

    def run(self, markets: int) -> Universe:
        while self.count < markets:
            remaining = markets - self.count
            share = self.neg_risk_markets / max(self.count, 1)
            fees = self.fee_markets / max(self.count, 1) < FEES_ENABLED_SHARE
            category = self._category()
            if remaining >= 2 and share < NEG_RISK_SHARE:
                size = min(draw_group_size(self.rng), remaining)
                self._group(size, category, fees)
            else:
                self._binary(category, fees)
        return self.universe

    def _category(self) -> str:
        names = list(CATEGORIES)
        weights = [CATEGORIES[n][0] for n in names]
        return self.rng.choices(names, weights=weights)[0]

    def _end_ts(self) -> float:
        rng = self.rng
        if rng.random() < ENDING_WITHIN_HOUR_SHARE:
            return self.anchor + rng.uniform(5 * 60, 55 * 60)
        return self.anchor + rng.uniform(1, 300) * 86_400

    def _new_event(
        self, text: EventText, category: str, neg_risk: bool, end_ts: float
    ) -> tuple[SimEvent, EventProfile]:
        self.event_id += self.rng.randint(1, 40)
        event_id = str(self.event_id)
        index = len(self.universe.events)
        event = SimEvent(
            event_id=event_id,
            title=text.title,
            slug=f"{text.slug}-{event_id}",
            neg_risk=neg_risk,
            neg_risk_market_id=_hex32(self.seed, "nrm", index) if neg_risk else None,
        )
        profile = EventProfile(
            index=index,
            category=category,
            description=text.description,
            start_ts=self.anchor - self.rng.uniform(1, 200) * 86_400,
            end_ts=end_ts,
            series_slug=text.series_slug,
        )
        event.updated_at = profile.start_ts  # no extra draw: the seed's universe is unchanged
        self.universe.events.append(event)
        self.universe.event_profiles[event_id] = profile
        return event, profile

    def _market(
        self,
        event: SimEvent,
        question: str,
        outcomes: tuple[str, str],
        fair: float,
        category: str,
        fee: FeeSchedule | None,
        end_ts: float,
        group_title: str = "",
    ) -> tuple[SimMarket, MarketProfile]:
        rng = self.rng
        index = self.count
        self.market_id += rng.randint(1, 12)
        cond = _hex32(self.seed, "cond", index)
        tick = draw_tick(rng, fair)
        volume24 = math.exp(rng.gauss(math.log(6400), 2.6))
        market = SimMarket(
            condition_id=cond,
            market_id=str(self.market_id),
            question=question,
            slug="",
            outcomes=outcomes,
            token_ids=(
                _big_decimal_id(self.seed, "token", index, 0),
                _big_decimal_id(self.seed, "token", index, 1),
            ),
            tick_size=tick,
            neg_risk=event.neg_risk,
            neg_risk_market_id=event.neg_risk_market_id,
            event_id=event.event_id,
            fees_enabled=fee is not None,
            fee_type=fee.fee_type if fee else None,
            fee_rate=fee.rate if fee else Decimal(0),
            fee_exponent=Decimal(fee.exponent) if fee else Decimal(1),
            rebate_rate=fee.rebate_rate if fee else Decimal(0),
            end_date=_iso(end_ts),
            volume=_money(volume24 * rng.uniform(3, 150)),
            liquidity=_money(math.exp(rng.gauss(math.log(57_000), 2.0))),
        )
        market.slug = _slug(question, market.market_id)
        _taker_delay(market, category, end_ts)
        profile = MarketProfile(
            index=index,
            fair=fair,
            spread_ticks=draw_spread_ticks(rng, tick),
            depth=math.exp(rng.gauss(math.log(300), 0.8)),
            category=category,
            group_title=group_title,
            volume24hr=_money(volume24),
            start_ts=self.anchor - rng.uniform(1, 200) * 86_400,
        )
        market.updated_at = profile.start_ts
        self.universe.markets.append(market)
        self.universe.profiles[cond] = profile
        event.condition_ids.append(cond)
        if event.neg_risk:
            self.neg_risk_markets += 1
        if fee is not None:
            self.fee_markets += 1
        return market, profile

    def _binary(self, category: str, fees: bool) -> None:
        rng = self.rng
        text = binary_text(rng, category)
        end_ts = self._end_ts()
        if text.five_minute:
            end_ts = self.anchor + rng.uniform(60, 3600)
        event, _ = self._new_event(text, category, False, end_ts)
        fee = None
        if fees:
            fee = CRYPTO_5M_FEES if text.five_minute else CATEGORIES[category][1]
        market, _ = self._market(
            event, text.question, text.outcomes, draw_binary_fair(rng), category, fee, end_ts
        )
        u = rng.random()
        if u < CLOSED_SHARE:
            market.closed = True
            market.accepting_orders = False
            market.end_date = _iso(self.anchor - rng.uniform(1, 30) * 86_400)
            event.closed = True
        elif u < CLOSED_SHARE + NOT_ACCEPTING_SHARE:
            market.accepting_orders = False

    def _group(self, size: int, category: str, fees: bool) -> None:
        rng = self.rng
        augmented = size >= 6 and rng.random() < AUGMENTED_SHARE
        placeholders = min(rng.randint(2, 5), size - 3) if augmented else 0
        closed_legs = rng.randint(0, 2) if augmented else 0
        tradable = size - placeholders
        text = group_text(rng, category, size)
        end_ts = self._end_ts()
        event, _ = self._new_event(text, category, True, end_ts)
        event.neg_risk_augmented = augmented
        fee = CATEGORIES[category][1] if fees else None
        weights = draw_group_weights(rng, tradable)
        for leg in range(size):
            placeholder = leg >= tradable
            fair = 0.0 if placeholder else weights[leg]
            market, profile = self._market(
                event,
                text.leg_questions[leg],
                ("Yes", "No"),
                fair,
                category,
                fee,
                end_ts,
                group_title=text.leg_titles[leg],
            )
            profile.leg = leg
            if placeholder:
                profile.placeholder = True
                profile.neg_risk_other = leg == size - 1
                market.active = False
            elif leg < closed_legs and weights[leg] < 0.01:
                market.closed = True
                market.accepting_orders = False
                profile.placeholder = True


SPORTS_TAKER_DELAY_SECONDS = 1.0
"""Gamma ``secondsDelay`` of sports markets: marketable orders are held this long."""
UP_DOWN_TAKER_DELAY_SECONDS = 0.25
"""The taker delay of crypto up/down markets (``itode`` on /clob-markets; not on Gamma)."""
GAME_LENGTH_SECONDS = 3 * 3600.0
"""A game starts this long before its market's end date (``gameStartTime``)."""


def _taker_delay(market: SimMarket, category: str, end_ts: float) -> None:
    """Sports markets carry Gamma's ``secondsDelay``, ``gameStartTime`` and
    ``sportsMarketType`` and hold marketable orders ~1 s; crypto up/down markets ~250 ms."""
    if category == "sports":
        market.taker_delay_seconds = SPORTS_TAKER_DELAY_SECONDS
        start = datetime.fromtimestamp(end_ts - GAME_LENGTH_SECONDS, UTC)
        market.extra.update(
            {
                "secondsDelay": int(SPORTS_TAKER_DELAY_SECONDS),
                "gameStartTime": start.strftime("%Y-%m-%d %H:%M:%S+00"),
                "sportsMarketType": "moneyline" if market.neg_risk else "spreads",
            }
        )
    elif category == "crypto" and market.outcomes == ("Up", "Down"):
        market.taker_delay_seconds = UP_DOWN_TAKER_DELAY_SECONDS


def _slug(question: str, market_id: str) -> str:
    words = "".join(c.lower() if c.isalnum() else " " for c in question).split()
    return "-".join([*words[:10], market_id])


def generate_universe(seed: int, markets: int, anchor: float) -> Universe:
    """Draw ``markets`` markets for ``seed``; end dates are relative to ``anchor`` (unix s)."""
    if markets < 0:
        raise ValueError("markets must be >= 0")
    return _Generator(seed, anchor).run(markets)
