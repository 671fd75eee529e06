"""Settling a taker's fills: balance legs for every party, maker order updates, the trade record.

Each party settles in its own terms: a BUY pays ``price * size`` pUSD and receives ``size``
tokens, a SELL the reverse. Because a NO price is 1 - the YES price, this also covers minting
(BUY YES against BUY NO: the two payments add up to 1 pUSD per pair) and merging (SELL against
SELL). Only the taker pays the fee (docs/VENUE.md 4.4). Background liquidity (``owner is None``)
has no wallet; it is shown in ``maker_orders`` under a stable synthetic address and key.

Amounts are rounded half-up to the pUSD micro-unit per leg; the ledger of a trade is kept so a
ghost fill (a fill that reverts on chain) can be undone exactly.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from eth_utils.crypto import keccak

from pm_lib.sim.accounts import COLLATERAL, Accounts, to_units
from pm_lib.sim.lifecycle import (
    ORDER_MATCHED,
    LedgerEntry,
    MakerFill,
    OrderRecord,
    TradeRecord,
    decimal_text,
)
from pm_lib.sim.matching import PlannedFill
from pm_lib.sim.state import SimMarket

__all__ = ["MICRO", "Execution", "delayed_response", "post_response", "settle", "to_micro"]

MICRO = Decimal("0.000001")


def to_micro(amount: Decimal) -> int:
    """``amount`` pUSD or shares in base units, rounded half-up to the micro-unit."""
    return to_units(amount.quantize(MICRO, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Execution:
    """One taker order's fills, ready to settle."""

    taker: OrderRecord
    market: SimMarket
    is_yes: bool
    fills: list[PlannedFill]
    fee: Decimal
    exchange: str  # the spender whose allowances the transfers use
    now: float
    ghost: bool


def _leg(address: str, side: str, token: str, price: Decimal, size: Decimal) -> list[LedgerEntry]:
    pusd, shares = to_micro(price * size), to_micro(size)
    if side == "BUY":
        return [LedgerEntry(address, COLLATERAL, -pusd), LedgerEntry(address, token, shares)]
    return [LedgerEntry(address, token, -shares), LedgerEntry(address, COLLATERAL, pusd)]


def _background_fill(fill: PlannedFill, market: SimMarket, rate_bps: str) -> MakerFill:
    maker = fill.maker
    token = maker.token_id or market.yes_token
    digest = keccak(text=f"pm-sim-background:{maker.order_id}")
    return MakerFill(
        order_id=maker.order_id,
        owner=str(uuid.UUID(bytes=digest[:16])),
        user="",
        maker_address="0x" + digest[-20:].hex(),
        asset_id=token,
        side=maker.side or maker.yes_side,
        price=maker.price or fill.yes_price,
        matched_amount=fill.size,
        outcome=market.outcomes[0 if token == market.yes_token else 1],
        fee_rate_bps=rate_bps,
    )


def _user_fill(
    record: OrderRecord,
    fill: PlannedFill,
    trade_id: str,
    rate_bps: str,
    open_orders: dict[str, OrderRecord],
) -> MakerFill:
    record.size_matched += fill.size
    record.associate_trades.append(trade_id)
    if record.remaining <= 0:
        record.status = ORDER_MATCHED
        record.resting = None
        open_orders.pop(record.order_id, None)
    return MakerFill(
        order_id=record.order_id,
        owner=record.owner,
        user=record.user,
        maker_address=record.maker_address,
        asset_id=record.asset_id,
        side=record.side,
        price=record.price,
        matched_amount=fill.size,
        outcome=record.outcome,
        fee_rate_bps=rate_bps,
    )


def settle(
    execution: Execution,
    accounts: Accounts,
    orders: dict[str, OrderRecord],
    open_orders: dict[str, OrderRecord],
) -> TradeRecord:
    """Move balances for ``execution``, update the maker orders, return the new trade."""
    taker, market = execution.taker, execution.market
    trade_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"pm-sim-trade:{taker.order_id}"))
    rate_bps = str(int(market.fee_rate * 10_000)) if market.fees_enabled else "0"
    ledger: list[LedgerEntry] = []
    makers: list[MakerFill] = []
    cost = Decimal(0)
    for fill in execution.fills:
        price = fill.yes_price if execution.is_yes else 1 - fill.yes_price
        cost += price * fill.size
        ledger += _leg(taker.maker_address, taker.side, taker.asset_id, price, fill.size)
        record = orders.get(fill.maker.order_id) if fill.maker.owner is not None else None
        if record is None:
            makers.append(_background_fill(fill, market, rate_bps))
            continue
        ledger += _leg(record.maker_address, record.side, record.asset_id, record.price, fill.size)
        makers.append(_user_fill(record, fill, trade_id, rate_bps, open_orders))
    if execution.fee > 0:
        ledger.append(LedgerEntry(taker.maker_address, COLLATERAL, -to_micro(execution.fee)))
    for entry in ledger:
        wallet = accounts.wallet(entry.address)
        wallet.credit(entry.asset, entry.units)
        if entry.units < 0:
            wallet.spend_allowance(entry.asset, execution.exchange, -entry.units)
    size = sum((f.size for f in execution.fills), Decimal(0))
    taker.size_matched = size
    taker.associate_trades.append(trade_id)
    return TradeRecord(
        trade_id=trade_id,
        taker_order_id=taker.order_id,
        taker_user=taker.user,
        owner=taker.owner,
        maker_address=taker.maker_address,
        market=market.condition_id,
        asset_id=taker.asset_id,
        side=taker.side,
        size=size,
        limit_price=taker.price,
        price=(cost / size).quantize(MICRO, rounding=ROUND_HALF_UP),
        notional=cost,
        fee=execution.fee,
        fee_rate_bps=rate_bps,
        outcome=taker.outcome,
        match_time=execution.now,
        transaction_hash="0x" + keccak(text=trade_id).hex(),
        maker_orders=makers,
        ledger=ledger,
        ghost=execution.ghost,
        last_update=execution.now,
    )


def post_response(record: OrderRecord, trade: TradeRecord | None) -> dict[str, Any]:
    """The live POST /order answer: amounts in units as decimal strings, hashes when matched."""
    if trade is None:
        making = taking = ""
        status, hashes, trade_ids = "live", [], []
    else:
        pusd = decimal_text(trade.notional.quantize(MICRO, rounding=ROUND_HALF_UP))
        shares = decimal_text(trade.size)
        making, taking = (pusd, shares) if record.side == "BUY" else (shares, pusd)
        status, hashes, trade_ids = "matched", [trade.transaction_hash], [trade.trade_id]
    return {
        "success": True,
        "errorMsg": "",
        "orderID": record.order_id,
        "status": status,
        "makingAmount": making,
        "takingAmount": taking,
        "transactionsHashes": hashes,
        "tradeIDs": trade_ids,
    }


def delayed_response(record: OrderRecord) -> dict[str, Any]:
    """The POST /order answer for a marketable order held in a taker delay: nothing traded."""
    return {
        "success": True,
        "errorMsg": "",
        "orderID": record.order_id,
        "status": "delayed",
        "makingAmount": "",
        "takingAmount": "",
        "transactionsHashes": [],
        "tradeIDs": [],
    }
