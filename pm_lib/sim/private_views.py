"""Read-side views of the exchange for the private routes: filters, cursor pages, balances.

Cursor paging is the live one (docs/VENUE.md 3.5): ``next_cursor`` is base64 of a row offset,
``MA==`` (``"0"``) starts and ``LTE=`` (``"-1"``) means there is no further page. Callers hold
the venue lock.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from pm_lib.sim.accounts import COLLATERAL, SPENDERS, ApiKey
from pm_lib.sim.exchange import Exchange
from pm_lib.sim.lifecycle import OrderRecord, TradeRecord

__all__ = [
    "END_CURSOR",
    "START_CURSOR",
    "PageError",
    "balance_allowance",
    "open_orders",
    "page",
    "trades_for",
]

START_CURSOR = "MA=="
END_CURSOR = "LTE="


class PageError(ValueError):
    """A query parameter the venue cannot read."""


def _cursor_offset(cursor: str) -> int:
    try:
        offset = int(base64.b64decode(cursor, validate=True).decode())
    except (ValueError, binascii.Error):
        raise PageError(f"invalid next_cursor: {cursor}") from None
    if offset < 0:
        raise PageError(f"invalid next_cursor: {cursor}")
    return offset


def page(rows: list[dict[str, Any]], params: Mapping[str, str], limit: int) -> dict[str, Any]:
    """The page of ``rows`` at ``params['next_cursor']``: ``{limit, next_cursor, count, data}``."""
    cursor = params.get("next_cursor") or START_CURSOR
    if cursor == END_CURSOR:
        return {"limit": limit, "next_cursor": END_CURSOR, "count": 0, "data": []}
    offset = _cursor_offset(cursor)
    chunk = rows[offset : offset + limit]
    end = offset + limit
    next_cursor = base64.b64encode(str(end).encode()).decode() if end < len(rows) else END_CURSOR
    return {"limit": limit, "next_cursor": next_cursor, "count": len(chunk), "data": chunk}


def open_orders(exchange: Exchange, user: str, params: Mapping[str, str]) -> list[OrderRecord]:
    """``user``'s live orders, oldest first, filtered by ``id``/``market``/``asset_id``."""
    wanted = user.lower()
    rows = [r for r in exchange.open_orders.values() if r.user == wanted]
    for name, attr in (("id", "order_id"), ("market", "market"), ("asset_id", "asset_id")):
        value = params.get(name)
        if value:
            rows = [r for r in rows if getattr(r, attr) == value]
    return sorted(rows, key=lambda r: r.created_at)


def _int_param(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise PageError(f"invalid {name}: {raw}") from None


def trades_for(exchange: Exchange, user: str, params: Mapping[str, str]) -> list[TradeRecord]:
    """Trades ``user`` took part in, newest first, with the live ``/data/trades`` filters."""
    rows = [t for t in exchange.trades.values() if t.involves(user)]
    if params.get("id"):
        rows = [t for t in rows if t.trade_id == params["id"]]
    if params.get("market"):
        rows = [t for t in rows if t.market == params["market"]]
    if params.get("asset_id"):
        asset = params["asset_id"]
        rows = [
            t
            for t in rows
            if t.asset_id == asset or any(m.asset_id == asset for m in t.maker_orders)
        ]
    if params.get("maker_address"):
        addr = params["maker_address"].lower()
        rows = [
            t
            for t in rows
            if t.maker_address.lower() == addr
            or any(m.maker_address.lower() == addr for m in t.maker_orders)
        ]
    before, after = _int_param(params, "before"), _int_param(params, "after")
    if before is not None:
        rows = [t for t in rows if t.match_time < before]
    if after is not None:
        rows = [t for t in rows if t.match_time > after]
    return sorted(rows, key=lambda t: t.match_time, reverse=True)


def balance_allowance(exchange: Exchange, key: ApiKey, params: Mapping[str, str]) -> dict[str, Any]:
    """``{"balance": "<units>", "allowances": {spender: "<units>"}}`` of the funding wallet.

    ``signature_type`` picks the wallet (0: the key's EOA; 1-3: the configured funder wallet).
    """
    asset_type = (params.get("asset_type") or COLLATERAL).upper()
    signature_type = _int_param(params, "signature_type")
    sig = 0 if signature_type is None or signature_type < 0 else signature_type
    wallet = exchange.accounts.wallet(exchange.funding_address(key.address, sig))
    if asset_type == COLLATERAL:
        asset = COLLATERAL
    elif asset_type == "CONDITIONAL":
        token = params.get("token_id")
        if not token:
            raise PageError("token_id is required for asset_type CONDITIONAL")
        asset = token
    else:
        raise PageError(f"invalid asset_type: {asset_type}")
    return {
        "balance": str(wallet.balance_of(asset)),
        "allowances": {s: str(wallet.allowance_for(asset, s)) for s in SPENDERS},
    }
