"""Leg risks (a basket left lopsided) and sync cursors (where an incremental sync got to)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pm_lib.store.dialect import conflict_insert
from pm_lib.store.rows import LegRiskRow, LegRiskStatus, OrderIntentRow
from pm_lib.store.tables import LegRiskRecord, OrderIntentRecord, SyncCursor

__all__ = [
    "basket_intents",
    "get_cursor",
    "leg_risks_for_run",
    "leg_risks_to_review",
    "open_leg_risks",
    "record_leg_risk",
    "resolve_leg_risk",
    "set_cursor",
]

_LEG_RISK = LegRiskRecord.__table__  # type: ignore[attr-defined]
_CURSOR = SyncCursor.__table__  # type: ignore[attr-defined]
_INTENT = OrderIntentRecord.__table__  # type: ignore[attr-defined]


def _row(record: Any) -> LegRiskRow:
    return LegRiskRow.model_validate(record, from_attributes=True)


def record_leg_risk(
    session: Session,
    *,
    run_id: str,
    opportunity_id: str,
    intent_key: str,
    policy: str,
    detail: str,
    created_at: datetime,
    status: LegRiskStatus = "open",
    flow_run_id: str | None = None,
) -> LegRiskRow:
    """Record that the leg ``intent_key`` filled while its basket did not (``policy`` is the
    unwind policy applied, e.g. ``sell_back`` or ``hold``)."""
    record = session.execute(
        _LEG_RISK.insert()
        .values(
            run_id=run_id,
            opportunity_id=opportunity_id,
            intent_key=intent_key,
            policy=policy,
            status=status,
            detail=detail,
            created_at=created_at,
            resolved_at=None if status == "open" else created_at,
            flow_run_id=flow_run_id,
        )
        .returning(*_LEG_RISK.c)
    ).one()
    return _row(record)


def resolve_leg_risk(
    session: Session,
    leg_risk_id: int,
    *,
    status: LegRiskStatus,
    detail: str,
    resolved_at: datetime,
) -> LegRiskRow:
    """Close a leg risk as ``unwound``, ``held``, ``complete`` or (an operator took it over)
    ``closed``, with what was done."""
    if status == "open":
        raise ValueError("resolve a leg risk as 'unwound' or 'held', not 'open'")
    record = session.execute(
        update(_LEG_RISK)
        .where(_LEG_RISK.c.id == leg_risk_id)
        .values(status=status, detail=detail, resolved_at=resolved_at)
        .returning(*_LEG_RISK.c)
    ).one_or_none()
    if record is None:
        raise LookupError(f"no leg risk {leg_risk_id}")
    return _row(record)


def open_leg_risks(session: Session) -> list[LegRiskRow]:
    """Leg risks still ``open``, oldest first."""
    query = select(_LEG_RISK).where(_LEG_RISK.c.status == "open").order_by(_LEG_RISK.c.id)
    return [_row(record) for record in session.execute(query)]


def leg_risks_for_run(session: Session, run_id: str) -> list[LegRiskRow]:
    """A run's leg risks, oldest first."""
    query = select(_LEG_RISK).where(_LEG_RISK.c.run_id == run_id).order_by(_LEG_RISK.c.id)
    return [_row(record) for record in session.execute(query)]


def leg_risks_to_review(session: Session, *, run_id: str | None = None) -> list[LegRiskRow]:
    """Leg risks still ``open`` or ``held`` (of one run, if given), oldest first."""
    query = select(_LEG_RISK).where(_LEG_RISK.c.status.in_(("open", "held")))
    if run_id is not None:
        query = query.where(_LEG_RISK.c.run_id == run_id)
    return [_row(record) for record in session.execute(query.order_by(_LEG_RISK.c.id))]


def basket_intents(
    session: Session,
    *,
    mode: str | None = None,
    since: datetime | None = None,
    run_id: str | None = None,
    opportunity_id: str | None = None,
) -> list[OrderIntentRow]:
    """Intents whose legs make baskets: of one mode created since ``since``, or of one run's
    opportunity; oldest first."""
    query = select(_INTENT).order_by(_INTENT.c.id)
    if mode is not None:
        query = query.where(_INTENT.c.mode == mode)
    if since is not None:
        query = query.where(_INTENT.c.created_at >= since)
    if run_id is not None:
        query = query.where(_INTENT.c.run_id == run_id)
    if opportunity_id is not None:
        query = query.where(_INTENT.c.opportunity_id == opportunity_id)
    return [OrderIntentRow.model_validate(r, from_attributes=True) for r in session.execute(query)]


def get_cursor(session: Session, key: str) -> str | None:
    """The stored position of sync ``key``, or ``None`` before its first run."""
    value: str | None = session.execute(
        select(_CURSOR.c.value).where(_CURSOR.c.key == key)
    ).scalar_one_or_none()
    return value


def set_cursor(session: Session, key: str, value: str, *, at: datetime | None = None) -> None:
    """Store the position of sync ``key`` (insert or replace)."""
    insert = conflict_insert(session, _CURSOR).values(
        key=key, value=value, updated_at=at or datetime.now(UTC)
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        )
    )
