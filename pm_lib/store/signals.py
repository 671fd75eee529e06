"""Signals: the opportunities of a run and the risk gate's decision on each.

Both are written in bulk and idempotently (a retried task stores nothing twice): one row per
``(run_id, opportunity_id)``, the first write wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from pm_lib.models import Leg, Opportunity, RiskDecision, SkippedItem
from pm_lib.store.dialect import conflict_insert
from pm_lib.store.tables import BasketRefusalRecord, OpportunityRecord, RiskDecisionRecord

__all__ = [
    "basket_refusals",
    "decisions_for_run",
    "opportunities_for_run",
    "record_decisions",
    "record_opportunities",
    "record_refusals",
]

_OPPORTUNITY = OpportunityRecord.__table__  # type: ignore[attr-defined]
_DECISION = RiskDecisionRecord.__table__  # type: ignore[attr-defined]
_REFUSAL = BasketRefusalRecord.__table__  # type: ignore[attr-defined]
_LEGS = TypeAdapter(tuple[Leg, ...])


def _insert_once(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    insert = conflict_insert(session, table).on_conflict_do_nothing(
        index_elements=["run_id", "opportunity_id"]
    )
    session.execute(insert, rows)


def record_opportunities(
    session: Session,
    run_id: str,
    flow_run_id: str | None,
    opportunities: Sequence[Opportunity],
) -> None:
    """Store a run's opportunities (legs as JSON with decimal strings); repeats are ignored."""
    rows = [
        {
            "run_id": run_id,
            "opportunity_id": opportunity.id,
            "strategy": opportunity.strategy,
            "market": opportunity.market,
            "edge": opportunity.edge,
            "cost": opportunity.cost,
            "fees": opportunity.fees,
            "payout": opportunity.payout,
            "reason": opportunity.reason,
            "legs": [leg.model_dump(mode="json") for leg in opportunity.legs],
            "created_at": opportunity.created_at,
            "flow_run_id": flow_run_id,
        }
        for opportunity in opportunities
    ]
    _insert_once(session, _OPPORTUNITY, rows)


def record_decisions(
    session: Session,
    run_id: str,
    flow_run_id: str | None,
    decisions: Sequence[RiskDecision],
) -> None:
    """Store the risk gate's decisions for a run; repeats are ignored."""
    rows = [
        {
            "run_id": run_id,
            "opportunity_id": decision.opportunity_id,
            "approved": decision.approved,
            "rule": decision.rule,
            "reason": decision.reason,
            "inputs": dict(decision.inputs),
            "decided_at": decision.decided_at,
            "flow_run_id": flow_run_id,
        }
        for decision in decisions
    ]
    _insert_once(session, _DECISION, rows)


def opportunities_for_run(session: Session, run_id: str) -> list[Opportunity]:
    """A run's opportunities, in the order they were recorded."""
    records = session.execute(
        select(_OPPORTUNITY).where(_OPPORTUNITY.c.run_id == run_id).order_by(_OPPORTUNITY.c.id)
    )
    return [
        Opportunity(
            id=r.opportunity_id,
            strategy=r.strategy,
            market=r.market,
            legs=_LEGS.validate_python(r.legs),
            edge=r.edge,
            cost=r.cost,
            fees=r.fees,
            payout=r.payout,
            reason=r.reason,
            created_at=r.created_at,
        )
        for r in records
    ]


def decisions_for_run(session: Session, run_id: str) -> list[RiskDecision]:
    """A run's risk decisions, in the order they were recorded."""
    records = session.execute(
        select(_DECISION).where(_DECISION.c.run_id == run_id).order_by(_DECISION.c.id)
    )
    return [
        RiskDecision(
            opportunity_id=r.opportunity_id,
            approved=r.approved,
            rule=r.rule,
            reason=r.reason,
            inputs=r.inputs,
            decided_at=r.decided_at,
        )
        for r in records
    ]


def record_refusals(
    session: Session, mode: str, run_id: str, refused: Sequence[SkippedItem], at: datetime
) -> None:
    """Store each refused basket (one row per event: latest reason, first/last seen, count)."""
    rows = [
        {
            "mode": mode,
            "ident": item.ident,
            "reason": item.reason,
            "first_seen_at": at,
            "last_seen_at": at,
            "last_run_id": run_id,
            "times": 1,
        }
        for item in {i.ident: i for i in refused}.values()
    ]
    if not rows:
        return
    insert = conflict_insert(session, _REFUSAL)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["mode", "ident"],
            set_={
                "reason": insert.excluded.reason,
                "last_seen_at": insert.excluded.last_seen_at,
                "last_run_id": insert.excluded.last_run_id,
                "times": _REFUSAL.c.times + 1,
            },
        ),
        rows,
    )


def basket_refusals(session: Session, mode: str) -> list[dict[str, Any]]:
    """The stored refusals of ``mode``, most recently seen first."""
    rows = session.execute(
        select(_REFUSAL).where(_REFUSAL.c.mode == mode).order_by(_REFUSAL.c.last_seen_at.desc())
    )
    return [dict(r._mapping) for r in rows]
