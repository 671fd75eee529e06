"""Baskets reviewed by reconcile: leg risk rebuilt from the stored intents, and handled.

The legs of a basket share ``run_id:opportunity_id`` in their intent keys (``intent_key_for``)
and its unwinds ``run_id:opportunity_id:unwind``, with the leg's index. The number of legs
comes from the run's stored opportunity (a run killed half-way never stored its later legs),
else from the legs seen. A leg's filled size, average price and fee come from its fills that
did not fail (a ghost fill is no fill): ``refresh_filled``.

Reconcile reviews every basket stored in the last ``BASKET_REVIEW_WINDOW`` and every basket
with a leg risk still ``open`` or ``held``:

- pending: a leg or unwind is still open (UNKNOWN, SIGNED, LIVE): undecided, reported;
- complete: every leg filled whole: an ``open`` leg risk becomes ``complete``;
- flat: no leg holds shares (nothing filled, or all unwound): an ``open`` one becomes
  ``unwound``;
- incomplete: some legs hold shares and others do not. Each leg holding shares gets a leg risk
  (recorded, or its ``open`` one resolved) with ``PM_UNWIND_POLICY`` applied as during the run
  (``multileg``): ``sell_back`` within ``PM_UNWIND_MAX_LOSS``, or ``hold``. Reconcile without
  settings holds (it never trades on a policy it was not given). Every incomplete basket is a
  discrepancy: reconcile is never clean while one exists; a ``held`` one stays reported until
  an operator takes it over (``pm-agent close-leg-risk``: ``closed``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pm_lib.execution.base import Executor
from pm_lib.execution.multileg import sell_back
from pm_lib.models import ZERO, Fill, OrderRequest, OrderResult, OrderType
from pm_lib.portfolio.ledger import counts
from pm_lib.settings import Settings
from pm_lib.store import (
    LegRiskRow,
    LegRiskStatus,
    OrderIntentRow,
    fills_for_intent,
    intent_by_key,
    intent_key_for,
    leg_risks_for_run,
    opportunities_for_run,
    record_leg_risk,
    session_scope,
    stored_market,
    update_intent,
)
from pm_lib.store.leg_risk import basket_intents, leg_risks_to_review, resolve_leg_risk

__all__ = [
    "BASKET_REVIEW_WINDOW",
    "BasketReview",
    "fill_totals",
    "refresh_filled",
    "review_baskets",
]

BASKET_REVIEW_WINDOW = timedelta(days=7)
"""How far back reconcile looks for baskets (those with an open or held leg risk: always)."""


def _shares(amount: Decimal) -> str:
    return format(amount.normalize(), "f")


def fill_totals(made: Iterable[Fill]) -> tuple[Decimal, Decimal | None, Decimal]:
    """Filled size, average price and fee of the fills that did not fail."""
    counted = [f for f in made if counts(f)]
    size = sum((f.size for f in counted), ZERO)
    avg = sum((f.size * f.price for f in counted), ZERO) / size if size else None
    return size, avg, sum((f.fee for f in counted), ZERO)


def refresh_filled(session: Session, row: OrderIntentRow) -> OrderIntentRow:
    """Re-derive a stored intent's filled size, average price and fee from its fills that did
    not fail (a ghost fill that went FAILED after the intent was settled); no fills: as is."""
    made = fills_for_intent(session, row.intent_key)
    if not made:
        return row
    size, avg, fee = fill_totals(made)
    if (size, fee) == (row.filled_size, row.fee) and avg in (None, row.avg_price):
        return row
    return update_intent(
        session, row.intent_key, status=row.status, filled_size=size, avg_price=avg, fee=fee
    )


@dataclass(frozen=True)
class BasketReview:
    """What reviewing the baskets found (``discrepancies``) and did (leg risks, unwinds)."""

    discrepancies: tuple[str, ...] = ()
    leg_risks: tuple[LegRiskRow, ...] = ()
    unwinds: tuple[OrderResult, ...] = ()


@dataclass(frozen=True)
class _Leg:
    index: int
    key: str
    row: OrderIntentRow | None
    unwind: OrderIntentRow | None

    @property
    def held(self) -> Decimal:
        filled = self.row.filled_size if self.row is not None else ZERO
        return filled - (self.unwind.filled_size if self.unwind is not None else ZERO)


def _groups(session: Session, mode: str, since: datetime) -> list[tuple[str, str]]:
    """(run id, opportunity id) of the baskets to review, oldest first."""
    found: dict[tuple[str, str], None] = {}
    for row in basket_intents(session, mode=mode, since=since):
        made_here = row.intent_key == intent_key_for(row.run_id, row.opportunity_id, row.leg_index)
        if made_here and not row.opportunity_id.endswith(":unwind"):
            found[(row.run_id, row.opportunity_id)] = None
    for risk in leg_risks_to_review(session):
        found[(risk.run_id, risk.opportunity_id)] = None
    return list(found)


def review_baskets(
    executor: Executor, engine: Engine, *, settings: Settings | None, now: datetime
) -> BasketReview:
    """Review the baskets of ``executor``'s mode (module docstring)."""
    with session_scope(engine) as session:
        groups = _groups(session, executor.mode, now - BASKET_REVIEW_WINDOW)
    found: list[str] = []
    risks: list[LegRiskRow] = []
    unwinds: list[OrderResult] = []
    sizes: dict[str, dict[str, int]] = {}
    for run_id, opportunity_id in groups:
        with session_scope(engine) as session:
            if run_id not in sizes:
                planned = opportunities_for_run(session, run_id)
                sizes[run_id] = {o.id: len(o.legs) for o in planned}
            legs = _legs(session, run_id, opportunity_id, sizes[run_id].get(opportunity_id, 0))
            existing = [
                r for r in leg_risks_for_run(session, run_id) if r.opportunity_id == opportunity_id
            ]
        if len(legs) < 2 or any(
            leg.row is not None and leg.row.mode != executor.mode for leg in legs
        ):
            continue
        basket = _Basket(executor, engine, settings, now, run_id, opportunity_id, legs, existing)
        basket.review()
        found += basket.found
        risks += basket.risks
        unwinds += basket.unwinds
    return BasketReview(tuple(found), tuple(risks), tuple(unwinds))


