"""Orders and trades after placement: records, wire shapes, settlement states, heartbeats.

Status spellings the emulator serves (one choice, documented in docs/VENUE.md 2.4 terms):

- orders (``/data/order``, ``/data/orders``): ``ORDER_STATUS_LIVE``, ``ORDER_STATUS_MATCHED``
  (fully filled, or a FOK/FAK order that traded), ``ORDER_STATUS_CANCELED`` (cancelled by the
  user, by the heartbeat guard, a GTD order past its expiration, or a held marketable order
  that could not trade when its delay ended); the docs' OpenAPI enum; and
  ``ORDER_STATUS_DELAYED`` while a marketable order waits out a market's taker delay (as
  third-party clients spell it; it cannot be cancelled then);
- trades (``/data/trades``): ``TRADE_STATUS_MATCHED`` -> ``TRADE_STATUS_MINED`` ->
  ``TRADE_STATUS_CONFIRMED`` as the venue clock passes ``mined_after_seconds`` and
  ``confirmed_after_seconds`` after the match; a ghost fill goes ``TRADE_STATUS_RETRYING`` ->
  ``TRADE_STATUS_FAILED`` on the same schedule and its balance effects are undone;
- POST /order ``status``: lowercase ``live`` / ``matched`` / ``delayed``.

Sizes on the wire are decimal share strings (``"10"``), prices decimal strings, times unix
seconds; a trade has one record per taker order execution, listing every maker order it hit.
As on the live venue (docs' Trade object), a trade row's top-level ``price`` is the taker
order's limit, not what it paid: the execution prices are the ``maker_orders[].price`` (each in
that maker's token), and ``trader_side`` says whether the viewer was the taker or a maker.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pm_lib.sim.state import RestingOrder

__all__ = [
    "ORDER_CANCELED",
    "ORDER_CANCELED_RESOLVED",
    "ORDER_DELAYED",
    "ORDER_LIVE",
    "ORDER_MATCHED",
    "TRADE_CONFIRMED",
    "TRADE_FAILED",
    "TRADE_MATCHED",
    "TRADE_MINED",
    "TRADE_RETRYING",
    "TRADE_STATUSES",
    "HeartbeatBook",
    "HeartbeatRejected",
    "LedgerEntry",
    "MakerFill",
    "OrderRecord",
    "TradeRecord",
    "decimal_text",
    "due_trade_status",
]

ORDER_LIVE = "ORDER_STATUS_LIVE"
ORDER_MATCHED = "ORDER_STATUS_MATCHED"
ORDER_CANCELED = "ORDER_STATUS_CANCELED"
ORDER_CANCELED_RESOLVED = "ORDER_STATUS_CANCELED_MARKET_RESOLVED"  # its market resolved
ORDER_DELAYED = "ORDER_STATUS_DELAYED"  # a marketable order held in a market's taker delay
TRADE_MATCHED = "TRADE_STATUS_MATCHED"
TRADE_MINED = "TRADE_STATUS_MINED"
TRADE_CONFIRMED = "TRADE_STATUS_CONFIRMED"
TRADE_RETRYING = "TRADE_STATUS_RETRYING"
TRADE_FAILED = "TRADE_STATUS_FAILED"
TERMINAL_TRADE = (TRADE_CONFIRMED, TRADE_FAILED)
TRADE_STATUSES = (TRADE_MATCHED, TRADE_MINED, TRADE_CONFIRMED, TRADE_RETRYING, TRADE_FAILED)


def decimal_text(value: Decimal) -> str:
    """A plain decimal string without exponent or trailing zeros: ``10``, ``0.53``."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


@dataclass
class OrderRecord:
    """A user order as the venue remembers it (the resting part lives on the ladder)."""

    order_id: str
    user: str  # lower-case address of the API key that placed it
    owner: str  # the API key
    maker_address: str
    market: str
    asset_id: str
    side: str
    price: Decimal
    original_size: Decimal
    outcome: str
    order_type: str
    expiration: int
    created_at: float
    neg_risk: bool
    status: str = ORDER_LIVE
    size_matched: Decimal = Decimal(0)
    associate_trades: list[str] = field(default_factory=list)
    resting: RestingOrder | None = None

    @property
    def remaining(self) -> Decimal:
        """Shares not yet matched."""
        return self.original_size - self.size_matched

    def as_json(self) -> dict[str, Any]:
        """The live OpenOrder shape (docs/VENUE.md 2.3)."""
        return {
            "id": self.order_id,
            "status": self.status,
            "owner": self.owner,
            "maker_address": self.maker_address,
            "market": self.market,
            "asset_id": self.asset_id,
            "side": self.side,
            "original_size": decimal_text(self.original_size),
            "size_matched": decimal_text(self.size_matched),
            "price": decimal_text(self.price),
            "outcome": self.outcome,
            "expiration": str(self.expiration),
            "order_type": self.order_type,
            "associate_trades": list(self.associate_trades),
            "created_at": int(self.created_at),
        }


