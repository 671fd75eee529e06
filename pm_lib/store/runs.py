"""Runs: one row per flow run, opened by ``start_run`` and closed by ``finish_run``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pm_lib.store.dialect import conflict_insert
from pm_lib.store.errors import UnknownRun
from pm_lib.store.rows import Mode, RunRow, RunStatus
from pm_lib.store.tables import RunRecord

__all__ = ["finish_run", "get_run", "recent_runs", "start_run"]

_RUN = RunRecord.__table__  # type: ignore[attr-defined]


def _row(record: Any) -> RunRow:
    return RunRow.model_validate(record, from_attributes=True)


def start_run(
    session: Session,
    *,
    run_id: str,
    flow_name: str,
    mode: Mode,
    flow_run_id: str | None,
    started_at: datetime,
) -> RunRow:
    """Record that a run started (status ``running``). Idempotent: a retried start keeps the
    first row and returns it."""
    session.execute(
        conflict_insert(session, _RUN)
        .values(
            id=run_id,
            flow_run_id=flow_run_id,
            flow_name=flow_name,
            mode=mode,
            started_at=started_at,
            status="running",
            markets=0,
            books=0,
            opportunities=0,
            approved=0,
            orders=0,
            stage_timings={},
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    started = get_run(session, run_id)
    assert started is not None
    return started


def finish_run(
    session: Session,
    run_id: str,
    *,
    status: RunStatus,
    finished_at: datetime,
    markets: int | None = None,
    books: int | None = None,
    opportunities: int | None = None,
    approved: int | None = None,
    orders: int | None = None,
    stage_timings: Mapping[str, float | Decimal | str] | None = None,
    error: str | None = None,
) -> RunRow:
    """Close a run with its final status; counts left ``None`` keep their stored value.

    ``stage_timings`` maps stage name to seconds (a number, or a decimal string; Decimals are
    stored as strings). Raises ``UnknownRun`` for an unknown id.
    """
    counts = {
        "markets": markets,
        "books": books,
        "opportunities": opportunities,
        "approved": approved,
        "orders": orders,
    }
    values: dict[str, Any] = {k: v for k, v in counts.items() if v is not None}
    values.update(status=status, finished_at=finished_at, error=error)
    if stage_timings is not None:
        values["stage_timings"] = dict(stage_timings)
    result = session.execute(update(_RUN).where(_RUN.c.id == run_id).values(**values))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise UnknownRun(run_id)
    finished = get_run(session, run_id)
    assert finished is not None
    return finished


def get_run(session: Session, run_id: str) -> RunRow | None:
    """One run by id, or ``None``."""
    record = session.execute(select(_RUN).where(_RUN.c.id == run_id)).one_or_none()
    return None if record is None else _row(record)


def recent_runs(session: Session, limit: int = 20, flow_name: str | None = None) -> list[RunRow]:
    """The newest runs first (optionally of one flow)."""
    query = select(_RUN).order_by(_RUN.c.started_at.desc(), _RUN.c.id).limit(limit)
    if flow_name is not None:
        query = query.where(_RUN.c.flow_name == flow_name)
    return [_row(record) for record in session.execute(query)]
