"""Order, trade, balance and cancel answers of the CLOB, decoded for the executors.

Venue quirks (docs/VENUE.md 2.4, 6.3):
- order statuses come as ``live``, ``LIVE``, ``ORDER_STATUS_LIVE``, ``canceled``/``cancelled``
  and more; trade statuses as ``TRADE_STATUS_MATCHED`` (REST) or ``MATCHED`` (websocket);
- ``original_size``/``size_matched`` are documented as 1e6 fixed-math integers but shown and
  parsed by the official SDK as decimal share strings; both are accepted (``SizeUnits``);
- POST /order ``makingAmount``/``takingAmount`` are decimal strings in units, or ``""``;
- balances and allowances are integer base units (pUSD and shares have 6 decimals).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from pm_lib.errors import BadVenueData
from pm_lib.models import ZERO, Fill, OrderStatus, OrderType, Side, TradeStatus
from pm_lib.venue.wire_fields import WireObject, to_decimal

__all__ = [
    "CancelResult",
    "PostOrderAck",
    "SizeUnits",
    "VenueOrder",
    "normalise_order_status",
    "normalise_trade_status",
    "parse_balance_allowance",
    "parse_cancel_response",
    "parse_open_order",
    "parse_post_order_response",
    "parse_trade",
]

_ONE: Final = Decimal(1)


class _WireModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _status_word(raw: object, prefix: str, kind: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadVenueData(kind, repr(raw), "status should be a non-empty string")
    word = raw.strip().upper()
    return word.removeprefix(prefix)


def normalise_order_status(raw: object) -> OrderStatus:
    """Map every venue spelling of an order status to ``OrderStatus``; unknown -> BadVenueData.

    ``delayed`` (held in a sports/taker delay window) and ``unmatched`` (placed on the book after
    the delay without a match) are accepted, not final orders, so both read as LIVE: keep
    polling. ``SYSTEM_CLEARED`` and ``CANCELED_MARKET_RESOLVED`` are venue-side cancels.
    """
    word = _status_word(raw, "ORDER_STATUS_", "order status")
    match word:
        case "LIVE" | "OPEN" | "DELAYED" | "UNMATCHED":
            return OrderStatus.LIVE
        case "MATCHED" | "FILLED":
            return OrderStatus.MATCHED
        case (
            "CANCELED"
            | "CANCELLED"
            | "CANCELED_MARKET_RESOLVED"
            | "CANCELLED_MARKET_RESOLVED"
            | "SYSTEM_CLEARED"
        ):
            return OrderStatus.CANCELED
        case "INVALID" | "REJECTED":
            return OrderStatus.REJECTED
        case "EXPIRED":
            return OrderStatus.EXPIRED
    raise BadVenueData("order status", str(raw), "unknown order status")


def normalise_trade_status(raw: object) -> TradeStatus:
    """Map ``TRADE_STATUS_*`` (REST) and plain (websocket) trade statuses to ``TradeStatus``."""
    word = _status_word(raw, "TRADE_STATUS_", "trade status")
    try:
        return TradeStatus(word)
    except ValueError:
        raise BadVenueData("trade status", str(raw), "unknown trade status") from None


def _side(wire: WireObject, key: str = "side") -> Side:
    value = wire.text(key).upper()
    if value not in (Side.BUY, Side.SELL):
        raise wire.bad(f"field {key!r} should be BUY or SELL, got {value!r}")
    return Side(value)


def _price(wire: WireObject, key: str) -> Decimal:
    price = wire.decimal(key)
    if not ZERO < price < _ONE:
        raise wire.bad(f"field {key!r}: price {price} outside (0, 1)")
    return price


def _strings(wire: WireObject, key: str) -> tuple[str, ...]:
    values = wire.objects(key)
    if not all(isinstance(v, str) for v in values):
        raise wire.bad(f"field {key!r} should be a list of strings")
    return tuple(values)


class PostOrderAck(_WireModel):
    """The venue's answer to POST /order (one entry of POST /orders)."""

    success: bool
    error_msg: str = ""
    order_id: str | None = None
    status: OrderStatus | None = None
    making_amount: Decimal | None = None
    taking_amount: Decimal | None = None
    transaction_hashes: tuple[str, ...] = ()
    trade_ids: tuple[str, ...] = ()


def parse_post_order_response(obj: object) -> PostOrderAck:
    """Decode ``{"success","errorMsg","orderID","status","makingAmount","takingAmount",...}``.

    Empty strings (``orderID``, ``status`` and amounts on a failed post) read as ``None``.
    """
    wire = WireObject(obj, "order ack", ("orderID",))
    status = wire.optional_text("status")
    return PostOrderAck(
        success=wire.flag("success"),
        error_msg=wire.text("errorMsg", default=""),
        order_id=wire.optional_text("orderID"),
        status=None if status is None else normalise_order_status(status),
        making_amount=wire.optional_decimal("makingAmount"),
        taking_amount=wire.optional_decimal("takingAmount"),
        transaction_hashes=_strings(wire, "transactionsHashes"),
        trade_ids=_strings(wire, "tradeIDs"),
    )


