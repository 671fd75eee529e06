"""Budget reservations: what each run's approved opportunities hold of one wallet's limits.

Why: each run's risk gate reads the portfolio once; two runs that overlap (two workers, a CLI
scan next to a scheduled one) trading different markets both pass the exposure, cash,
open-order and daily-loss rules against the same snapshot, and together breach them. Market
leases (``pm_lib.store.leases``) only cover markets the runs share.

The protocol, per wallet (one per mode: the ledger's account):

1. ``lock_budget`` takes the wallet's ``budget_lock`` row for the rest of the transaction
   (PostgreSQL: ``SELECT ... FOR UPDATE``, READ COMMITTED so every later statement sees what
   others committed; SQLite: the session's ``BEGIN IMMEDIATE`` already holds the file's write
   lock). Runs reserving for the same wallet queue here; nothing else does.
2. Inside the lock the caller re-reads the committed portfolio and ``outstanding`` reservations
   and re-checks the budget rules; then ``reserve`` inserts this opportunity's claim.
3. Once the opportunity's orders are stored (fills in the ledger, resting orders open,
   rejections nothing) the committed state carries them and ``release`` ends the claim,
   recording the outcome. A claim is released only after what its orders became is committed,
   so at any moment a placed order counts at least once (twice at worst, which only refuses).
4. A run killed mid-execution never releases: its claims stop counting at ``expires_at``
   (``RESERVATION_TTL``) when reconcile has had its turn at the orders.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pm_lib.store.dialect import conflict_insert
from pm_lib.store.errors import StoreError
from pm_lib.store.rows import Mode
from pm_lib.store.tables import BudgetLock, BudgetReservationRecord, FillRecord

__all__ = [
    "RESERVATION_TTL",
    "BudgetExhausted",
    "BudgetReservationRow",
    "buys_stored_since",
    "lock_budget",
    "outstanding",
    "release",
    "reserve",
]

RESERVATION_TTL = timedelta(minutes=10)
"""How long an unreleased claim counts: the market lease's TTL (twice the execute timeout)."""

_LOCK = BudgetLock.__table__  # type: ignore[attr-defined]
_FILL = FillRecord.__table__  # type: ignore[attr-defined]
_RESERVATION = BudgetReservationRecord.__table__  # type: ignore[attr-defined]


class BudgetReservationRow(BaseModel):
    """One stored claim on a wallet's budget."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    mode: Mode
    run_id: str
    opportunity_id: str
    exposure: Decimal
    fees: Decimal
    open_orders: int
    by_market: dict[str, Decimal]
    by_group: dict[str, Decimal]
    created_at: datetime
    expires_at: datetime
    released_at: datetime | None
    outcome: str | None


class BudgetExhausted(StoreError):
    """The wallet's committed state plus other runs' claims leave no room for this one."""

    def __init__(self, opportunity_id: str, rule: str, reason: str) -> None:
        super().__init__(f"opportunity {opportunity_id} no longer fits ({rule}): {reason}")
        self.opportunity_id = opportunity_id
        self.rule = rule


def _row(record: Any) -> BudgetReservationRow:
    return BudgetReservationRow.model_validate(record, from_attributes=True)


def lock_budget(session: Session, mode: Mode, now: datetime) -> None:
    """Hold the wallet's budget lock until ``session`` commits or rolls back (module doc)."""
    insert = conflict_insert(session, _LOCK).values(mode=mode, locked_at=now)
    session.execute(insert.on_conflict_do_nothing(index_elements=["mode"]))
    session.execute(select(_LOCK.c.mode).where(_LOCK.c.mode == mode).with_for_update()).one()
    session.execute(update(_LOCK).where(_LOCK.c.mode == mode).values(locked_at=now))


def outstanding(session: Session, mode: Mode, now: datetime) -> list[BudgetReservationRow]:
    """Every claim of ``mode`` that still counts at ``now`` (not released, not expired)."""
    query = (
        select(_RESERVATION)
        .where(
            _RESERVATION.c.mode == mode,
            _RESERVATION.c.released_at.is_(None),
            _RESERVATION.c.expires_at > now,
        )
        .order_by(_RESERVATION.c.id)
    )
    return [_row(record) for record in session.execute(query)]


def reserve(
    session: Session,
    *,
    mode: Mode,
    run_id: str,
    opportunity_id: str,
    exposure: Decimal,
    fees: Decimal,
    open_orders: int,
    by_market: Mapping[str, Decimal],
    by_group: Mapping[str, Decimal],
    now: datetime,
    ttl: timedelta = RESERVATION_TTL,
) -> BudgetReservationRow:
    """Store one claim; call it inside ``lock_budget``, after the re-check passed."""
    record = session.execute(
        _RESERVATION.insert()
        .values(
            mode=mode,
            run_id=run_id,
            opportunity_id=opportunity_id,
            exposure=exposure,
            fees=fees,
            open_orders=open_orders,
            by_market={k: str(v) for k, v in by_market.items()},
            by_group={k: str(v) for k, v in by_group.items()},
            created_at=now,
            expires_at=now + ttl,
        )
        .returning(*_RESERVATION.c)
    ).one()
    return _row(record)


def release(
    session: Session, *, mode: Mode, run_id: str, opportunity_id: str, outcome: str, at: datetime
) -> int:
    """End ``run_id``'s claim for ``opportunity_id`` (its orders are stored); how many ended."""
    result = session.execute(
        update(_RESERVATION)
        .where(
            _RESERVATION.c.mode == mode,
            _RESERVATION.c.run_id == run_id,
            _RESERVATION.c.opportunity_id == opportunity_id,
            _RESERVATION.c.released_at.is_(None),
        )
        .values(released_at=at, outcome=outcome)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def buys_stored_since(session: Session, mode: Mode, since: datetime) -> Decimal:
    """pUSD (notional + fees) of ``mode``'s BUY fills stored or updated after ``since`` (a
    balance the venue reported at ``since`` does not show them yet).

    FAILED fills are left out; a fill whose status changed after ``since`` counts again, which
    can only make the cash figure lower.
    """
    rows = session.execute(
        select(_FILL.c.size, _FILL.c.price, _FILL.c.fee).where(
            _FILL.c.mode == mode,
            _FILL.c.side == "BUY",
            _FILL.c.status != "FAILED",
            _FILL.c.updated_at > since,
        )
    )
    return sum((size * price + fee for size, price, fee in rows), Decimal(0))