def _legs(session: Session, run_id: str, opportunity_id: str, planned: int) -> list[_Leg]:
    stored = {
        row.leg_index: row
        for row in basket_intents(session, run_id=run_id, opportunity_id=opportunity_id)
        if row.intent_key == intent_key_for(run_id, opportunity_id, row.leg_index)
    }
    count = max(planned, max(stored, default=-1) + 1)
    if count < 2:  # a single-leg order, not a basket
        return []
    legs = []
    for index in range(count):
        row = stored.get(index)
        unwind = intent_by_key(session, intent_key_for(run_id, f"{opportunity_id}:unwind", index))
        legs.append(
            _Leg(
                index,
                intent_key_for(run_id, opportunity_id, index),
                refresh_filled(session, row) if row is not None else None,
                refresh_filled(session, unwind) if unwind is not None else None,
            )
        )
    return legs


class _Basket:
    """One basket under review; ``found``, ``risks`` and ``unwinds`` say what happened."""

    def __init__(
        self,
        executor: Executor,
        engine: Engine,
        settings: Settings | None,
        now: datetime,
        run_id: str,
        opportunity_id: str,
        legs: list[_Leg],
        existing: list[LegRiskRow],
    ) -> None:
        self.executor, self.engine, self.settings, self.now = executor, engine, settings, now
        self.run_id, self.opportunity_id, self.legs = run_id, opportunity_id, legs
        self.existing = {r.intent_key: r for r in existing}  # the latest per leg
        self.found: list[str] = []
        self.risks: list[LegRiskRow] = []
        self.unwinds: list[OrderResult] = []
        self.name = f"basket {opportunity_id} of run {run_id}"

    def review(self) -> None:
        rows = [r for leg in self.legs for r in (leg.row, leg.unwind) if r is not None]
        waiting = [r for r in rows if not r.status.is_terminal]
        if waiting:
            states = ", ".join(f"{r.intent_key} {r.status}" for r in waiting)
            self.found.append(f"{self.name} is undecided: {states}")
            return
        held = [leg for leg in self.legs if leg.held > ZERO]
        whole = all(
            leg.row is not None and leg.unwind is None and leg.row.filled_size >= leg.row.size
            for leg in self.legs
        )
        if whole or not held:
            self._close_open("complete" if whole else "unwound")
            return
        summary = ", ".join(
            f"leg {leg.index} "
            + ("never sent" if leg.row is None else f"{leg.row.status}, holds {_shares(leg.held)}")
            for leg in self.legs
        )
        budget = self.settings.unwind_max_loss if self.settings is not None else ZERO
        for leg in held:
            risk = self.existing.get(leg.key)
            if risk is not None and risk.status == "closed":
                continue  # an operator took this leg over (pm-agent close-leg-risk)
            if risk is not None and risk.status == "held":
                self.found.append(
                    f"{self.name} is incomplete ({summary}): {leg.key} holds {_shares(leg.held)}, "
                    f"leg risk {risk.id} held ({risk.policy}): an operator must close or "
                    "complete it"
                )
                continue
            status, detail, loss = self._apply_policy(leg, budget)
            budget -= loss
            self._store(leg.key, risk, status, detail)
            self.found.append(f"{self.name} is incomplete ({summary}): {detail} -> {status}")
        self._close_open("unwound", keep={leg.key for leg in held})

    def _policy(self) -> str:
        return self.settings.unwind_policy if self.settings is not None else "hold"

    def _apply_policy(self, leg: _Leg, budget: Decimal) -> tuple[LegRiskStatus, str, Decimal]:
        row = leg.row
        assert row is not None  # a leg holding shares was stored
        if self._policy() == "hold":
            return "held", f"{leg.key} holds {_shares(leg.held)} shares: held and flagged", ZERO
        if leg.unwind is not None:
            return (
                "held",
                f"{leg.key} holds {_shares(leg.held)} shares after its unwind: held",
                ZERO,
            )
        with session_scope(self.engine) as session:
            market = stored_market(session, row.condition_id)
        if market is None:
            detail = (
                f"{leg.key} holds {_shares(leg.held)} shares; market {row.condition_id} is not "
            )
            return "held", detail + "in the stored catalogue, so no sell-back price: held", ZERO
        request = OrderRequest(
            intent_key=leg.key,
            token_id=row.token_id,
            condition_id=row.condition_id,
            side=row.side,
            size=row.size,
            price=row.price,
            order_type=OrderType.FOK,
            tick_size=market.tick_size,
            neg_risk=row.neg_risk,
            fees=market.fees,
        )
        filled = OrderResult(
            intent_key=leg.key,
            order_id=row.venue_order_id,
            status=row.status,
            filled_size=leg.held,
            avg_price=row.avg_price,
            fee=row.fee * leg.held / row.filled_size,
        )
        unwind, status, detail, loss = sell_back(
            self.executor, request, filled, budget, self.run_id, self.opportunity_id, leg.index
        )
        if unwind is not None:
            self.unwinds.append(unwind)
        return status, detail, loss

    def _store(self, key: str, risk: LegRiskRow | None, status: LegRiskStatus, detail: str) -> None:
        with session_scope(self.engine) as session:
            if risk is not None and risk.status == "open":
                self.risks.append(
                    resolve_leg_risk(
                        session, risk.id, status=status, detail=detail, resolved_at=self.now
                    )
                )
                return
            self.risks.append(
                record_leg_risk(
                    session,
                    run_id=self.run_id,
                    opportunity_id=self.opportunity_id,
                    intent_key=key,
                    policy=self._policy(),
                    detail=f"found by reconcile: {detail}",
                    created_at=self.now,
                    status=status,
                )
            )

    def _close_open(self, status: LegRiskStatus, keep: set[str] | None = None) -> None:
        """Resolve the basket's ``open`` leg risks that nothing is held for any more."""
        detail = "the basket filled whole after all" if status == "complete" else "holds nothing"
        for key, risk in self.existing.items():
            if risk.status != "open" or (keep and key in keep):
                continue
            with session_scope(self.engine) as session:
                self.risks.append(
                    resolve_leg_risk(
                        session,
                        risk.id,
                        status=status,
                        detail=f"reconcile: {detail}",
                        resolved_at=self.now,
                    )
                )
