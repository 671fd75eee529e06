"""The emulator's venue state: markets, one mirrored ladder per binary market, and the clock.

How the real CLOB holds a binary market, and so how we do: YES and NO are one book seen from two
sides. A BUY NO at q is matched by a BUY YES at 1-q (the pair is minted from 1 pUSD), and a SELL
NO at q by a SELL YES at 1-q (the pair is merged back into 1 pUSD). So we keep a single ladder in
YES terms:

    YES bids  = BUY YES at p   and  SELL NO at 1-p
    YES asks  = SELL YES at p  and  BUY NO at 1-p

and derive the NO book by reflection (NO bid q = YES ask 1-q; NO ask q = YES bid 1-q). Hence
YES ask + NO ask = 1 + spread on every binary market: complement arbitrage cannot arise by
construction, as on the live venue (docs/VENUE.md section 7).

Each price level is a FIFO queue of ``RestingOrder`` (price-time priority). Liquidity that
stands for other traders has ``owner=None``; orders that API users post carry their owner.
Only ``pm_lib.sim`` uses this module; it is mutable by design and guarded by ``Venue.lock``.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "Ladder",
    "RestingOrder",
    "SimClock",
    "SimEvent",
    "SimMarket",
    "VenueState",
    "yes_terms",
]

ONE = Decimal(1)


@dataclass
class SimMarket:
    """A market as the emulator lists it (Gamma fields) and trades it (CLOB fields)."""

    condition_id: str
    market_id: str
    question: str
    slug: str
    outcomes: tuple[str, str]
    token_ids: tuple[str, str]  # (yes, no) in the same order as outcomes
    tick_size: Decimal
    min_order_size: Decimal = Decimal(5)
    neg_risk: bool = False
    neg_risk_market_id: str | None = None
    event_id: str | None = None
    fees_enabled: bool = False
    fee_type: str | None = None
    fee_rate: Decimal = Decimal(0)
    fee_exponent: Decimal = Decimal(1)
    rebate_rate: Decimal = Decimal(0)
    active: bool = True
    closed: bool = False
    accepting_orders: bool = True
    enable_order_book: bool = True
    end_date: datetime | None = None
    version: str = "v1"
    volume: Decimal = Decimal(0)
    liquidity: Decimal = Decimal(0)
    # Seconds a marketable order is held before matching (Gamma secondsDelay on sports, a
    # taker delay on some crypto up/down markets); 0 = none.
    taker_delay_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)  # any further Gamma fields, verbatim
    # Gamma's updatedAt (unix s): set at creation, bumped whenever a listed field changes.
    updated_at: float = 0.0
    # The winning outcome once the market resolved (``POST /_sim/markets/{id}/resolve``).
    winner: str | None = None

    @property
    def yes_token(self) -> str:
        return self.token_ids[0]

    @property
    def no_token(self) -> str:
        return self.token_ids[1]


@dataclass
class SimEvent:
    event_id: str
    title: str
    slug: str
    neg_risk: bool = False
    neg_risk_augmented: bool = False
    neg_risk_market_id: str | None = None
    condition_ids: list[str] = field(default_factory=list)
    closed: bool = False
    updated_at: float = 0.0  # Gamma's updatedAt (unix s); bumped when the event or a leg changes


@dataclass
class RestingOrder:
    """One resting order in YES terms (``yes_side`` is BUY for YES bids, SELL for YES asks).

    ``order_id`` is the venue order hash for user orders and a synthetic id for background
    liquidity (``owner is None``). ``token_id``/``side``/``price`` keep what the user asked for
    (e.g. a BUY NO at 0.40 rests as a YES ask at 0.60).
    """

    order_id: str
    yes_side: str  # "BUY" (bid) or "SELL" (ask), in YES terms
    yes_price: Decimal
    remaining: Decimal
    owner: str | None = None
    token_id: str = ""
    side: str = ""
    price: Decimal = Decimal(0)
    created_at: float = 0.0


def yes_terms(is_yes_token: bool, side: str, price: Decimal) -> tuple[str, Decimal]:
    """Map an order on either token to (YES side, YES price): BUY NO at q == SELL YES at 1-q."""
    if is_yes_token:
        return side, price
    return ("SELL" if side == "BUY" else "BUY"), ONE - price


@dataclass
class Ladder:
    """One binary market's book in YES terms. Levels are FIFO queues of resting orders."""

    bids: dict[Decimal, deque[RestingOrder]] = field(default_factory=dict)
    asks: dict[Decimal, deque[RestingOrder]] = field(default_factory=dict)
    last_trade_price: Decimal | None = None  # YES price
    version: int = 0  # bumped on every change (for caching serialised books)

    def side(self, yes_side: str) -> dict[Decimal, deque[RestingOrder]]:
        return self.bids if yes_side == "BUY" else self.asks

    def add(self, order: RestingOrder) -> None:
        self.side(order.yes_side).setdefault(order.yes_price, deque()).append(order)
        self.version += 1

    def levels(self, yes_side: str) -> list[tuple[Decimal, Decimal]]:
        """Aggregated (price, size) levels of one YES side, best first."""
        book = self.side(yes_side)
        prices = sorted(book, reverse=(yes_side == "BUY"))
        out = []
        for p in prices:
            total = sum((o.remaining for o in book[p]), Decimal(0))
            if total > 0:
                out.append((p, total))
        return out

    def token_levels(
        self, is_yes_token: bool
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """(bids, asks) best first, as the given token's book shows them."""
        if is_yes_token:
            return self.levels("BUY"), self.levels("SELL")
        bids = [(ONE - p, s) for p, s in self.levels("SELL")]
        asks = [(ONE - p, s) for p, s in self.levels("BUY")]
        return bids, asks


@dataclass
class SimClock:
    """The venue clock. Tests move it with the control API; by default it follows wall time
    plus an offset, so a standalone venue behaves like a live one."""

    offset_seconds: float = 0.0
    frozen_at: float | None = None

    def now(self) -> float:
        if self.frozen_at is not None:
            return self.frozen_at + self.offset_seconds
        return datetime.now(UTC).timestamp() + self.offset_seconds

    def advance(self, seconds: float) -> None:
        self.offset_seconds += seconds


@dataclass
class VenueState:
    """Everything the emulator knows. All mutation happens under ``lock``."""

    markets: dict[str, SimMarket] = field(default_factory=dict)  # by condition id
    events: dict[str, SimEvent] = field(default_factory=dict)
    ladders: dict[str, Ladder] = field(default_factory=dict)  # by condition id
    token_index: dict[str, tuple[str, bool]] = field(default_factory=dict)  # token -> (cond, yes?)
    clock: SimClock = field(default_factory=SimClock)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def add_market(self, market: SimMarket, ladder: Ladder | None = None) -> None:
        self.markets[market.condition_id] = market
        self.ladders[market.condition_id] = ladder or Ladder()
        self.token_index[market.yes_token] = (market.condition_id, True)
        self.token_index[market.no_token] = (market.condition_id, False)

    def market_for_token(self, token_id: str) -> tuple[SimMarket, bool] | None:
        """The market a token belongs to and whether it is the YES token."""
        hit = self.token_index.get(token_id)
        if hit is None:
            return None
        cond, is_yes = hit
        return self.markets[cond], is_yes
