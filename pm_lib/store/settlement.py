"""Market resolutions and the settlement journal (``pm_lib.settlement`` owns the logic).

- ``market_resolution``: one row per resolved market; a resolution is final, so a row is
  written once and never changed (a later read of the same market is ignored).
- ``settlement``: one row per (mode, token) redeemed at its payout. It is stored ``pending``
  before anything is applied and turns ``applied`` once, in the same transaction as its ledger
  entry; the unique (mode, token) key makes a re-run find it instead of settling again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pm_lib.models import MarketResolution
from pm_lib.store.dialect import conflict_insert
from pm_lib.store.rows import Mode
from pm_lib.store.tables import MarketResolutionRecord, SettlementRecord

__all__ = [
    "APPLIED",
    "PENDING",
    "Settlement",
    "journal_settlement",
    "mark_settlement_applied",
    "market_resolutions",
    "save_resolutions",
    "settlements",
]

PENDING = "pending"
APPLIED = "applied"

_RESOLUTION = MarketResolutionRecord.__table__  # type: ignore[attr-defined]
_SETTLEMENT = SettlementRecord.__table__  # type: ignore[attr-defined]


class Settlement(BaseModel):
    """``size`` shares of ``token_id`` redeemed at ``payout`` a share: ``proceeds`` in pUSD,
    closing a position that cost ``cost`` and paid ``fees``; ``realised`` = the difference."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    mode: str
    token_id: str
    condition_id: str
    size: Decimal
    payout: Decimal
    proceeds: Decimal
    cost: Decimal
    fees: Decimal
    realised: Decimal
    status: str = PENDING
    created_at: datetime
    applied_at: datetime | None = None
    run_id: str | None = None
    flow_run_id: str | None = None


def save_resolutions(
    session: Session, resolutions: Iterable[MarketResolution], source: str, at: datetime
) -> int:
    """Store the resolutions not stored yet; how many were new."""
    new = 0
    for r in resolutions:
        inserted = session.execute(
            conflict_insert(session, _RESOLUTION)
            .values(
                condition_id=r.condition_id,
                winning_token_id=r.winning_token_id,
                winning_outcome=r.winning_outcome,
                payouts={t: str(p) for t, p in r.payouts.items()},
                resolved_at=r.resolved_at,
                source=source,
                recorded_at=at,
            )
            .on_conflict_do_nothing(index_elements=["condition_id"])
            .returning(_RESOLUTION.c.condition_id)
        ).one_or_none()
        new += inserted is not None
    return new


def market_resolutions(
    session: Session, condition_ids: Iterable[str] | None = None
) -> dict[str, MarketResolution]:
    """The stored resolutions (of ``condition_ids`` when given), by condition id."""
    query = select(_RESOLUTION)
    if condition_ids is not None:
        query = query.where(_RESOLUTION.c.condition_id.in_(list(condition_ids)))
    return {
        row.condition_id: MarketResolution(
            condition_id=row.condition_id,
            payouts={t: Decimal(p) for t, p in row.payouts.items()},
            winning_token_id=row.winning_token_id,
            winning_outcome=row.winning_outcome,
            resolved_at=row.resolved_at,
        )
        for row in session.execute(query)
    }


def journal_settlement(session: Session, settlement: Settlement) -> bool:
    """Store ``settlement`` as pending unless its (mode, token) is journalled already."""
    values = settlement.model_dump(exclude={"id", "applied_at"}) | {"status": PENDING}
    inserted = session.execute(
        conflict_insert(session, _SETTLEMENT)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["mode", "token_id"])
        .returning(_SETTLEMENT.c.id)
    ).one_or_none()
    return inserted is not None


def mark_settlement_applied(session: Session, settlement_id: int, at: datetime) -> bool:
    """Turn a pending settlement applied; False when it was not pending (applied already)."""
    done = session.execute(
        update(_SETTLEMENT)
        .where(_SETTLEMENT.c.id == settlement_id, _SETTLEMENT.c.status == PENDING)
        .values(status=APPLIED, applied_at=at)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def settlements(session: Session, mode: Mode, status: str | None = None) -> list[Settlement]:
    """The journalled settlements of ``mode`` (of one ``status`` when given), oldest first."""
    query = select(_SETTLEMENT).where(_SETTLEMENT.c.mode == mode).order_by(_SETTLEMENT.c.id)
    if status is not None:
        query = query.where(_SETTLEMENT.c.status == status)
    return [Settlement.model_validate(dict(row._mapping)) for row in session.execute(query)]