class SizeUnits(StrEnum):
    """How an order's ``original_size``/``size_matched`` are written."""

    AUTO = "auto"
    SHARES = "shares"
    MICRO = "micro"  # 1e6 fixed-math integers, as the OpenAPI page says


# In AUTO, an integer original_size at or above this is read as micro-shares: the venue minimum
# is 5 shares (5,000,000 micro-shares), while our own orders stay far below a million shares.
_MICRO_THRESHOLD: Final = Decimal(1_000_000)
_MICRO: Final = Decimal("0.000001")


def _has_fraction_text(value: object) -> bool:
    return isinstance(value, str) and ("." in value or "e" in value.lower())


def _order_sizes(wire: WireObject, units: SizeUnits) -> tuple[Decimal, Decimal]:
    original = wire.decimal("original_size")
    matched = wire.decimal("size_matched", default=ZERO)
    if units is SizeUnits.AUTO:
        raw_original = wire.fields.get("original_size")
        raw_matched = wire.fields.get("size_matched")
        looks_micro = (
            original == original.to_integral_value()
            and original >= _MICRO_THRESHOLD
            and not _has_fraction_text(raw_original)
            and not _has_fraction_text(raw_matched)
        )
        units = SizeUnits.MICRO if looks_micro else SizeUnits.SHARES
    if units is SizeUnits.MICRO:
        original, matched = original * _MICRO, matched * _MICRO
    if original <= ZERO:
        raise wire.bad(f"original_size {original} is not positive")
    if not ZERO <= matched <= original:
        raise wire.bad(f"size_matched {matched} outside [0, original_size {original}]")
    return original, matched


class VenueOrder(_WireModel):
    """One order as the venue reports it (GET /data/order/{id}, GET /data/orders rows)."""

    order_id: str
    status: OrderStatus
    side: Side
    token_id: str
    condition_id: str
    price: Decimal
    original_size: Decimal
    size_matched: Decimal
    order_type: OrderType | None = None
    created_at: datetime | None = None
    trade_ids: tuple[str, ...] = ()

    @property
    def remaining(self) -> Decimal:
        """Shares still resting (or that were cancelled unfilled)."""
        return self.original_size - self.size_matched


def parse_open_order(obj: object, units: SizeUnits = SizeUnits.AUTO) -> VenueOrder:
    """Decode an order object; sizes may be decimal share strings or 1e6 integers (``units``)."""
    wire = WireObject(obj, "order", ("id",))
    original, matched = _order_sizes(wire, units)
    raw_type = wire.optional_text("order_type")
    if raw_type is not None and raw_type.upper() not in OrderType.__members__:
        raise wire.bad(f"unknown order_type {raw_type!r}")
    created = None
    if wire.fields.get("created_at") not in (None, "", 0):
        created = wire.epoch_datetime("created_at", millis=False)
    return VenueOrder(
        order_id=wire.text("id"),
        status=normalise_order_status(wire.raw("status")),
        side=_side(wire),
        token_id=wire.token_id("asset_id"),
        condition_id=wire.text("market"),
        price=_price(wire, "price"),
        original_size=original,
        size_matched=matched,
        order_type=None if raw_type is None else OrderType(raw_type.upper()),
        created_at=created,
        trade_ids=_strings(wire, "associate_trades"),
    )


def _is_ours(entry: Mapping[str, Any], owner: str | None, addresses: frozenset[str]) -> bool:
    if owner is not None and entry.get("owner") == owner:
        return True
    address = entry.get("maker_address")
    return isinstance(address, str) and address.lower() in addresses


_PRICE_PLACES: Final = Decimal("0.000001")  # pUSD's precision; the store keeps 6 places


def _taker_fill_price(wire: WireObject, taker_token: str, size: Decimal) -> Decimal:
    """The taker's volume-weighted execution price, in its own token, from ``maker_orders``.

    The row's top-level ``price`` is the taker order's limit (docs' Trade object), not what it
    paid; each maker entry holds its own fill price in the maker's token (the complementary
    token of a mint or merge trades at ``1 - price``). Rounded half-up to 6 places.
    """
    makers = [wire.nested(entry) for entry in wire.objects("maker_orders")]
    if not makers:
        raise wire.bad("taker trade without maker_orders: its execution price is unknown")
    matched = cost = ZERO
    for maker in makers:
        amount = maker.decimal("matched_amount")
        if amount <= ZERO:
            raise wire.bad(f"maker_orders matched_amount {amount} is not positive")
        price = _price(maker, "price")
        own = price if maker.token_id("asset_id") == taker_token else _ONE - price
        matched += amount
        cost += amount * own
    if matched != size:
        raise wire.bad(f"maker_orders match {matched} shares but the trade's size is {size}")
    return (cost / matched).quantize(_PRICE_PLACES, rounding=ROUND_HALF_UP)


