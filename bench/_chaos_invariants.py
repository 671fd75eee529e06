"""What must hold after every chaos cycle (after its reconcile), checked against the venue.

Kinds of violation:

- ``duplicate_order``: a venue order the DB does not know, with the token, side, price and size
  of an intent that already has another venue order (the intent was signed or sent twice);
- ``unknown_order``: any other venue order the DB does not know after reconcile;
- ``unresolved_intent``: an intent still PENDING, SIGNED or UNKNOWN after reconcile;
- ``status_mismatch``: an intent LIVE in the DB but not resting at the venue, or the reverse;
- ``position_mismatch``: shares per token, or pUSD, in the DB ledger differ from the wallet's;
- ``risk_limit``: an order above ``max_order_notional``, or cost basis above the per-market,
  per-group or total limit;
- ``breaker``: a run that started with today's loss at ``max_daily_loss`` (as a restarted
  process reads it from the DB) placed a BUY.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import httpx
from _chaos_faults import VenueControl
from sqlalchemy import Engine

from pm_lib.models import OrderBook, OrderStatus, Side
from pm_lib.portfolio import cost_basis, read_portfolio, replay
from pm_lib.settings import Settings
from pm_lib.store import fills, intents_by_status, load_catalogue, session_scope
from pm_lib.store.rows import OrderIntentRow
from pm_lib.venue.books import fetch_books
from pm_lib.venue.wire import normalise_order_status

__all__ = ["HARNESS_PREFIX", "Violation", "check_cycle", "daily_loss", "intents"]

HARNESS_PREFIX = "chaos:"
"""Intent keys of orders the harness places itself (the resting GTC of heartbeat cycles)."""

MICRO = Decimal(1_000_000)


@dataclass(frozen=True)
class Violation:
    """One broken invariant."""

    kind: str
    detail: str


def intents(engine: Engine) -> list[OrderIntentRow]:
    """Every live intent, oldest first."""
    with session_scope(engine, read_only=True) as session:
        return intents_by_status(session, list(OrderStatus), "live")


def daily_loss(engine: Engine, settings: Settings, now: datetime) -> Decimal:
    """Today's loss as a freshly started run computes it: DB state, positions marked at bids
    (``pm_lib.portfolio``, the gate's own figure)."""
    with session_scope(engine, read_only=True) as session:
        catalogue = load_catalogue(session)
        tokens = list(replay(fills(session, "live")).positions)

    async def books() -> dict[str, OrderBook]:
        async with httpx.AsyncClient(timeout=10) as client:
            batch = await fetch_books(client, settings, tokens, now)
        return dict(batch.books)

    fetched = asyncio.run(books()) if tokens else {}
    with session_scope(engine, read_only=True) as session:
        portfolio = read_portfolio(
            session,
            "live",
            now,
            settings,
            books=fetched,
            markets=catalogue.market_by_condition() if catalogue is not None else None,
            events=catalogue.events if catalogue is not None else (),
        )
    return portfolio.today.loss


def _orders(rows: list[OrderIntentRow], venue_orders: list[dict[str, object]]) -> list[Violation]:
    by_id = {r.venue_order_id: r for r in rows if r.venue_order_id}
    shape: defaultdict[tuple[str, str, Decimal, Decimal], int] = defaultdict(int)
    for r in rows:
        if r.venue_order_id:
            shape[(r.token_id, r.side.value, r.price, r.size)] += 1
    out: list[Violation] = []
    for order in venue_orders:
        order_id = str(order["id"])
        key = (
            str(order["asset_id"]),
            str(order["side"]),
            Decimal(str(order["price"])),
            Decimal(str(order["original_size"])),
        )
        row = by_id.get(order_id)
        if row is None:
            kind = "duplicate_order" if shape.get(key) else "unknown_order"
            out.append(Violation(kind, f"venue order {order_id} {key} is not in the DB"))
            continue
        resting = normalise_order_status(str(order["status"])) is OrderStatus.LIVE
        if resting != (row.status is OrderStatus.LIVE):
            out.append(
                Violation("status_mismatch", f"{row.intent_key}: DB {row.status}, venue {order}")
            )
    venue_ids = {str(o["id"]) for o in venue_orders}
    for row in rows:
        if row.status in (OrderStatus.PENDING, OrderStatus.SIGNED, OrderStatus.UNKNOWN):
            out.append(Violation("unresolved_intent", f"{row.intent_key} is {row.status}"))
        elif row.status is OrderStatus.LIVE and row.venue_order_id not in venue_ids:
            out.append(Violation("status_mismatch", f"{row.intent_key} LIVE, unknown at venue"))
    return out


def _positions(engine: Engine, wallet: dict[str, object], start_pusd: Decimal) -> list[Violation]:
    with session_scope(engine, read_only=True) as session:
        ledger = replay(fills(session, "live"))
    held = {t: Decimal(str(u)) / MICRO for t, u in dict(wallet["positions"]).items()}  # type: ignore[call-overload]
    out: list[Violation] = []
    for token in sorted(set(held) | set(ledger.positions)):
        ours = ledger.positions[token].size if token in ledger.positions else Decimal(0)
        if ours != held.get(token, Decimal(0)):
            out.append(Violation("position_mismatch", f"token {token}: DB {ours}, venue {held}"))
    cash = Decimal(str(wallet["pusd"])) / MICRO
    if cash != start_pusd + ledger.cash_delta:
        out.append(
            Violation(
                "position_mismatch", f"pUSD: DB {start_pusd + ledger.cash_delta}, venue {cash}"
            )
        )
    return out


def _risk(engine: Engine, settings: Settings, new: list[OrderIntentRow]) -> list[Violation]:
    out: list[Violation] = []
    for row in new:
        notional = row.size * row.price
        if ":unwind:" not in row.intent_key and notional > settings.max_order_notional:
            out.append(Violation("risk_limit", f"{row.intent_key}: order notional {notional}"))
    with session_scope(engine, read_only=True) as session:
        positions = replay(fills(session, "live")).positions
        catalogue = load_catalogue(session)
        resting = intents_by_status(session, [OrderStatus.LIVE], "live")
    markets = catalogue.market_by_condition() if catalogue is not None else {}
    by_market: dict[str, Decimal] = defaultdict(Decimal)
    by_group: dict[str, Decimal] = defaultdict(Decimal)
    for p in positions.values():
        by_market[p.condition_id] += cost_basis(p)
        market = markets.get(p.condition_id)
        if market is not None and market.group_id is not None:
            by_group[market.group_id] += cost_basis(p)
    checks = [
        *((f"market {m}", v, settings.max_position_per_market) for m, v in by_market.items()),
        *((f"group {g}", v, settings.max_position_per_group) for g, v in by_group.items()),
    ]
    total = sum(by_market.values(), Decimal(0)) + sum(
        ((r.size - r.filled_size) * r.price for r in resting if r.side is Side.BUY), Decimal(0)
    )
    checks.append(("total exposure", total, settings.max_total_exposure))
    out += [Violation("risk_limit", f"{what}: {v} > {lim}") for what, v, lim in checks if v > lim]
    return out


def check_cycle(
    engine: Engine,
    settings: Settings,
    control: VenueControl,
    address: str,
    start_pusd: Decimal,
    *,
    new_keys: set[str],
    breaker_tripped: bool,
) -> list[Violation]:
    """Every invariant of the module docstring, after the cycle's reconcile."""
    rows = intents(engine)
    new = [
        r for r in rows if r.intent_key in new_keys and not r.intent_key.startswith(HARNESS_PREFIX)
    ]
    out = _orders(rows, control.orders(address))
    out += _positions(engine, control.wallet(address), start_pusd)
    out += _risk(engine, settings, new)
    if breaker_tripped:
        out += [
            Violation("breaker", f"{r.intent_key}: BUY after the daily-loss limit was reached")
            for r in new
            if r.side is Side.BUY
        ]
    return out
