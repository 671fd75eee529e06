"""Market leases: one run at a time trades a market, and only on a portfolio that saw the last.

Why: intent keys carry the run id (``intent_key_for``), so two runs that overlap (two workers,
a CLI scan next to a scheduled one) hold different keys for the same opportunity and would both
place it; each run's risk gate read the portfolio before the other's fills existed.

The rule, per (mode, market) where a market is a leg's condition id: a run may trade a market
when nobody holds its lease, when it already holds it, when the holder released it before this
run's portfolio snapshot (so the snapshot includes the holder's orders and fills; less
``CLOCK_SKEW_ALLOWANCE`` for workers on different machines), or when the holder's lease has
expired (``LEASE_TTL``: a worker killed mid-execution never releases; reconcile, every 5
minutes, finds what it left). An opportunity's markets are acquired together in one
transaction with ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` (atomic on SQLite and PostgreSQL)
or not at all: ``acquire_markets`` raises ``MarketLeased`` naming the holder, and the caller's
``session_scope`` rolls the others back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from pm_lib.store.dialect import conflict_insert
from pm_lib.store.errors import StoreError
from pm_lib.store.rows import Mode
from pm_lib.store.tables import MarketLeaseRecord

__all__ = [
    "CLOCK_SKEW_ALLOWANCE",
    "LEASE_TTL",
    "MarketLeaseRecord",
    "MarketLeaseRow",
    "MarketLeased",
    "acquire_markets",
    "market_leases",
    "release_markets",
]

LEASE_TTL = timedelta(minutes=10)
"""How long an unreleased lease holds: twice the execute task's 300 s timeout."""

CLOCK_SKEW_ALLOWANCE = timedelta(seconds=5)
"""A release counts as seen by a snapshot only when it is at least this much older."""


_LEASE = MarketLeaseRecord.__table__  # type: ignore[attr-defined]
_HOLDER_COLUMNS = ("run_id", "opportunity_id", "acquired_at", "released_at", "expires_at")


class MarketLeaseRow(BaseModel):
    """One stored lease."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Mode
    market: str
    run_id: str
    opportunity_id: str
    acquired_at: datetime
    released_at: datetime | None
    expires_at: datetime


class MarketLeased(StoreError):
    """Another run holds a market, or released it after this run read its portfolio."""

    def __init__(self, market: str, holder: MarketLeaseRow | None) -> None:
        if holder is None:
            text = f"market {market} is being leased by another run"
        else:
            state = (
                f"released at {holder.released_at.isoformat()}, after this run's snapshot"
                if holder.released_at is not None
                else f"held until {holder.expires_at.isoformat()}"
            )
            text = (
                f"market {market} is leased to run {holder.run_id} "
                f"(opportunity {holder.opportunity_id}, {state}): not traded twice"
            )
        super().__init__(text)
        self.market = market
        self.holder = holder


def _row(record: Any) -> MarketLeaseRow:
    return MarketLeaseRow.model_validate(record, from_attributes=True)


def _lease(session: Session, mode: Mode, market: str) -> MarketLeaseRow | None:
    record = session.execute(
        select(_LEASE).where(_LEASE.c.mode == mode, _LEASE.c.market == market)
    ).one_or_none()
    return None if record is None else _row(record)


def acquire_markets(
    session: Session,
    *,
    mode: Mode,
    markets: Iterable[str],
    run_id: str,
    opportunity_id: str,
    snapshot_at: datetime,
    now: datetime,
    ttl: timedelta = LEASE_TTL,
) -> list[MarketLeaseRow]:
    """Lease every market of one opportunity to ``run_id`` (module docstring), or raise.

    ``snapshot_at`` is when the run read its portfolio (its start is a safe, earlier bound).
    Raises ``MarketLeased`` for the first market it cannot take; call it in a session of its
    own so that the markets already taken roll back with it.
    """
    seen_before = snapshot_at - CLOCK_SKEW_ALLOWANCE
    taken: list[MarketLeaseRow] = []
    for market in sorted(set(markets)):  # one order everywhere: no deadlock between workers
        insert = conflict_insert(session, _LEASE).values(
            mode=mode,
            market=market,
            run_id=run_id,
            opportunity_id=opportunity_id,
            acquired_at=now,
            released_at=None,
            expires_at=now + ttl,
        )
        free = or_(
            _LEASE.c.run_id == insert.excluded.run_id,
            and_(_LEASE.c.released_at.is_not(None), _LEASE.c.released_at <= seen_before),
            _LEASE.c.expires_at <= now,
        )
        record = session.execute(
            insert.on_conflict_do_update(
                index_elements=["mode", "market"],
                set_={c: insert.excluded[c] for c in _HOLDER_COLUMNS},
                where=free,
            ).returning(*_LEASE.c)
        ).one_or_none()
        if record is None:
            raise MarketLeased(market, _lease(session, mode, market))
        taken.append(_row(record))
    return taken


def release_markets(
    session: Session, *, mode: Mode, markets: Iterable[str], run_id: str, at: datetime
) -> int:
    """Mark ``run_id``'s leases of ``markets`` released at ``at``; how many it held."""
    result = session.execute(
        update(_LEASE)
        .where(
            _LEASE.c.mode == mode,
            _LEASE.c.market.in_(sorted(set(markets))),
            _LEASE.c.run_id == run_id,
        )
        .values(released_at=at)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def market_leases(session: Session, mode: Mode) -> list[MarketLeaseRow]:
    """Every lease of ``mode``, by market."""
    query = select(_LEASE).where(_LEASE.c.mode == mode).order_by(_LEASE.c.market)
    return [_row(record) for record in session.execute(query)]
