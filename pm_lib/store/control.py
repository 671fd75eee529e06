"""Operator control flags; the kill switch is the flag ``halted``.

While halted, flows place no new orders: the risk gate rejects everything (rule
``kill_switch``), the execute stage places no further opportunity, and the executors check
``halted(engine)`` before every order, so a halt committed mid-scan stops every later order.
The one exception is an unwind order (``is_unwind_key``): a basket the halt stopped half-sent
is closed by the leg-risk policy, not abandoned. The flag lives in the database so every worker
sees it at its next check; ``halted`` is the one check every path calls.

The Prefect UI switch: the Prefect Variable ``pm_agent_halted`` (``SWITCH_VARIABLE``) is a
control input, not a second flag. A flow passes its reader to ``halted`` (at its start and before
every opportunity); a halt set there is written to this flag with its reason, by
``SWITCH_BY``. Setting the Variable back to false resumes only a halt the Variable set: a halt
from the CLI, a halt deployment or any other writer is resumed by ``pm-agent resume`` or the
``resume`` deployment, which also clear the Variable. A Variable that cannot be read or holds
an unknown value refuses the order (fail closed) without touching the flag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pm_lib.store.dialect import conflict_insert
from pm_lib.store.engine import session_scope
from pm_lib.store.rows import ControlFlagRow
from pm_lib.store.tables import ControlFlag

__all__ = [
    "HALTED",
    "SWITCH_BY",
    "SWITCH_VARIABLE",
    "HaltSwitch",
    "apply_switch",
    "get_flag",
    "halt",
    "halt_refusal",
    "halted",
    "is_halted",
    "is_unwind_key",
    "parse_switch",
    "resume",
    "set_flag",
    "switch_value",
]

HALTED = "halted"
"""The kill-switch flag's key; its value is "true" or "false"."""

SWITCH_VARIABLE = "pm_agent_halted"
"""The Prefect Variable a trader edits in the UI: ``true``/``false``, or
``{"halted": true, "reason": "..."}`` (a JSON value, never a string holding JSON)."""

SWITCH_BY = "prefect-variable"
"""``updated_by`` of a halt the Variable set (the only halt the Variable may resume)."""


def _ignore(on: bool, reason: str) -> None:
    return None


@dataclass(frozen=True)
class HaltSwitch:
    """The UI switch as a flow sees it: ``read`` returns the Variable's value (``None``: never
    set; raises when it cannot be read); ``on_change(halted, reason)`` is told when the switch
    just changed the flag (flows emit a Prefect event for alerts)."""

    read: Callable[[], object]
    on_change: Callable[[bool, str], None] = _ignore


_FLAG = ControlFlag.__table__  # type: ignore[attr-defined]
_DEFAULT_UI_REASON = "halted from the Prefect UI (Variable pm_agent_halted)"


def switch_value(on: bool, reason: str) -> dict[str, object]:
    """The Variable's value for a flag state (what writers store; JSON, not a JSON string)."""
    return {"halted": on, "reason": reason}


def parse_switch(value: object) -> tuple[bool, str] | None:
    """(halted, reason) from the Variable's value; ``None`` when the value means nothing."""
    if value is None or value is False:
        return False, ""
    if value is True:
        return True, _DEFAULT_UI_REASON
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("", "false", "off", "no", "0"):
            return False, ""
        if text in ("true", "on", "yes", "1"):
            return True, _DEFAULT_UI_REASON
        return None
    if isinstance(value, dict) and isinstance(value.get("halted"), bool):
        reason = value.get("reason")
        if value["halted"]:
            text = reason.strip() if isinstance(reason, str) else ""
            return True, text or _DEFAULT_UI_REASON
        return False, ""
    return None


def apply_switch(engine: Engine, switch: HaltSwitch, *, at: datetime | None = None) -> str | None:
    """Honour the UI switch: mirror a halt it holds into the flag (with its reason), resume a
    halt it set once it says false. Returns a refusal when the switch cannot be trusted (it
    could not be read, or holds a value that means nothing), else None."""
    try:
        value = switch.read()
    except Exception as error:  # fail closed: an unreadable switch may be a halt
        return f"kill switch Variable {SWITCH_VARIABLE} unreadable: {error}"
    parsed = parse_switch(value)
    if parsed is None:
        return (
            f"kill switch Variable {SWITCH_VARIABLE} holds {value!r}: set it to true, false or "
            '{"halted": true, "reason": "..."}'
        )
    on, reason = parsed
    with session_scope(engine) as session:
        flag = get_flag(session, HALTED)
        flag_on = flag is not None and flag.value == "true"
        changed = on != flag_on and (on or (flag is not None and flag.updated_by == SWITCH_BY))
        if changed and on:
            halt(session, reason, SWITCH_BY, at=at)
        elif changed:
            reason = "resumed from the Prefect UI"
            resume(session, reason, SWITCH_BY, at=at)
    if changed:
        switch.on_change(on, reason)
    return None


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


def halted(engine: Engine, switch: HaltSwitch | None = None) -> str | None:
    """The kill switch as committed now: the reason it was set, or None when trading is on.

    One cheap read (its own read-only transaction, never waiting for writers); call it outside
    any open session of the same thread. With ``switch`` (a flow's reader of the Prefect UI
    Variable), the Variable is honoured first (``apply_switch``).
    """
    if switch is not None:
        refusal = apply_switch(engine, switch)
        if refusal is not None:
            return refusal
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