@dataclass(frozen=True)
class MakerFill:
    """One maker order a trade hit, in the maker's own terms."""

    order_id: str
    owner: str  # API key, "" for background liquidity
    user: str
    maker_address: str
    asset_id: str
    side: str
    price: Decimal
    matched_amount: Decimal
    outcome: str
    fee_rate_bps: str

    def as_json(self) -> dict[str, Any]:
        """One ``maker_orders[]`` entry of a ``/data/trades`` row."""
        return {
            "order_id": self.order_id,
            "owner": self.owner,
            "maker_address": self.maker_address,
            "matched_amount": decimal_text(self.matched_amount),
            "price": decimal_text(self.price),
            "fee_rate_bps": self.fee_rate_bps,
            "asset_id": self.asset_id,
            "outcome": self.outcome,
            "side": self.side,
        }


@dataclass(frozen=True)
class LedgerEntry:
    """``units`` (signed) of ``asset`` (``COLLATERAL`` or a token id) to ``address``."""

    address: str
    asset: str
    units: int


@dataclass
class TradeRecord:
    """One taker execution and its settlement state."""

    trade_id: str
    taker_order_id: str
    taker_user: str
    owner: str
    maker_address: str
    market: str
    asset_id: str
    side: str
    size: Decimal
    limit_price: Decimal  # the taker order's limit: the row's top-level ``price`` (as live)
    price: Decimal  # volume-weighted over the fills, in the taker's token terms (not served)
    notional: Decimal  # pUSD the taker paid (BUY) or received (SELL) before the fee
    fee: Decimal
    fee_rate_bps: str
    outcome: str
    match_time: float
    transaction_hash: str
    maker_orders: list[MakerFill]
    ledger: list[LedgerEntry]
    ghost: bool  # decided at match time: this fill will revert on chain
    status: str = TRADE_MATCHED
    last_update: float = 0.0
    forced: bool = False  # a control call set the status; the clock no longer moves it
    reverted: bool = False

    def involves(self, user: str) -> bool:
        """Whether ``user`` is the taker or owns one of the maker orders."""
        return self.taker_user == user or any(m.user == user for m in self.maker_orders)

    def as_json(self, viewer: str) -> dict[str, Any]:
        """The live ``/data/trades`` row, with ``trader_side`` as ``viewer`` sees it."""
        return {
            "id": self.trade_id,
            "taker_order_id": self.taker_order_id,
            "market": self.market,
            "asset_id": self.asset_id,
            "side": self.side,
            "size": decimal_text(self.size),
            "fee_rate_bps": self.fee_rate_bps,
            "price": decimal_text(self.limit_price),
            "status": self.status,
            "match_time": str(int(self.match_time)),
            "last_update": str(int(self.last_update or self.match_time)),
            "outcome": self.outcome,
            "bucket_index": 0,
            "owner": self.owner,
            "maker_address": self.maker_address,
            "transaction_hash": self.transaction_hash,
            "trader_side": "TAKER" if self.taker_user == viewer else "MAKER",
            "maker_orders": [m.as_json() for m in self.maker_orders],
        }


def due_trade_status(
    trade: TradeRecord, now: float, mined_after: float, confirmed_after: float
) -> str:
    """The status the venue clock says ``trade`` has reached by ``now``."""
    if trade.forced or trade.status in TERMINAL_TRADE:
        return trade.status
    age = now - trade.match_time
    if age >= confirmed_after:
        return TRADE_FAILED if trade.ghost else TRADE_CONFIRMED
    if age >= mined_after:
        return TRADE_RETRYING if trade.ghost else TRADE_MINED
    return TRADE_MATCHED


class HeartbeatRejected(Exception):
    """A heartbeat carried an id other than the latest one; ``expected`` is that id."""

    def __init__(self, expected: str) -> None:
        super().__init__("Invalid Heartbeat ID")
        self.expected = expected


@dataclass
class _Session:
    expected_id: str
    last_seen: float


class HeartbeatBook:
    """Per-user heartbeat chains: once started, silence past the timeout cancels orders."""

    def __init__(self) -> None:
        self.sessions: dict[str, _Session] = {}
        self._counter = 0

    def beat(self, user: str, heartbeat_id: str, now: float) -> str:
        """Accept a heartbeat; return the id the next one must carry."""
        session = self.sessions.get(user)
        if session is not None and heartbeat_id != session.expected_id:
            raise HeartbeatRejected(session.expected_id)
        if session is None and heartbeat_id:
            # An unknown chain (never started or already timed out) restarts from "".
            raise HeartbeatRejected("")
        self._counter += 1
        next_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"pm-sim-heartbeat:{user}:{self._counter}"))
        self.sessions[user] = _Session(expected_id=next_id, last_seen=now)
        return next_id

    def expired(self, now: float, timeout: float) -> list[str]:
        """Users whose chain went silent for more than ``timeout``; their chains end."""
        gone = [u for u, s in self.sessions.items() if now - s.last_seen > timeout]
        for user in gone:
            del self.sessions[user]
        return gone
