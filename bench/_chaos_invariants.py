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
  process reads it from the DB) placed a BUY, or a run that started after the daily-loss
  breaker tripped (``daily_loss_breaker``) that UTC day placed one;
- ``cash``: the DB's pUSD (start + ledger) less resting BUY notional is negative, or the wallet's;
- ``open_orders``: more orders resting (every run's) than ``max_open_orders``;
- ``fill_mismatch`` (issue 16): a venue order whose DB filled size differs from the size of its
  trades that did not fail (as taker, or as maker in ``maker_orders``);
- ``halt``: more than the one order already in flight reached the venue after the halt was
  committed, other than unwinds;
- ``leg_risk``: a basket (a run's opportunity with more than one leg) left with some legs holding
  shares and others not, with no leg-risk row or one still ``open``; or reconcile clean while
  any such basket still holds shares;
- ``whole_set``: a traded neg-risk basket that is not the venue's whole outcome set;
- ``credentials``: a run with a control character in a credential was not refused at load
  (naming the variable) or sent an order;
- ``secret``: a spelling of a secret in a log, a worker's output, the DB or a file.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
from _chaos_faults import VenueControl
from sqlalchemy import JSON, Engine, String, Text, inspect, text

from pm_lib.models import OrderBook, OrderStatus, Side
from pm_lib.portfolio import cost_basis, read_portfolio, replay
from pm_lib.redaction import spellings
from pm_lib.settings import Settings
from pm_lib.store import fills, intents_by_status, load_catalogue, session_scope
from pm_lib.store.control import is_unwind_key
from pm_lib.store.leg_risk import basket_intents, leg_risks_for_run
from pm_lib.store.rows import OrderIntentRow
from pm_lib.store.signals import opportunities_for_run
from pm_lib.venue.books import fetch_books
from pm_lib.venue.wire import normalise_order_status

__all__ = [
    "HARNESS_PREFIX",
    "Violation",
    "check_cycle",
    "check_halt",
    "check_refusal",
    "check_secrets",
    "daily_loss",
    "intents",
]

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


def _traded(order_id: str, trades: list[dict[str, object]]) -> Decimal:
    """What the venue's trades that did not fail filled of one order (taker or maker side)."""
    total = Decimal(0)
    for trade in trades:
        if str(trade["status"]).endswith("FAILED"):  # TRADE_STATUS_FAILED
            continue
        if trade["taker_order_id"] == order_id:
            total += Decimal(str(trade["size"]))
        for maker in trade.get("maker_orders", []) or []:  # type: ignore[attr-defined]
            if maker["order_id"] == order_id:
                total += Decimal(str(maker["matched_amount"]))
    return total


def _fill_truth(
    rows: list[OrderIntentRow], orders: list[dict[str, object]], trades: list[dict[str, object]]
) -> list[Violation]:
    by_id = {r.venue_order_id: r for r in rows if r.venue_order_id}
    out = []
    for order in orders:
        row = by_id.get(str(order["id"]))
        if row is None:
            continue
        venue = _traded(str(order["id"]), trades)
        if row.filled_size != venue:
            out.append(
                Violation(
                    "fill_mismatch",
                    f"{row.intent_key} ({row.status}): DB filled {row.filled_size}, "
                    f"venue trades {venue}",
                )
            )
    return out


def _cash_and_open_orders(
    engine: Engine, settings: Settings, wallet: dict[str, object], start_pusd: Decimal
) -> list[Violation]:
    with session_scope(engine, read_only=True) as session:
        ledger = replay(fills(session, "live"))
        resting = [
            r
            for r in intents_by_status(session, [OrderStatus.LIVE], "live")
            if not r.intent_key.startswith(HARNESS_PREFIX)
        ]
    out = []
    reserved = sum(
        ((r.size - r.filled_size) * r.price for r in resting if r.side is Side.BUY), Decimal(0)
    )
    cash = start_pusd + ledger.cash_delta - reserved
    if cash < 0 or Decimal(str(wallet["pusd"])) < 0:
        out.append(Violation("cash", f"DB cash after resting BUYs {cash}, wallet {wallet['pusd']}"))
    if len(resting) > settings.max_open_orders:
        out.append(Violation("open_orders", f"{len(resting)} resting > {settings.max_open_orders}"))
    return out


def _breaker_table(engine: Engine, rows: list[OrderIntentRow]) -> list[Violation]:
    """No BUY by a run that started after the breaker tripped, that UTC day."""
    with session_scope(engine, read_only=True) as db:
        trips = db.execute(
            text("SELECT day, tripped_at FROM daily_loss_breaker WHERE mode = 'live'")
        ).all()
        started = {i: at for i, at in db.execute(text("SELECT id, started_at FROM run")).all()}
    out = []
    for day, tripped_at in trips:
        tripped = _utc(tripped_at)
        for r in rows:
            at = started.get(r.run_id)
            if at is None or r.side is not Side.BUY or is_unwind_key(r.intent_key):
                continue
            at = _utc(at)
            if at > tripped and at.date().isoformat() == str(day):
                out.append(
                    Violation(
                        "breaker",
                        f"{r.intent_key}: BUY by a run started {at} after "
                        f"the breaker tripped {tripped}",
                    )
                )
    return out


def _utc(value: object) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def check_halt(
    rows: list[OrderIntentRow], created: dict[str, float], halted_at: float
) -> list[Violation]:
    """Orders (by venue creation time) after the halt commit: unwinds only, bar the one order
    whose halt check had passed and which was already on its way."""
    keys = {r.venue_order_id: r.intent_key for r in rows if r.venue_order_id}
    late = sorted(
        (at, order_id)
        for order_id, at in created.items()
        if at > halted_at and not is_unwind_key(keys.get(order_id, ""))
    )
    if len(late) <= 1:
        return []
    return [
        Violation(
            "halt",
            f"{len(late)} orders after the halt: "
            + ", ".join(f"{keys.get(o, o)} +{at - halted_at:.3f}s" for at, o in late[:4]),
        )
    ]


def _leg_risk(engine: Engine, run_ids: set[str], clean: bool | None) -> list[Violation]:
    """Every basket complete, flat, or handled by a leg-risk row; reconcile not clean while
    one still holds shares unhedged."""
    out = []
    with session_scope(engine, read_only=True) as session:
        for run_id in sorted(run_ids):
            planned = {o.id: len(o.legs) for o in opportunities_for_run(session, run_id)}
            rows = [
                r
                for r in basket_intents(session, run_id=run_id)
                if not r.intent_key.startswith(HARNESS_PREFIX)
            ]
            risks = leg_risks_for_run(session, run_id)
            for opportunity_id, count in planned.items():
                if count < 2:
                    continue
                legs = {r.leg_index: r for r in rows if r.opportunity_id == opportunity_id}
                unwound = {
                    r.leg_index: r.filled_size
                    for r in rows
                    if r.opportunity_id == f"{opportunity_id}:unwind"
                }
                if not legs:
                    continue
                filled = [legs[i].filled_size if i in legs else Decimal(0) for i in range(count)]
                whole = all(i in legs and legs[i].filled_size == legs[i].size for i in range(count))
                if whole or not any(filled):
                    continue
                held = [filled[i] - unwound.get(i, Decimal(0)) for i in range(count)]
                mine = [r for r in risks if r.opportunity_id == opportunity_id]
                what = f"basket {run_id}:{opportunity_id} filled {filled} held {held}"
                if not mine or any(r.status == "open" for r in mine):
                    out.append(
                        Violation("leg_risk", f"{what}: leg risk {[r.status for r in mine]}")
                    )
                unhedged = any(held) and not all(r.status == "closed" for r in mine)
                if unhedged and clean:
                    out.append(Violation("leg_risk", f"{what}: reconcile reported clean"))
    return out


def _whole_sets(
    engine: Engine, run_ids: set[str], event_sets: dict[str, frozenset[str]]
) -> list[Violation]:
    """Every neg-risk basket that sent an order covers its event's whole outcome set."""
    out = []
    with session_scope(engine, read_only=True) as session:
        for run_id in sorted(run_ids):
            sent = {
                r.opportunity_id for r in basket_intents(session, run_id=run_id) if r.venue_order_id
            }
            for o in opportunities_for_run(session, run_id):
                if o.strategy != "negrisk_arbitrage" or o.id not in sent:
                    continue
                legs = frozenset(g.condition_id for g in o.legs)
                whole = next((s for s in event_sets.values() if legs & s), frozenset())
                if legs != whole:
                    out.append(
                        Violation(
                            "whole_set",
                            f"{run_id}:{o.id} bought {len(legs)} legs of an event of "
                            f"{len(whole)} ({sorted(whole - legs)[:2]} missing)",
                        )
                    )
    return out


def check_refusal(name: str, outcome: dict[str, object]) -> list[Violation]:
    """A run whose credential ``name`` holds a control character refused at load, naming the
    variable, and sent nothing (``venue_orders``: orders the venue received meanwhile)."""
    if name in str(outcome.get("error", "")) and not outcome.get("venue_orders"):
        return []
    shown = {k: v for k, v in outcome.items() if k not in ("files", "created")}
    return [Violation("credentials", f"{name}: not refused at load: {shown}")]


def check_secrets(secrets: list[str], files: list[Path], engine: Engine) -> list[Violation]:
    """Every spelling of every secret, in each file (as bytes) and every text column of the DB."""
    forms = {s.lower() for secret in secrets for s in spellings(secret)}
    out = [
        Violation("secret", f"{name}: {count} spellings, e.g. {example!r}")
        for name, count, example in _search_files(forms, files)
    ]
    found = _db_text(engine, forms)
    out += [Violation("secret", f"DB {where}") for where in found]
    return out


_SEARCH = """
import json, sys
forms = json.loads(sys.stdin.read())
for name in sys.argv[1:]:
    with open(name, "rb") as f:
        data = f.read().lower()
    hits = [x for x in forms if x.encode() in data]
    if hits:
        print(json.dumps([name, len(hits), hits[0]]))
"""


def _search_files(forms: set[str], files: list[Path]) -> list[tuple[str, int, str]]:
    """Files holding a spelling: (name, how many spellings, one of them). Searched in another
    process: opening and closing a SQLite file in this one would drop the locks its engines
    hold on it (POSIX locks are per process), and so corrupt it."""
    names = [str(p) for p in files if p.is_file()]
    if not names:
        return []
    done = subprocess.run(
        [sys.executable, "-c", _SEARCH, *names],
        input=json.dumps(sorted(forms)),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [tuple(json.loads(line)) for line in done.stdout.splitlines()]


def _db_text(engine: Engine, forms: set[str]) -> list[str]:
    found = []
    inspector = inspect(engine)
    columns_of = {
        table: [
            c["name"]
            for c in inspector.get_columns(table)
            if isinstance(c["type"], (String, Text, JSON)) or "CHAR" in str(c["type"])
        ]
        for table in inspector.get_table_names()
    }
    with session_scope(engine, read_only=True) as db:
        for table, columns in columns_of.items():
            for column in columns:
                values = db.execute(
                    text(f'SELECT CAST("{column}" AS TEXT) FROM "{table}"')
                ).scalars()
                for value in values:
                    lowered = str(value).lower() if value is not None else ""
                    if any(f in lowered for f in forms):
                        found.append(f"{table}.{column}")
                        break
    return found


def check_cycle(
    engine: Engine,
    settings: Settings,
    control: VenueControl,
    address: str,
    start_pusd: Decimal,
    *,
    new_keys: set[str],
    breaker_tripped: bool,
    clean: bool | None = None,
    event_sets: dict[str, frozenset[str]] | None = None,
) -> list[Violation]:
    """Every invariant of the module docstring, after the cycle's reconcile.

    ``clean``: whether the cycle's last reconcile reported no discrepancy (None: unknown);
    ``event_sets``: the venue's neg-risk events, each as its whole set of condition ids.
    """
    rows = intents(engine)
    new = [
        r for r in rows if r.intent_key in new_keys and not r.intent_key.startswith(HARNESS_PREFIX)
    ]
    venue_orders = control.orders(address)
    wallet = control.wallet(address)
    out = _orders(rows, venue_orders)
    out += _fill_truth(rows, venue_orders, control.trades(address))
    out += _positions(engine, wallet, start_pusd)
    out += _risk(engine, settings, new)
    out += _cash_and_open_orders(engine, settings, wallet, start_pusd)
    out += _breaker_table(engine, new)
    runs = {r.run_id for r in new}
    out += _leg_risk(engine, runs, clean)
    out += _whole_sets(engine, runs, event_sets or {})
    if breaker_tripped:
        out += [
            Violation("breaker", f"{r.intent_key}: BUY after the daily-loss limit was reached")
            for r in new
            if r.side is Side.BUY
        ]
    return out
