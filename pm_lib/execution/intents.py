"""From an ``OrderRequest`` to a stored intent, and from a stored intent back to a result.

Intent keys are ``pm_lib.store.rows.intent_key_for(run_id, opportunity_id, leg_index)``, so the
opportunity and leg of a request are read back from its key. A key made some other way (a manual
order) is stored with the whole key as its opportunity id and leg 0.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pm_lib.models import OrderRequest, OrderResult, OrderStatus
from pm_lib.store.rows import IntentSpec, Mode, OrderIntentRow

__all__ = [
    "ALREADY_EXISTS",
    "already_exists_result",
    "intent_origin",
    "intent_spec",
    "paper_order_id",
    "result_from_row",
]

ALREADY_EXISTS = "intent already exists: not sent again"


def intent_origin(intent_key: str, run_id: str) -> tuple[str, int]:
    """``(opportunity_id, leg_index)`` encoded in a key made by ``intent_key_for``."""
    prefix = f"{run_id}:"
    if run_id and intent_key.startswith(prefix):
        opportunity, _, leg = intent_key[len(prefix) :].rpartition(":")
        if opportunity and leg.isdigit():
            return opportunity, int(leg)
    return intent_key, 0


def intent_spec(
    request: OrderRequest, *, run_id: str, mode: Mode, now: datetime, flow_run_id: str | None
) -> IntentSpec:
    """The intent row to store for ``request`` before anything is signed or simulated."""
    opportunity_id, leg_index = intent_origin(request.intent_key, run_id)
    return IntentSpec.from_request(
        request,
        run_id=run_id,
        opportunity_id=opportunity_id,
        leg_index=leg_index,
        mode=mode,
        created_at=now,
        flow_run_id=flow_run_id,
    )


def paper_order_id(intent_key: str) -> str:
    """A deterministic paper order id: the same intent, the same id."""
    return "paper-" + hashlib.sha256(intent_key.encode()).hexdigest()[:32]


def result_from_row(row: OrderIntentRow, *, error: str | None = None) -> OrderResult:
    """The executor result that a stored intent stands for."""
    return OrderResult(
        intent_key=row.intent_key,
        order_id=row.venue_order_id,
        status=row.status,
        filled_size=row.filled_size,
        avg_price=row.avg_price,
        fee=row.fee,
        error=error if error is not None else row.error,
    )


def already_exists_result(row: OrderIntentRow | None, intent_key: str) -> OrderResult:
    """What ``place`` reports for a request whose intent key is already stored: nothing sent."""
    if row is None:  # the other worker's row is not visible yet
        return OrderResult(
            intent_key=intent_key, order_id=None, status=OrderStatus.PENDING, error=ALREADY_EXISTS
        )
    return result_from_row(row, error=ALREADY_EXISTS)
