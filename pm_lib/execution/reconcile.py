"""Reconcile the DB with the venue: what filled, what rests, what the wallet holds.

One pass, in this order:

1. trades since the last sync cursor (less an overlap) are fetched and stored, and stored
   provisional fills are re-read (so CONFIRMED and FAILED arrive); fills of orders we have no
   intent for are adopted (stored with no intent key) and listed;
2. every open intent is looked up by its order hash (``Executor.resolve``): UNKNOWN and SIGNED
   intents get their real outcome (or REJECTED once the venue has clearly not heard of them for
   a minute), LIVE ones that the venue cancelled (heartbeat expiry, market resolved) become
   CANCELED; a lookup whose answer cannot be read changes nothing and is a discrepancy;
3. intents whose fills changed (a ghost fill gone FAILED) get their filled size, average price
   and fee re-derived from the fills that did not fail; baskets are reviewed
   (``pm_lib.execution.leg_review``): a basket left lopsided (a run killed half-way, a leg's
   fill reverted) gets its leg risk rebuilt and ``PM_UNWIND_POLICY`` applied (with
   ``settings``; without, it is held), and every incomplete basket is a discrepancy;
4. the venue's open orders that no intent owns are listed;
5. shares held per token at the venue are compared with the ledger's positions;
6. the pUSD balance is read (live: stored in ``account_balance`` for readers of the account).

The report is frozen; ``discrepancies`` says in words what did not match.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine

from pm_lib.errors import BadVenueData, VenueError
from pm_lib.execution.base import Executor
from pm_lib.execution.leg_review import refresh_filled, review_baskets
from pm_lib.models import OrderStatus
from pm_lib.settings import Settings
from pm_lib.store import get_cursor, intent_by_order_id, open_intents, session_scope, set_cursor
from pm_lib.store.account import record_balance

__all__ = ["SYNC_OVERLAP", "IntentChange", "ReconcileReport", "reconcile", "trades_cursor_key"]

SYNC_OVERLAP = timedelta(minutes=5)
"""Trades are re-read this far behind the cursor (storing them again is a no-op)."""


def trades_cursor_key(mode: str) -> str:
    """The sync cursor of the trades of one mode."""
    return f"trades:{mode}"


class IntentChange(BaseModel):
    """One intent whose status reconcile changed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intent_key: str
    before: OrderStatus
    after: OrderStatus
    note: str = ""


class ReconcileReport(BaseModel):
    """What one reconcile pass found and did."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: str
    checked_at: datetime
    fills_seen: int
    adopted_fills: tuple[str, ...] = ()
    changes: tuple[IntentChange, ...] = ()
    still_open: tuple[str, ...] = ()
    leg_risks: tuple[str, ...] = ()
    venue_orders_without_intent: tuple[str, ...] = ()
    position_mismatches: dict[str, tuple[Decimal, Decimal]] = {}
    balance: Decimal
    discrepancies: tuple[str, ...] = ()

    @property
    def canceled_at_venue(self) -> tuple[str, ...]:
        """Intents the venue cancelled (reconcile marked them CANCELED)."""
        return tuple(c.intent_key for c in self.changes if c.after is OrderStatus.CANCELED)

    @property
    def clean(self) -> bool:
        """True when the DB and the venue agree on everything checked."""
        return not self.discrepancies


def reconcile(
    executor: Executor,
    engine: Engine,
    *,
    clock: Callable[[], datetime] | None = None,
    overlap: timedelta = SYNC_OVERLAP,
    settings: Settings | None = None,
) -> ReconcileReport:
    """One reconcile pass of ``executor``'s account (module docstring); ``settings`` give the
    unwind policy for lopsided baskets."""
    now = (clock or (lambda: datetime.now(UTC)))()
    mode = executor.mode
    with session_scope(engine) as session:
        cursor = get_cursor(session, trades_cursor_key(mode))
    since = datetime.fromisoformat(cursor) - overlap if cursor else None
    seen = executor.sync_fills(since)
    with session_scope(engine) as session:
        adopted = tuple(
            dict.fromkeys(
                f.trade_id for f in seen if intent_by_order_id(session, f.order_id) is None
            )
        )
        before = open_intents(session, mode)
    changes: list[IntentChange] = []
    lookups_failed: list[str] = []
    for row in before:
        try:
            result = executor.resolve(row.intent_key)
        except (VenueError, BadVenueData) as e:  # unreadable is not a "no": left as it was
            lookups_failed.append(
                f"intent {row.intent_key}: the venue's answer was unreadable or missing, "
                f"kept {row.status}: {e}"
            )
            continue
        if result.status is not row.status:
            changes.append(
                IntentChange(
                    intent_key=row.intent_key,
                    before=row.status,
                    after=result.status,
                    note=result.error or "",
                )
            )
    with session_scope(engine) as session:
        for fill in seen:
            touched = intent_by_order_id(session, fill.order_id)
            if touched is not None:
                refresh_filled(session, touched)
    baskets = review_baskets(executor, engine, settings=settings, now=now)
    with session_scope(engine) as session:
        after = open_intents(session, mode)
    unresolved = [r.intent_key for r in after if r.status is not OrderStatus.LIVE]
    stray = tuple(o.order_id for o in executor.open_orders() if o.intent_key is None)
    positions = executor.positions()
    tokens = set(positions) | {f.token_id for f in seen}
    held = executor.holdings(sorted(tokens))
    mismatches = {
        token: (positions[token].size if token in positions else Decimal(0), held[token])
        for token in sorted(tokens)
        if (positions[token].size if token in positions else Decimal(0)) != held[token]
    }
    balance = executor.balance()
    with session_scope(engine) as session:
        set_cursor(session, trades_cursor_key(mode), now.isoformat(), at=now)
        if mode == "live":  # the paper balance is the ledger's; only the venue's is stored
            record_balance(session, mode, balance, now)
    discrepancies = [
        *(f"fill {t} belongs to no intent (adopted)" for t in adopted),
        *(f"venue order {o} has no intent" for o in stray),
        *(
            f"token {t}: ledger holds {db}, venue holds {venue}"
            for t, (db, venue) in mismatches.items()
        ),
        *(f"intent {k} is still unresolved" for k in unresolved),
        *lookups_failed,
        *baskets.discrepancies,
    ]
    return ReconcileReport(
        mode=mode,
        checked_at=now,
        fills_seen=len(seen),
        adopted_fills=adopted,
        changes=tuple(changes),
        still_open=tuple(r.intent_key for r in after),
        leg_risks=tuple(f"{r.intent_key}: {r.status} ({r.detail})" for r in baskets.leg_risks),
        venue_orders_without_intent=stray,
        position_mismatches=mismatches,
        balance=balance,
        discrepancies=tuple(discrepancies),
    )
