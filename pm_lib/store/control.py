"""Operator control flags; the kill switch is the flag ``halted``.

While halted, flows place no new orders: the risk gate rejects everything (rule
``kill_switch``), the execute stage places no further opportunity, and the executors check
``halted(engine)`` before every order, so a halt committed mid-scan stops every later order.
The one exception is an unwind order (``is_unwind_key``): a basket the halt stopped half-sent
is closed by the leg-risk policy, not abandoned. The flag lives in the database so every worker
sees it at its next check; ``halted`` is the one check every path calls.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pm_lib.store.dialect import conflict_insert
from pm_lib.store.engine import session_scope
from pm_lib.store.rows import ControlFlagRow
from pm_lib.store.tables import ControlFlag

__all__ = [
    "HALTED",
    "get_flag",
    "halt",
    "halt_refusal",
    "halted",
    "is_halted",
    "is_unwind_key",
    "resume",
    "set_flag",
]

HALTED = "halted"
"""The kill-switch flag's key; its value is "true" or "false"."""

_FLAG = ControlFlag.__table__  # type: ignore[attr-defined]


def get_flag(session: Session, key: str) -> ControlFlagRow | None:
    """One flag, or ``None`` when it was never set."""
    record = session.execute(select(_FLAG).where(_FLAG.c.key == key)).one_or_none()
    return None if record is None else ControlFlagRow.model_validate(record, from_attributes=True)


def set_flag(
    session: Session, key: str, value: str, reason: str, by: str, *, at: datetime | None = None
) -> ControlFlagRow:
    """Set flag ``key`` to ``value``, saying why and who (insert or replace)."""
    insert = conflict_insert(session, _FLAG).values(
        key=key, value=value, reason=reason, updated_at=at or datetime.now(UTC), updated_by=by
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["key"],
            set_={c: insert.excluded[c] for c in ("value", "reason", "updated_at", "updated_by")},
        )
    )
    flag = get_flag(session, key)
    assert flag is not None
    return flag


def is_halted(session: Session) -> tuple[bool, str]:
    """Whether the kill switch is on, and the reason given when it was set."""
    flag = get_flag(session, HALTED)
    if flag is None or flag.value != "true":
        return False, ""
    return True, flag.reason


def halted(engine: Engine) -> str | None:
    """The kill switch as committed now: the reason it was set, or None when trading is on.

    One cheap read (its own read-only transaction, never waiting for writers); call it outside
    any open session of the same thread.
    """
    with session_scope(engine, read_only=True) as session:
        on, reason = is_halted(session)
    return (reason or "kill switch on") if on else None


def is_unwind_key(intent_key: str) -> bool:
    """True for the intent key of an unwind order (``multileg``: ``{run}:{opp}:unwind:{i}``),
    the one order a halt lets through: it closes a leg the halt left open."""
    return ":unwind:" in intent_key


def halt_refusal(engine: Engine, intent_key: str) -> str | None:
    """Why an executor must not send order ``intent_key`` now (trading halted), or None."""
    if is_unwind_key(intent_key):
        return None
    reason = halted(engine)
    return None if reason is None else f"not sent: trading halted: {reason}"


def halt(session: Session, reason: str, by: str, *, at: datetime | None = None) -> None:
    """Turn the kill switch on: no new orders until ``resume``."""
    set_flag(session, HALTED, "true", reason, by, at=at)


def resume(session: Session, reason: str, by: str, *, at: datetime | None = None) -> None:
    """Turn the kill switch off."""
    set_flag(session, HALTED, "false", reason, by, at=at)