def _trader_side(wire: WireObject) -> str | None:
    raw = wire.fields.get("trader_side")
    if raw in (None, ""):
        return None
    side = str(raw).strip().upper()
    if side not in ("TAKER", "MAKER"):
        raise wire.bad(f"field 'trader_side' should be TAKER or MAKER, got {raw!r}")
    return side


def parse_trade(
    obj: object, *, owner: str | None = None, addresses: Iterable[str] = ()
) -> list[Fill]:
    """Our side of one GET /data/trades row, as fills (empty when the row is not ours).

    ``trader_side`` (TAKER/MAKER) says which side of the row is ours: as taker our fill is the
    row's own order, priced from its ``maker_orders`` (the top-level ``price`` is only the
    taker's limit); as maker our fills are our own ``maker_orders`` entries at their prices.
    Without ``trader_side`` we may be the taker (the row's own ``owner``/``maker_address``)
    and/or the maker of some entries; ``owner`` is our API key, ``addresses`` our maker/funder
    addresses. A maker entry without ``side`` gets it derived: same token as the taker means the
    opposite side; the complementary token (a mint or merge match) means the same side. Fees are
    left at zero: the taker fee follows from the market's fee schedule (``book_math``), makers
    pay none.
    """
    ours = frozenset(a.lower() for a in addresses)
    if owner is None and not ours:
        raise ValueError("parse_trade needs our API key (owner) or our addresses")
    wire = WireObject(obj, "trade", ("id",))
    trade_id = wire.text("id")
    status = normalise_trade_status(wire.raw("status"))
    matched_at = wire.epoch_datetime("match_time", millis=False)
    condition_id = wire.text("market")
    taker_side = _side(wire)
    taker_token = wire.token_id("asset_id")
    trader_side = _trader_side(wire)
    fills: list[Fill] = []
    is_taker = trader_side == "TAKER" if trader_side else _is_ours(wire.fields, owner, ours)
    if is_taker:
        size = wire.decimal("size")
        fills.append(
            Fill(
                trade_id=trade_id,
                order_id=wire.text("taker_order_id"),
                token_id=taker_token,
                condition_id=condition_id,
                side=taker_side,
                size=size,
                price=_taker_fill_price(wire, taker_token, size),
                status=status,
                is_taker=True,
                matched_at=matched_at,
            )
        )
    for entry in wire.objects("maker_orders") if trader_side != "TAKER" else ():
        maker = wire.nested(entry)
        if not _is_ours(maker.fields, owner, ours):
            continue
        token = maker.token_id("asset_id")
        if maker.fields.get("side") is not None:
            side = _side(maker)
        else:
            side = taker_side.opposite if token == taker_token else taker_side
        fills.append(
            Fill(
                trade_id=trade_id,
                order_id=maker.text("order_id"),
                token_id=token,
                condition_id=condition_id,
                side=side,
                size=maker.decimal("matched_amount"),
                price=_price(maker, "price"),
                status=status,
                is_taker=False,
                matched_at=matched_at,
            )
        )
    for fill in fills:
        if fill.size <= ZERO:
            raise wire.bad(f"fill size {fill.size} of order {fill.order_id} is not positive")
    return fills


def _base_units(wire: WireObject, value: object, what: str) -> Decimal:
    try:
        units = to_decimal(value)
    except ValueError as e:
        raise wire.bad(f"{what}: {e}") from None
    if units < ZERO or units != units.to_integral_value():
        raise wire.bad(f"{what} should be a non-negative integer of base units, got {value!r}")
    # Built from text, so even a max-uint256 allowance stays exact (no context rounding).
    return Decimal(f"{int(units)}E-6")


def parse_balance_allowance(obj: object) -> tuple[Decimal, dict[str, Decimal]]:
    """Decode GET /balance-allowance: ``(balance, {spender: allowance})`` in units (base / 1e6)."""
    wire = WireObject(obj, "balance", ())
    balance = _base_units(wire, wire.raw("balance"), "balance")
    raw_allowances = wire.fields.get("allowances") or {}
    if not isinstance(raw_allowances, Mapping):
        raise wire.bad("field 'allowances' should be an object")
    allowances = {
        str(spender): _base_units(wire, amount, f"allowance of {spender}")
        for spender, amount in raw_allowances.items()
    }
    return balance, allowances


class CancelResult(_WireModel):
    """The venue's answer to DELETE /order, /orders, /cancel-all, /cancel-market-orders."""

    canceled: tuple[str, ...] = ()
    not_canceled: dict[str, str] = {}


def parse_cancel_response(obj: object) -> CancelResult:
    """Decode ``{"canceled": [ids], "not_canceled": {id: reason}}`` (either may be null)."""
    wire = WireObject(obj, "cancel", ())
    not_canceled = wire.fields.get("not_canceled") or {}
    if not isinstance(not_canceled, Mapping):
        raise wire.bad("field 'not_canceled' should be an object")
    return CancelResult(
        canceled=_strings(wire, "canceled"),
        not_canceled={str(k): str(v) for k, v in not_canceled.items()},
    )
