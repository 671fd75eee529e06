"""pm-agent's own tables (SQLModel, ``table=True``); the migrations create exactly these.

Money and sizes are ``Money`` (``NUMERIC(20, 6)``), prices and rates ``Price``
(``NUMERIC(12, 6)``), timestamps ``UTCDateTime``: see ``pm_lib.store.types``. Every row a flow
writes carries ``run_id`` and the Prefect ``flow_run_id`` (nullable: runs outside Prefect have
none). Status columns hold ``pm_lib.models`` enum values as strings. These classes are the
store's private schema: repositories hand out ``pm_lib.models`` types or the frozen rows of
``pm_lib.store.rows`` instead.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Index, MetaData, UniqueConstraint
from sqlmodel import Field, SQLModel

from pm_lib.store.types import Money, Price, UTCDateTime

__all__ = [
    "AccountBalanceRecord",
    "BasketRefusalRecord",
    "BudgetLock",
    "BudgetReservationRecord",
    "CatalogueEvent",
    "CatalogueMarket",
    "CatalogueRefresh",
    "ControlFlag",
    "DailyLossBreakerRecord",
    "FillRecord",
    "LegRiskRecord",
    "MarketLeaseRecord",
    "MarketResolutionRecord",
    "OpportunityRecord",
    "OrderIntentRecord",
    "PositionMarkRecord",
    "RiskDecisionRecord",
    "RunRecord",
    "SettlementRecord",
    "SyncCursor",
    "metadata",
]

metadata: MetaData = SQLModel.metadata
"""The metadata the migrations must match (checked by ``tests/store``)."""


# --- 0001 catalogue and runs ----------------------------------------------------------------


class CatalogueMarket(SQLModel, table=True):
    """One market as last seen in a Gamma catalogue fetch."""

    __tablename__ = "catalogue_market"
    __table_args__ = (
        Index("ix_catalogue_market_event_id", "event_id"),
        Index("ix_catalogue_market_neg_risk_market_id", "neg_risk_market_id"),
        Index("ix_catalogue_market_refreshed_at", "refreshed_at"),
    )

    condition_id: str = Field(primary_key=True)
    market_id: str
    question: str
    slug: str
    outcomes: list[dict[str, str]] = Field(sa_type=JSON)
    neg_risk: bool
    neg_risk_market_id: str | None = None
    event_id: str | None = None
    tick_size: Decimal = Field(sa_type=Price)
    min_order_size: Decimal = Field(sa_type=Money)
    fee_rate: Decimal = Field(sa_type=Price)
    fee_exponent: Decimal = Field(sa_type=Price)
    fee_taker_only: bool
    fee_rebate_rate: Decimal = Field(sa_type=Price)
    active: bool
    accepting_orders: bool
    closed: bool
    end_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: str
    refreshed_at: datetime = Field(sa_type=UTCDateTime)


class CatalogueEvent(SQLModel, table=True):
    """One Gamma event (a neg-risk group when ``neg_risk``)."""

    __tablename__ = "catalogue_event"
    __table_args__ = (Index("ix_catalogue_event_refreshed_at", "refreshed_at"),)

    event_id: str = Field(primary_key=True)
    title: str
    slug: str
    neg_risk: bool
    neg_risk_augmented: bool
    neg_risk_market_id: str | None = None
    market_condition_ids: list[str] = Field(sa_type=JSON)
    closed: bool
    refreshed_at: datetime = Field(sa_type=UTCDateTime)


class CatalogueRefresh(SQLModel, table=True):
    """One stored catalogue fetch; the newest one dates the cached catalogue.

    ``kind`` is ``full`` (the whole universe listed; the newest full refresh decides which
    stored rows are the catalogue) or ``incremental`` (only what changed since ``watermark`` of
    the refresh before). ``watermark``: the Gamma ``updatedAt`` the next incremental listing
    starts from (None: unknown, the next refresh is full). ``markets``/``events`` count what the
    refresh listed (for an incremental one: changed, plus ``removed`` closed since).
    ``venue`` keys the cache to where it came from: a run on another venue does not use it.
    """

    __tablename__ = "catalogue_refresh"
    __table_args__ = (Index("ix_catalogue_refresh_fetched_at", "fetched_at"),)

    id: int | None = Field(default=None, primary_key=True)
    fetched_at: datetime = Field(sa_type=UTCDateTime)
    markets: int
    events: int
    skipped: int
    run_id: str | None = None
    flow_run_id: str | None = None
    kind: str = Field(default="full", sa_column_kwargs={"server_default": "full"})
    watermark: datetime | None = Field(default=None, sa_type=UTCDateTime)
    removed: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    venue: str | None = None  # the Gamma and CLOB URLs it came from (catalogue_venue)


class RunRecord(SQLModel, table=True):
    """One flow run of pm-agent (scan, reconcile, report), with its counts and timings."""

    __tablename__ = "run"
    __table_args__ = (Index("ix_run_started_at", "started_at"),)

    id: str = Field(primary_key=True)
    flow_run_id: str | None = None
    flow_name: str
    mode: str
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str
    markets: int = 0
    books: int = 0
    opportunities: int = 0
    approved: int = 0
    orders: int = 0
    stage_timings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    error: str | None = None


# --- 0002 signals ---------------------------------------------------------------------------


class OpportunityRecord(SQLModel, table=True):
    """An opportunity a strategy proposed in a run (legs as JSON with decimal strings)."""

    __tablename__ = "opportunity"
    __table_args__ = (
        UniqueConstraint("run_id", "opportunity_id", name="uq_opportunity_run_opportunity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id")
    opportunity_id: str
    strategy: str
    market: str
    edge: Decimal = Field(sa_type=Money)
    cost: Decimal = Field(sa_type=Money)
    fees: Decimal = Field(sa_type=Money)
    payout: Decimal = Field(sa_type=Money)
    reason: str
    legs: list[dict[str, Any]] = Field(sa_type=JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)
    flow_run_id: str | None = None


class RiskDecisionRecord(SQLModel, table=True):
    """The risk gate's verdict on one opportunity of a run."""

    __tablename__ = "risk_decision"
    __table_args__ = (
        UniqueConstraint("run_id", "opportunity_id", name="uq_risk_decision_run_opportunity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id")
    opportunity_id: str
    approved: bool
    rule: str
    reason: str
    inputs: dict[str, str] = Field(sa_type=JSON)
    decided_at: datetime = Field(sa_type=UTCDateTime)
    flow_run_id: str | None = None


# --- 0003 execution -------------------------------------------------------------------------


class OrderIntentRecord(SQLModel, table=True):
    """What we mean to send for one leg, stored before signing; one row per intent key."""

    __tablename__ = "order_intent"
    __table_args__ = (
        UniqueConstraint("intent_key", name="uq_order_intent_intent_key"),
        UniqueConstraint("venue_order_id", name="uq_order_intent_venue_order_id"),
        Index("ix_order_intent_run_id", "run_id"),
        Index("ix_order_intent_mode_status", "mode", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    intent_key: str
    run_id: str
    opportunity_id: str
    leg_index: int
    mode: str
    token_id: str
    condition_id: str
    side: str
    size: Decimal = Field(sa_type=Money)
    price: Decimal = Field(sa_type=Price)
    order_type: str
    post_only: bool
    neg_risk: bool
    status: str
    venue_order_id: str | None = None
    filled_size: Decimal = Field(sa_type=Money)
    avg_price: Decimal | None = Field(default=None, sa_type=Price)
    fee: Decimal = Field(sa_type=Money)
    error: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    flow_run_id: str | None = None


class FillRecord(SQLModel, table=True):
    """One trade against one of our orders; reconcile may adopt fills with no intent."""

    __tablename__ = "fill"
    __table_args__ = (
        UniqueConstraint("trade_id", "venue_order_id", name="uq_fill_trade_order"),
        Index("ix_fill_intent_key", "intent_key"),
        Index("ix_fill_mode_matched_at", "mode", "matched_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    trade_id: str
    venue_order_id: str
    intent_key: str | None = None
    mode: str
    token_id: str
    condition_id: str
    side: str
    size: Decimal = Field(sa_type=Money)
    price: Decimal = Field(sa_type=Price)
    fee: Decimal = Field(sa_type=Money)
    status: str
    is_taker: bool
    matched_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    run_id: str | None = None
    flow_run_id: str | None = None


class LegRiskRecord(SQLModel, table=True):
    """A basket left lopsided (one leg filled, another not) and what was done about it."""

    __tablename__ = "leg_risk"
    __table_args__ = (
        Index("ix_leg_risk_run_id", "run_id"),
        Index("ix_leg_risk_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: str
    opportunity_id: str
    intent_key: str
    policy: str
    status: str
    detail: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    flow_run_id: str | None = None


class SyncCursor(SQLModel, table=True):
    """Where an incremental venue sync (trades, orders) got to, by name."""

    __tablename__ = "sync_cursor"

    key: str = Field(primary_key=True)
    value: str
    updated_at: datetime = Field(sa_type=UTCDateTime)


# --- 0004 control ---------------------------------------------------------------------------


class ControlFlag(SQLModel, table=True):
    """An operator switch; key ``halted`` is the kill switch."""

    __tablename__ = "control_flag"

    key: str = Field(primary_key=True)
    value: str
    reason: str
    updated_at: datetime = Field(sa_type=UTCDateTime)
    updated_by: str


# --- 0005 market leases (the rules: pm_lib.store.leases) ------------------------------------


class MarketLeaseRecord(SQLModel, table=True):
    """Which run holds (or last held) the right to trade one market (migration 0005)."""

    __tablename__ = "market_lease"

    mode: str = Field(primary_key=True)
    market: str = Field(primary_key=True)
    run_id: str
    opportunity_id: str
    acquired_at: datetime = Field(sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


# --- 0009 budget reservations (the rules: pm_lib.store.reservations) ------------------------


class BudgetLock(SQLModel, table=True):
    """One row per wallet (mode): locked while a run checks and reserves its budget."""

    __tablename__ = "budget_lock"

    mode: str = Field(primary_key=True)
    locked_at: datetime = Field(sa_type=UTCDateTime)


class BudgetReservationRecord(SQLModel, table=True):
    """Budget one run's approved opportunity holds until its orders are stored (0009)."""

    __tablename__ = "budget_reservation"
    __table_args__ = (
        UniqueConstraint("mode", "run_id", "opportunity_id", name="uq_budget_reservation_claim"),
        Index("ix_budget_reservation_open", "mode", "released_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mode: str
    run_id: str
    opportunity_id: str
    exposure: Decimal = Field(sa_type=Money)
    fees: Decimal = Field(sa_type=Money)
    open_orders: int
    by_market: dict[str, str] = Field(sa_type=JSON)
    by_group: dict[str, str] = Field(sa_type=JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = None


# --- 0008 portfolio: last trusted marks, the daily-loss breaker, the live balance -----------


class PositionMarkRecord(SQLModel, table=True):
    """The last trusted mark of one held token: what ``size`` shares sold into a fresh book's
    bids would have paid after the taker fee (``value``), and when (``pm_lib.portfolio``)."""

    __tablename__ = "position_mark"

    mode: str = Field(primary_key=True)
    token_id: str = Field(primary_key=True)
    condition_id: str
    size: Decimal = Field(sa_type=Money)
    value: Decimal = Field(sa_type=Money)
    marked_at: datetime = Field(sa_type=UTCDateTime)


class DailyLossBreakerRecord(SQLModel, table=True):
    """A UTC day on which the daily-loss breaker tripped: no new buying until the day ends."""

    __tablename__ = "daily_loss_breaker"

    mode: str = Field(primary_key=True)
    day: str = Field(primary_key=True)  # ISO date, UTC
    tripped_at: datetime = Field(sa_type=UTCDateTime)
    loss: Decimal = Field(sa_type=Money)
    limit: Decimal = Field(sa_type=Money)
    run_id: str | None = None


class AccountBalanceRecord(SQLModel, table=True):
    """The last pUSD balance the venue reported for a mode's account (written by reconcile)."""

    __tablename__ = "account_balance"

    mode: str = Field(primary_key=True)
    balance: Decimal = Field(sa_type=Money)
    read_at: datetime = Field(sa_type=UTCDateTime)


# --- 0010 refused baskets (pm_lib.store.signals.record_refusals) ------------------------------


class BasketRefusalRecord(SQLModel, table=True):
    """An event whose basket a strategy refused because its outcome set cannot be trusted (the
    sources disagree, it may gain outcomes, an outcome lacks a trusted book): one row per
    mode, strategy item kind and event, with the latest reason and when it was first and last
    seen (a loop refusing the same event every scan updates one row)."""

    __tablename__ = "basket_refusal"

    mode: str = Field(primary_key=True)
    ident: str = Field(primary_key=True)
    reason: str
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    last_run_id: str
    times: int


class PaperTake(SQLModel, table=True):
    """Liquidity paper orders took from one level of a venue book (``pm_lib.execution.liquidity``).

    ``level_size`` is the size the venue's book showed at ``price`` when it was taken from;
    while a later book still shows that size there, the level has not moved and ``taken`` is
    still gone from it. Paper only (a live order's takes are the venue's own book).
    """

    __tablename__ = "paper_take"

    token_id: str = Field(primary_key=True)
    side: str = Field(primary_key=True)
    price: Decimal = Field(primary_key=True, sa_type=Price)
    level_size: Decimal = Field(sa_type=Money)
    taken: Decimal = Field(sa_type=Money)
    updated_at: datetime = Field(sa_type=UTCDateTime)


# --- 0015 settlement: market resolutions and the redemptions they allow (pm_lib.settlement) ---


class MarketResolutionRecord(SQLModel, table=True):
    """How a closed market resolved (Gamma ``umaResolutionStatus: resolved`` + final
    ``outcomePrices``): the winning token and what one share of each token pays."""

    __tablename__ = "market_resolution"

    condition_id: str = Field(primary_key=True)
    winning_token_id: str | None = None
    winning_outcome: str | None = None
    payouts: dict[str, str] = Field(sa_type=JSON)  # token id -> pUSD per share, decimal text
    resolved_at: datetime = Field(sa_type=UTCDateTime)
    source: str  # the Gamma URL it was read from
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class SettlementRecord(SQLModel, table=True):
    """One token of a resolved market redeemed at its payout: stored ``pending`` before it is
    applied, ``applied`` once (paper: a synthetic fill in the same transaction), never twice.
    ``realised`` = ``proceeds - cost - fees`` of the position it closed."""

    __tablename__ = "settlement"
    __table_args__ = (
        UniqueConstraint("mode", "token_id", name="uq_settlement_mode_token"),
        Index("ix_settlement_status", "mode", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mode: str
    token_id: str
    condition_id: str
    size: Decimal = Field(sa_type=Money)
    payout: Decimal = Field(sa_type=Price)
    proceeds: Decimal = Field(sa_type=Money)
    cost: Decimal = Field(sa_type=Money)
    fees: Decimal = Field(sa_type=Money)
    realised: Decimal = Field(sa_type=Money)
    status: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    run_id: str | None = None
    flow_run_id: str | None = None


class SettlementActionRecord(SQLModel, table=True):
    """One live merge or redeem on chain, journalled like an order (``pm_lib.settlement.live``):
    stored ``intended`` before anything is signed, its nonce / transaction hash / relayer
    transaction id stored as soon as known, resolved by lookup, booked in the ledger once."""

    __tablename__ = "settlement_action"
    __table_args__ = (
        UniqueConstraint("action_key", name="uq_settlement_action_key"),
        Index("ix_settlement_action_status", "mode", "status", "condition_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    action_key: str
    mode: str
    kind: str
    condition_id: str
    wallet: str
    wallet_type: str
    sizes: dict[str, str] = Field(sa_type=JSON)
    prices: dict[str, str] = Field(sa_type=JSON)
    chain_before: dict[str, str] = Field(sa_type=JSON)
    proceeds: Decimal = Field(sa_type=Money)
    cost: Decimal = Field(sa_type=Money)
    fees: Decimal = Field(sa_type=Money)
    realised: Decimal = Field(sa_type=Money)
    status: str
    nonce: str | None = None
    tx_hash: str | None = None
    relayer_tx_id: str | None = None
    signature: str | None = None  # a relayer payload's signature (finds a lost submission)
    detail: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    run_id: str | None = None
    flow_run_id: str | None = None


class SettlementActionEventRecord(SQLModel, table=True):
    """Every state change of a ``settlement_action``, in order."""

    __tablename__ = "settlement_action_event"
    __table_args__ = (Index("ix_settlement_action_event_action", "action_id"),)

    id: int | None = Field(default=None, primary_key=True)
    action_id: int
    status: str
    detail: str | None = None
    at: datetime = Field(sa_type=UTCDateTime)
