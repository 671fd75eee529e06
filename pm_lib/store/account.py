"""The account's valuation records: last trusted marks, daily-loss breaker trips, live balance.

- ``position_mark``: per (mode, token) the last mark taken from a fresh book, so a position whose
  book vanished (a closed market answers 404) keeps its last executable value instead of falling
  back to cost (``pm_lib.portfolio``).
- ``daily_loss_breaker``: the UTC days on which the daily-loss breaker tripped; a trip holds
  until the day ends, whatever happens to the marks, a restart included.
- ``account_balance``: the last pUSD balance the venue reported (reconcile writes it; reading a
  balance from the venue never writes).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from pm_lib.store.dialect import conflict_insert
from pm_lib.store.rows import Mode
from pm_lib.store.tables import AccountBalanceRecord, DailyLossBreakerRecord, PositionMarkRecord

__all__ = [
    "BreakerTrip",
    "PositionMark",
    "breaker_trip",
    "position_marks",
    "record_balance",
    "save_position_marks",
    "stored_balance",
    "trip_breaker",
]

_MARK = PositionMarkRecord.__table__  # type: ignore[attr-defined]
_BREAKER = DailyLossBreakerRecord.__table__  # type: ignore[attr-defined]
_BALANCE = AccountBalanceRecord.__table__  # type: ignore[attr-defined]


class PositionMark(BaseModel):
    """``size`` shares of ``token_id`` were worth ``value`` pUSD (sold into the bids, after the
    taker fee) at ``marked_at``."""

    model_config = ConfigDict(frozen=True)

    token_id: str
    condition_id: str
    size: Decimal
    value: Decimal
    marked_at: datetime


class BreakerTrip(BaseModel):
    """The daily-loss breaker tripped on ``day`` (UTC) at ``tripped_at``: loss against limit."""

    model_config = ConfigDict(frozen=True)

    day: date
    tripped_at: datetime
    loss: Decimal
    limit: Decimal
    run_id: str | None = None


def save_position_marks(session: Session, mode: Mode, marks: Iterable[PositionMark]) -> None:
    """Store each mark as its token's last trusted mark (insert or replace, one statement)."""
    rows = [{"mode": mode, **mark.model_dump()} for mark in marks]
    if not rows:
        return
    insert = conflict_insert(session, _MARK)
    replaced = ("condition_id", "size", "value", "marked_at")
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["mode", "token_id"],
            set_={c: insert.excluded[c] for c in replaced},
        ),
        rows,
    )


def position_marks(session: Session, mode: Mode) -> dict[str, PositionMark]:
    """The last trusted mark of every token ``mode`` ever held, by token id."""
    rows = session.execute(select(_MARK).where(_MARK.c.mode == mode)).all()
    return {
        r.token_id: PositionMark(
            token_id=r.token_id,
            condition_id=r.condition_id,
            size=r.size,
            value=r.value,
            marked_at=r.marked_at,
        )
        for r in rows
    }


def breaker_trip(session: Session, mode: Mode, day: date) -> BreakerTrip | None:
    """The breaker's trip on ``day`` (UTC), or ``None`` when it has not tripped that day."""
    row = session.execute(
        select(_BREAKER).where(_BREAKER.c.mode == mode, _BREAKER.c.day == day.isoformat())
    ).one_or_none()
    if row is None:
        return None
    return BreakerTrip(
        day=date.fromisoformat(row.day),
        tripped_at=row.tripped_at,
        loss=row.loss,
        limit=row.limit,
        run_id=row.run_id,
    )


def trip_breaker(session: Session, mode: Mode, trip: BreakerTrip) -> BreakerTrip:
    """Record the trip unless the breaker already tripped that day; the day's first trip."""
    insert = conflict_insert(session, _BREAKER).values(
        mode=mode,
        day=trip.day.isoformat(),
        tripped_at=trip.tripped_at,
        loss=trip.loss,
        limit=trip.limit,
        run_id=trip.run_id,
    )
    session.execute(insert.on_conflict_do_nothing(index_elements=["mode", "day"]))
    stored = breaker_trip(session, mode, trip.day)
    assert stored is not None
    return stored


def record_balance(session: Session, mode: Mode, balance: Decimal, at: datetime) -> None:
    """Store the pUSD balance the venue reported at ``at`` (insert or replace)."""
    insert = conflict_insert(session, _BALANCE).values(mode=mode, balance=balance, read_at=at)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["mode"],
            set_={"balance": insert.excluded.balance, "read_at": insert.excluded.read_at},
        )
    )


def stored_balance(session: Session, mode: Mode) -> tuple[Decimal, datetime] | None:
    """The last stored balance and when it was read, or ``None`` before the first."""
    row = session.execute(
        select(_BALANCE.c.balance, _BALANCE.c.read_at).where(_BALANCE.c.mode == mode)
    ).one_or_none()
    return None if row is None else (row.balance, row.read_at)
