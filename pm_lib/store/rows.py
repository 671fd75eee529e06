"""Frozen rows the repositories return where ``pm_lib.models`` has no domain type.

They are plain pydantic models (no ORM state), so they can cross threads, tasks and sessions.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from pm_lib.models import ZERO, OrderRequest, OrderStatus, OrderType, Side

__all__ = [
    "ControlFlagRow",
    "IntentSpec",
    "LegRiskRow",
    "LegRiskStatus",
    "Mode",
    "OrderIntentRow",
    "RunRow",
    "RunStatus",
    "intent_key_for",
]

Mode = Literal["paper", "live"]
RunStatus = Literal["running", "completed", "failed"]
LegRiskStatus = Literal["open", "unwound", "held", "complete", "closed"]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def intent_key_for(run_id: str, opportunity_id: str, leg_index: int) -> str:
    """The deterministic intent key of one leg: the same run, opportunity and leg, the same key."""
    return f"{run_id}:{opportunity_id}:{leg_index}"


class RunRow(_Row):
    """One stored flow run with its counts and per-stage timings (seconds)."""

    id: str
    flow_run_id: str | None
    flow_name: str
    mode: Mode
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    markets: int
    books: int
    opportunities: int
    approved: int
    orders: int
    stage_timings: dict[str, Any]
    error: str | None


class IntentSpec(_Row):
    """What ``create_intent`` stores for one leg, before anything is signed."""

    intent_key: str
    run_id: str
    opportunity_id: str
    leg_index: int
    mode: Mode
    token_id: str
    condition_id: str
    side: Side
    size: Decimal
    price: Decimal
    order_type: OrderType
    post_only: bool = False
    neg_risk: bool = False
    created_at: datetime
    flow_run_id: str | None = None

    @classmethod
    def from_request(
        cls,
        request: OrderRequest,
        *,
        run_id: str,
        opportunity_id: str,
        leg_index: int,
        mode: Mode,
        created_at: datetime,
        flow_run_id: str | None = None,
    ) -> IntentSpec:
        """The intent for an executor request (its ``intent_key`` is kept as given)."""
        return cls(
            intent_key=request.intent_key,
            run_id=run_id,
            opportunity_id=opportunity_id,
            leg_index=leg_index,
            mode=mode,
            token_id=request.token_id,
            condition_id=request.condition_id,
            side=request.side,
            size=request.size,
            price=request.price,
            order_type=request.order_type,
            post_only=request.post_only,
            neg_risk=request.neg_risk,
            created_at=created_at,
            flow_run_id=flow_run_id,
        )


class OrderIntentRow(_Row):
    """One stored order intent and what became of it."""

    id: int
    intent_key: str
    run_id: str
    opportunity_id: str
    leg_index: int
    mode: Mode
    token_id: str
    condition_id: str
    side: Side
    size: Decimal
    price: Decimal
    order_type: OrderType
    post_only: bool
    neg_risk: bool
    status: OrderStatus
    venue_order_id: str | None
    filled_size: Decimal = ZERO
    avg_price: Decimal | None
    fee: Decimal = ZERO
    error: str | None
    created_at: datetime
    updated_at: datetime
    flow_run_id: str | None


class LegRiskRow(_Row):
    """A lopsided basket: the leg (intent) that filled when another did not, and its fate."""

    id: int
    run_id: str
    opportunity_id: str
    intent_key: str
    policy: str
    status: LegRiskStatus
    detail: str
    created_at: datetime
    resolved_at: datetime | None
    flow_run_id: str | None


class ControlFlagRow(_Row):
    """One operator switch (key ``halted`` is the kill switch)."""

    key: str
    value: str
    reason: str
    updated_at: datetime
    updated_by: str
