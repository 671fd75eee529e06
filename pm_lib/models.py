"""Domain types of pm-agent: frozen, typed, exact.

Everything past the venue edge (``pm_lib.venue.wire``) speaks these types; nothing handles raw
venue JSON. Prices, sizes and amounts are ``Decimal`` (pUSD has 6 decimals, shares are quoted to
at most 2 on the CLOB); never ``float``.

Vocabulary:
- a *token* is one outcome's ERC-1155 position id (Gamma ``clobTokenIds``), traded on the CLOB;
- a *market* is one condition with its outcomes (binary markets have two tokens, YES and NO);
- an *event* groups markets; a neg-risk event's markets are mutually exclusive outcomes;
- an *opportunity* is what a strategy proposes; a *risk decision* approves or rejects it;
- an *order intent* is the durable record of what we mean to send, written before signing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ONE",
    "ZERO",
    "Catalogue",
    "CatalogueChanges",
    "Event",
    "FeeSchedule",
    "Fill",
    "Leg",
    "Level",
    "Market",
    "MarketResolution",
    "Opportunity",
    "OrderBook",
    "OrderRequest",
    "OrderResult",
    "OrderStatus",
    "OrderType",
    "Outcome",
    "PortfolioState",
    "Position",
    "ProtocolVersion",
    "RiskDecision",
    "Side",
    "SkippedItem",
    "TradeStatus",
]

ZERO = Decimal(0)
ONE = Decimal(1)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    """CLOB time-in-force: GTC/GTD rest; FOK fills whole or nothing; FAK fills what it can."""

    GTC = "GTC"
    GTD = "GTD"
    FOK = "FOK"
    FAK = "FAK"

    @property
    def is_marketable_only(self) -> bool:
        return self in (OrderType.FOK, OrderType.FAK)


class ProtocolVersion(StrEnum):
    """Gamma ``version``: "v1" trades ``clobTokenIds``; "v2" (Protocol V2) ``positionIds``."""

    V1 = "v1"
    V2 = "v2"


class OrderStatus(StrEnum):
    """Our normalised order lifecycle (venue spellings are mapped in ``venue.wire``).

    PENDING: intent stored, not yet signed. SIGNED: hash known and stored, not yet posted.
    UNKNOWN: posted but the outcome is ambiguous (timeout, dropped connection, 5xx); resolved by
    lookup of the hash, never by re-posting. LIVE: resting. MATCHED: fully filled.
    CANCELED: cancelled (possibly after a partial fill). REJECTED: the venue refused it; nothing
    rests. EXPIRED: GTD expiry.
    """

    PENDING = "PENDING"
    SIGNED = "SIGNED"
    UNKNOWN = "UNKNOWN"
    LIVE = "LIVE"
    MATCHED = "MATCHED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_terminal(self) -> bool:
        return self in (
            OrderStatus.MATCHED,
            OrderStatus.CANCELED,
            OrderStatus.REJECTED,
            OrderStatus.EXPIRED,
        )


class TradeStatus(StrEnum):
    """Settlement state of a fill. MATCHED/MINED/RETRYING are provisional, CONFIRMED final,
    FAILED means the fill was reverted on chain and must be undone in positions and P&L."""

    MATCHED = "MATCHED"
    MINED = "MINED"
    RETRYING = "RETRYING"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"


class FeeSchedule(_Frozen):
    """A market's taker-fee parameters: ``fee = shares * rate * (p * (1 - p)) ** exponent``.

    Makers pay nothing on CLOB V2; ``rebate_rate`` is informational. A market with fees disabled
    has ``rate == 0``.
    """

    rate: Decimal = ZERO
    exponent: Decimal = ONE  # live data has 1, 2 and 0.5 (economics_fees)
    taker_only: bool = True
    rebate_rate: Decimal = ZERO

    @classmethod
    def none(cls) -> FeeSchedule:
        return cls()


class Outcome(_Frozen):
    name: str
    token_id: str


class Market(_Frozen):
    """One tradable condition as listed by Gamma (decoded and checked at the edge)."""

    condition_id: str
    market_id: str = Field(description="Gamma numeric id, as a string")
    question: str
    slug: str
    outcomes: tuple[Outcome, ...]
    neg_risk: bool = False
    neg_risk_market_id: str | None = Field(
        default=None, description="Gamma negRiskMarketID: the id shared by a neg-risk group"
    )
    event_id: str | None = None
    tick_size: Decimal
    min_order_size: Decimal
    fees: FeeSchedule = Field(default_factory=FeeSchedule.none)
    active: bool = True
    accepting_orders: bool = True
    closed: bool = False
    end_date: datetime | None = None
    version: ProtocolVersion = ProtocolVersion.V1

    @property
    def token_ids(self) -> tuple[str, ...]:
        return tuple(o.token_id for o in self.outcomes)

    @property
    def is_binary(self) -> bool:
        return len(self.outcomes) == 2

    @property
    def yes(self) -> Outcome:
        """The first outcome ("Yes" on yes/no markets, the home side on sports markets)."""
        return self.outcomes[0]

    @property
    def no(self) -> Outcome:
        return self.outcomes[1]

    @property
    def group_id(self) -> str | None:
        """The neg-risk group this market belongs to (``None`` when not neg-risk)."""
        if not self.neg_risk:
            return None
        return self.neg_risk_market_id or self.event_id


class Event(_Frozen):
    """A Gamma event; for neg-risk events, the group whose YES legs sum to one payout."""

    event_id: str
    title: str
    slug: str
    neg_risk: bool = False
    neg_risk_augmented: bool = False
    neg_risk_market_id: str | None = None
    market_condition_ids: tuple[str, ...] = Field(
        default=(), description="all markets of the event, tradable or not"
    )
    closed: bool = False


class SkippedItem(_Frozen):
    """Something the edge refused to turn into a domain object, and why."""

    kind: str
    ident: str
    reason: str


class Catalogue(_Frozen):
    """The tradable universe at ``fetched_at``: markets by condition id and events by id."""

    markets: tuple[Market, ...]
    events: tuple[Event, ...] = ()
    fetched_at: datetime
    skipped: tuple[SkippedItem, ...] = ()
    # The newest Gamma ``updatedAt`` known when the listing began: the next incremental
    # refresh lists what changed after it (None: unknown, the next refresh is full).
    watermark: datetime | None = None

    def market_by_condition(self) -> dict[str, Market]:
        return {m.condition_id: m for m in self.markets}

    def market_by_token(self) -> dict[str, Market]:
        return {t: m for m in self.markets for t in m.token_ids}

    @property
    def token_ids(self) -> tuple[str, ...]:
        return tuple(t for m in self.markets for t in m.token_ids)


class CatalogueChanges(_Frozen):
    """What Gamma changed since a watermark: an incremental catalogue refresh.

    ``markets``/``events`` are listed now (upserted into the cache); ``removed_*`` are the ids
    of those that closed or stopped being tradable since (marked closed in the cache).
    """

    markets: tuple[Market, ...] = ()
    removed_markets: tuple[str, ...] = ()
    events: tuple[Event, ...] = ()
    removed_events: tuple[str, ...] = ()
    fetched_at: datetime
    watermark: datetime | None
    skipped: tuple[SkippedItem, ...] = ()


class Level(_Frozen):
    price: Decimal
    size: Decimal


class OrderBook(_Frozen):
    """One token's book, normalised: ``bids`` and ``asks`` are each *best first*.

    The live ``/book`` returns best prices last (bids ascending, asks descending); the parser
    sorts, so nothing downstream depends on the wire order.
    """

    token_id: str
    condition_id: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool = False
    hash: str = ""
    timestamp: datetime
    last_trade_price: Decimal | None = None

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None


class Leg(_Frozen):
    """One order an opportunity needs: buy or sell ``size`` shares no worse than ``limit_price``."""

    token_id: str
    condition_id: str
    side: Side
    size: Decimal
    limit_price: Decimal
    expected_vwap: Decimal
    expected_fee: Decimal = ZERO
    order_type: OrderType = OrderType.FOK


class Opportunity(_Frozen):
    """A trade a strategy proposes. ``edge`` is the expected profit in pUSD net of taker fees."""

    id: str = Field(description="deterministic: same inputs, same id")
    strategy: str
    market: str = Field(description="condition id, or the neg-risk group id for baskets")
    legs: tuple[Leg, ...]
    edge: Decimal
    cost: Decimal = Field(description="pUSD paid for the legs (VWAP x size), fees excluded")
    fees: Decimal
    payout: Decimal = Field(description="pUSD the legs are worth at resolution/exit")
    reason: str
    created_at: datetime

    @property
    def notional(self) -> Decimal:
        return self.cost + self.fees


class RiskDecision(_Frozen):
    """The risk gate's verdict on one opportunity, with the numbers it used (as strings)."""

    opportunity_id: str
    approved: bool
    rule: str = Field(description="the rule that decided: 'approved' or the rejecting rule")
    reason: str
    inputs: dict[str, str] = Field(default_factory=dict)
    decided_at: datetime


