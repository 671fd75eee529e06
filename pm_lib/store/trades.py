"""Fills (our trades): one row per ``(trade_id, venue_order_id)``, settling forward only.

A trade's status only moves forward: MATCHED -> MINED -> CONFIRMED (RETRYING sits beside MINED
while the chain transaction is retried), and any status may become FAILED (the trade was
reverted on chain and must be undone in positions and P&L). Stale reports (a MINED after a
CONFIRMED) are ignored, so the executor and reconcile may both report the same trade in any
order. FAILED fills are kept and returned: callers that value positions must skip them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pm_lib.models import Fill, TradeStatus
from pm_lib.store.dialect import conflict_insert
from pm_lib.store.rows import Mode
from pm_lib.store.tables import FillRecord

__all__ = [
    "fills",
    "fills_for_day",
    "fills_for_intent",
    "fills_kept",
    "forget_kept_fills",
    "trade_status_advances",
    "upsert_fill",
]

_FILL = FillRecord.__table__  # type: ignore[attr-defined]

_SETTLEMENT = {
    TradeStatus.MATCHED: 0,
    TradeStatus.MINED: 1,
    TradeStatus.RETRYING: 1,
    TradeStatus.CONFIRMED: 2,
    TradeStatus.FAILED: 3,
}


def trade_status_advances(current: TradeStatus, reported: TradeStatus) -> bool:
    """Whether ``reported`` is news for a fill stored as ``current`` (forward moves only)."""
    if reported is current or current is TradeStatus.FAILED:
        return False
    if reported is TradeStatus.FAILED:
        return True
    if current is TradeStatus.CONFIRMED:
        return False
    return _SETTLEMENT[reported] >= _SETTLEMENT[current]


_KEPT: ContextVar[dict[str, list[Fill]] | None] = ContextVar("pm_kept_fills", default=None)


@contextmanager
def fills_kept() -> Iterator[None]:
    """Inside this block a mode's whole ledger (``fills(session, mode)``) is read from the store
    once and kept until this process writes a fill (``upsert_fill``) or a transaction rolls
    back (``session_scope``), instead of being read again for every account read and every
    paper order. Only for a store no other process writes meanwhile (a backtest's: the replay
    is its one writer); the kept list is what a read would return."""
    token = _KEPT.set({})
    try:
        yield
    finally:
        _KEPT.reset(token)


def forget_kept_fills() -> None:
    """Drop the kept ledgers (a fill was written or a transaction rolled back)."""
    kept = _KEPT.get()
    if kept:
        kept.clear()


def upsert_fill(
    session: Session,
    fill: Fill,
    *,
    mode: Mode,
    intent_key: str | None = None,
    run_id: str | None = None,
    flow_run_id: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Store ``fill`` or advance its stored status; returns whether anything changed.

    Idempotent on ``(trade_id, order_id)``. A stored fill without an intent key adopts
    ``intent_key`` when one is given.
    """
    forget_kept_fills()
    now = at or datetime.now(UTC)
    inserted = session.execute(
        conflict_insert(session, _FILL)
        .values(
            trade_id=fill.trade_id,
            venue_order_id=fill.order_id,
            intent_key=intent_key,
            mode=mode,
            token_id=fill.token_id,
            condition_id=fill.condition_id,
            side=fill.side.value,
            size=fill.size,
            price=fill.price,
            fee=fill.fee,
            status=fill.status.value,
            is_taker=fill.is_taker,
            matched_at=fill.matched_at,
            updated_at=now,
            run_id=run_id,
            flow_run_id=flow_run_id,
        )
        .on_conflict_do_nothing(index_elements=["trade_id", "venue_order_id"])
        .returning(_FILL.c.id)
    ).one_or_none()
    if inserted is not None:
        return True
    key = (_FILL.c.trade_id == fill.trade_id, _FILL.c.venue_order_id == fill.order_id)
    stored = session.execute(
        select(_FILL.c.status, _FILL.c.intent_key).where(*key).with_for_update()
    ).one()
    changes: dict[str, Any] = {}
    if trade_status_advances(TradeStatus(stored.status), fill.status):
        changes.update(status=fill.status.value, fee=fill.fee)
    if intent_key is not None and stored.intent_key is None:
        changes["intent_key"] = intent_key
    if not changes:
        return False
    session.execute(update(_FILL).where(*key).values(updated_at=now, **changes))
    return True


def _fill(record: Any) -> Fill:
    return Fill(
        trade_id=record.trade_id,
        order_id=record.venue_order_id,
        token_id=record.token_id,
        condition_id=record.condition_id,
        side=record.side,
        size=record.size,
        price=record.price,
        fee=record.fee,
        status=record.status,
        is_taker=record.is_taker,
        matched_at=record.matched_at,
    )


def fills(session: Session, mode: Mode, since: datetime | None = None) -> list[Fill]:
    """Fills of ``mode`` matched at or after ``since`` (all when ``None``), oldest first
    (inside ``fills_kept``, all of them are read once and kept)."""
    kept = _KEPT.get() if since is None else None
    if kept is not None and mode in kept:
        return list(kept[mode])
    query = select(_FILL).where(_FILL.c.mode == mode).order_by(_FILL.c.matched_at, _FILL.c.id)
    if since is not None:
        query = query.where(_FILL.c.matched_at >= since)
    found = [_fill(record) for record in session.execute(query)]
    if kept is not None:
        kept[mode] = found
        return list(found)
    return found


def fills_for_day(session: Session, mode: Mode, day_utc: date) -> list[Fill]:
    """Fills of ``mode`` matched during the UTC calendar day ``day_utc``."""
    start = datetime.combine(day_utc, time(0), tzinfo=UTC)
    query = (
        select(_FILL)
        .where(
            _FILL.c.mode == mode,
            _FILL.c.matched_at >= start,
            _FILL.c.matched_at < start + timedelta(days=1),
        )
        .order_by(_FILL.c.matched_at, _FILL.c.id)
    )
    return [_fill(record) for record in session.execute(query)]


def fills_for_intent(session: Session, intent_key: str) -> list[Fill]:
    """The fills attributed to one order intent, oldest first."""
    query = (
        select(_FILL)
        .where(_FILL.c.intent_key == intent_key)
        .order_by(_FILL.c.matched_at, _FILL.c.id)
    )
    return [_fill(record) for record in session.execute(query)]
