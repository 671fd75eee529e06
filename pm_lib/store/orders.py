"""Order intents: the durable record of each order, written before it is signed.

The life of an intent (``pm_lib.models.OrderStatus``)::

    PENDING ──set_signed──> SIGNED ──post──> LIVE ──> MATCHED | CANCELED | EXPIRED
       │                      │                │
       └──────────────────────┴────────────────┴──> UNKNOWN (ambiguous submit) ──> any status
                                                    REJECTED from any open status

``create_intent`` inserts with ``ON CONFLICT (intent_key) DO NOTHING``, so of two workers that
race on the same key exactly one gets the row and the other gets ``IntentAlreadyExists``, on
SQLite and PostgreSQL alike, without poisoning either transaction. The signed order hash is
stored (``set_signed``) before the order is posted, so an ambiguous post is resolved by looking
the hash up, never by signing again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pm_lib.models import ZERO, OrderStatus
from pm_lib.store.dialect import conflict_insert
from pm_lib.store.errors import IntentAlreadyExists, InvalidIntentTransition, UnknownIntent
from pm_lib.store.rows import IntentSpec, Mode, OrderIntentRow
from pm_lib.store.tables import OrderIntentRecord

__all__ = [
    "OPEN_STATUSES",
    "can_transition",
    "create_intent",
    "intent_by_key",
    "intent_by_order_id",
    "intents_by_status",
    "intents_for_run",
    "open_intents",
    "set_signed",
    "update_intent",
]

_INTENT = OrderIntentRecord.__table__  # type: ignore[attr-defined]

OPEN_STATUSES = frozenset(s for s in OrderStatus if not s.is_terminal)
"""Statuses in which an order may still rest, fill or be unresolved."""

# Lifecycle order of the non-terminal statuses (UNKNOWN is handled apart: it may go anywhere).
_STAGE = {OrderStatus.PENDING: 0, OrderStatus.SIGNED: 1, OrderStatus.LIVE: 2}


def can_transition(current: OrderStatus, requested: OrderStatus) -> bool:
    """Whether an intent may move from ``current`` to ``requested``.

    The same status is always allowed (fill numbers may be refreshed); a terminal status never
    changes; UNKNOWN may resolve to anything and any open status may become UNKNOWN; otherwise
    only forward along PENDING -> SIGNED -> LIVE -> terminal.
    """
    if requested is current:
        return True
    if current.is_terminal:
        return False
    if current is OrderStatus.UNKNOWN or requested is OrderStatus.UNKNOWN:
        return True
    if requested.is_terminal:
        return True
    return _STAGE[requested] > _STAGE[current]


def _row(record: Any) -> OrderIntentRow:
    return OrderIntentRow.model_validate(record, from_attributes=True)


def create_intent(session: Session, spec: IntentSpec) -> OrderIntentRow:
    """Store a new PENDING intent; raises ``IntentAlreadyExists`` if its key is taken.

    Safe under concurrent workers: exactly one creation of a key succeeds.
    """
    values = spec.model_dump()
    values.update(
        side=spec.side.value,
        order_type=spec.order_type.value,
        status=OrderStatus.PENDING.value,
        filled_size=ZERO,
        fee=ZERO,
        updated_at=spec.created_at,
    )
    inserted = session.execute(
        conflict_insert(session, _INTENT)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["intent_key"])
        .returning(*_INTENT.c)
    ).one_or_none()
    if inserted is None:
        raise IntentAlreadyExists(spec.intent_key)
    return _row(inserted)


def _locked(session: Session, intent_key: str) -> Any:
    record = session.execute(
        select(_INTENT).where(_INTENT.c.intent_key == intent_key).with_for_update()
    ).one_or_none()
    if record is None:
        raise UnknownIntent(intent_key)
    return record


def _write(session: Session, intent_key: str, values: dict[str, Any]) -> OrderIntentRow:
    updated = session.execute(
        update(_INTENT)
        .where(_INTENT.c.intent_key == intent_key)
        .values(**values)
        .returning(*_INTENT.c)
    ).one()
    return _row(updated)


def set_signed(
    session: Session, intent_key: str, venue_order_id: str, *, at: datetime | None = None
) -> OrderIntentRow:
    """Store the signed order's hash (its venue order id): PENDING -> SIGNED, before posting.

    Repeating it with the same hash is a no-op; anything else raises
    ``InvalidIntentTransition`` (an intent is signed once).
    """
    record = _locked(session, intent_key)
    if record.status == OrderStatus.SIGNED and record.venue_order_id == venue_order_id:
        return _row(record)
    if record.status != OrderStatus.PENDING:
        raise InvalidIntentTransition(intent_key, record.status, OrderStatus.SIGNED)
    return _write(
        session,
        intent_key,
        {
            "status": OrderStatus.SIGNED.value,
            "venue_order_id": venue_order_id,
            "updated_at": at or datetime.now(UTC),
        },
    )


def update_intent(
    session: Session,
    intent_key: str,
    *,
    status: OrderStatus,
    filled_size: Decimal | None = None,
    avg_price: Decimal | None = None,
    fee: Decimal | None = None,
    error: str | None = None,
    venue_order_id: str | None = None,
    at: datetime | None = None,
) -> OrderIntentRow:
    """Move an intent to ``status`` and record what is known (``None`` keeps the stored value).

    Raises ``InvalidIntentTransition`` for a move ``can_transition`` forbids, ``UnknownIntent``
    for an unknown key. ``venue_order_id`` is for orders never signed here (paper ids).
    """
    record = _locked(session, intent_key)
    current = OrderStatus(record.status)
    if not can_transition(current, status):
        raise InvalidIntentTransition(intent_key, current, status)
    values: dict[str, Any] = {"status": status.value, "updated_at": at or datetime.now(UTC)}
    given = {
        "filled_size": filled_size,
        "avg_price": avg_price,
        "fee": fee,
        "error": error,
        "venue_order_id": venue_order_id,
    }
    values.update({k: v for k, v in given.items() if v is not None})
    return _write(session, intent_key, values)


def intent_by_key(session: Session, intent_key: str) -> OrderIntentRow | None:
    """One intent by its key, or ``None``."""
    record = session.execute(
        select(_INTENT).where(_INTENT.c.intent_key == intent_key)
    ).one_or_none()
    return None if record is None else _row(record)


def intent_by_order_id(session: Session, venue_order_id: str) -> OrderIntentRow | None:
    """The intent that produced venue order ``venue_order_id``, or ``None``."""
    record = session.execute(
        select(_INTENT).where(_INTENT.c.venue_order_id == venue_order_id)
    ).one_or_none()
    return None if record is None else _row(record)


def intents_by_status(
    session: Session, statuses: Iterable[OrderStatus], mode: Mode | None = None
) -> list[OrderIntentRow]:
    """Intents in any of ``statuses`` (of one mode, if given), oldest first."""
    query = (
        select(_INTENT)
        .where(_INTENT.c.status.in_([s.value for s in statuses]))
        .order_by(_INTENT.c.id)
    )
    if mode is not None:
        query = query.where(_INTENT.c.mode == mode)
    return [_row(record) for record in session.execute(query)]


def intents_for_run(session: Session, run_id: str) -> list[OrderIntentRow]:
    """A run's intents in creation order."""
    query = select(_INTENT).where(_INTENT.c.run_id == run_id).order_by(_INTENT.c.id)
    return [_row(record) for record in session.execute(query)]


def open_intents(session: Session, mode: Mode) -> list[OrderIntentRow]:
    """Intents of ``mode`` not yet in a terminal status (what reconcile must look at)."""
    return intents_by_status(session, OPEN_STATUSES, mode)