class Position(_Frozen):
    token_id: str
    condition_id: str
    size: Decimal
    avg_price: Decimal
    realised_pnl: Decimal = ZERO
    fees_paid: Decimal = ZERO


class PortfolioState(_Frozen):
    """What the risk gate needs to know about the account at ``as_of`` (``pm_lib.portfolio``
    computes it: one marking rule for the gate, the run summary, the report and the CLI)."""

    positions: dict[str, Position] = Field(default_factory=dict)
    open_orders: int = 0
    open_order_notional: Decimal = ZERO
    cash: Decimal = ZERO
    realised_pnl_today: Decimal = ZERO
    fees_today: Decimal = ZERO
    unrealised_pnl: Decimal = ZERO
    unmarked_positions: int = 0
    daily_loss_tripped_at: datetime | None = None
    halted: bool = False
    halted_reason: str = ""
    as_of: datetime

    @property
    def pnl_today(self) -> Decimal:
        """Today's P&L: realised today - fees today + unrealised of the open positions."""
        return self.realised_pnl_today - self.fees_today + self.unrealised_pnl

    @property
    def loss_today(self) -> Decimal:
        """Today's loss: the P&L's negative, 0 when in profit."""
        return max(ZERO, -self.pnl_today)


class OrderRequest(_Frozen):
    """What an executor is asked to do for one leg; ``intent_key`` makes it idempotent."""

    intent_key: str
    token_id: str
    condition_id: str
    side: Side
    size: Decimal
    price: Decimal
    order_type: OrderType
    post_only: bool = False
    tick_size: Decimal
    neg_risk: bool = False
    expiration: datetime | None = None
    fees: FeeSchedule = Field(default_factory=FeeSchedule.none)


class OrderResult(_Frozen):
    """An executor's answer for one request. Paper and live return this same shape."""

    intent_key: str
    order_id: str | None = Field(description="venue order hash, or 'paper-...'")
    status: OrderStatus
    filled_size: Decimal = ZERO
    avg_price: Decimal | None = None
    fee: Decimal = ZERO
    error: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict, description="venue answer, for the record")


class Fill(_Frozen):
    """One trade against one of our orders, from our side (size in shares, fee in pUSD)."""

    trade_id: str
    order_id: str
    token_id: str
    condition_id: str
    side: Side
    size: Decimal
    price: Decimal
    fee: Decimal = ZERO
    status: TradeStatus
    is_taker: bool = True
    matched_at: datetime


class MarketResolution(_Frozen):
    """How a closed market resolved: what one share of each of its tokens pays (1 to the winner,
    0 to the others; a 50-50 resolution pays 0.5 each). ``resolved_at`` is the venue's time."""

    condition_id: str
    payouts: dict[str, Decimal] = Field(description="token id -> pUSD paid per share")
    winning_token_id: str | None = Field(description="None when no single token won")
    winning_outcome: str | None = None
    resolved_at: datetime
