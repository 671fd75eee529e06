"""pm-agent's store: SQLModel tables, the engine and session lifecycle, migrations, repositories.

Use it as::

    engine = engine_from_settings(settings)
    upgrade(engine)                          # once at start; idempotent
    with session_scope(engine) as session:   # commit on success, rollback on error
        start_run(session, run_id=..., flow_name=..., mode="paper", flow_run_id=None,
                  started_at=now)

Repositories are plain functions of a ``Session``; they return ``pm_lib.models`` types, or the
frozen rows of ``pm_lib.store.rows`` where no domain type exists, never ORM objects. Money is
``Decimal`` in and out (see ``pm_lib.store.types``); timestamps must be aware and come back UTC.

Importing this package is cheap: each name below is imported from the module that owns it on
first use (PEP 562), so ``from pm_lib.store import session_scope`` does not load every
repository (and ``pm_lib.store.engine`` does not load them either). Read-only commands start
faster for it (docs/PERFORMANCE.md, "Command line").
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlmodel import Session

    from pm_lib.store.catalogue import (
        RefreshState,
        cached_catalogue,
        catalogue_age,
        catalogue_venue,
        load_catalogue,
        refresh_state,
        save_catalogue,
        save_catalogue_changes,
        stored_market,
    )
    from pm_lib.store.control import (
        HALTED,
        get_flag,
        halt,
        halt_refusal,
        halted,
        is_halted,
        is_unwind_key,
        resume,
        set_flag,
    )
    from pm_lib.store.engine import (
        create_fresh,
        current_revision,
        engine_from_settings,
        head_revision,
        make_engine,
        masked_url,
        session_scope,
        upgrade,
    )
    from pm_lib.store.errors import (
        IntentAlreadyExists,
        InvalidIntentTransition,
        StoreError,
        UnknownIntent,
        UnknownRun,
    )
    from pm_lib.store.leg_risk import (
        get_cursor,
        leg_risks_for_run,
        open_leg_risks,
        record_leg_risk,
        resolve_leg_risk,
        set_cursor,
    )
    from pm_lib.store.orders import (
        OPEN_STATUSES,
        can_transition,
        create_intent,
        intent_by_key,
        intent_by_order_id,
        intents_by_status,
        intents_for_run,
        open_intents,
        set_signed,
        update_intent,
    )
    from pm_lib.store.rows import (
        ControlFlagRow,
        IntentSpec,
        LegRiskRow,
        LegRiskStatus,
        Mode,
        OrderIntentRow,
        RunRow,
        RunStatus,
        intent_key_for,
    )
    from pm_lib.store.runs import finish_run, get_run, recent_runs, start_run
    from pm_lib.store.signals import (
        decisions_for_run,
        opportunities_for_run,
        record_decisions,
        record_opportunities,
    )
    from pm_lib.store.trades import (
        fills,
        fills_for_day,
        fills_for_intent,
        fills_kept,
        trade_status_advances,
        upsert_fill,
    )

# The module that owns each public name (one owner: the package only re-exports).
_OWNERS: dict[str, str] = {
    "Session": "sqlmodel",
    "RefreshState": "pm_lib.store.catalogue",
    "cached_catalogue": "pm_lib.store.catalogue",
    "catalogue_age": "pm_lib.store.catalogue",
    "catalogue_venue": "pm_lib.store.catalogue",
    "load_catalogue": "pm_lib.store.catalogue",
    "refresh_state": "pm_lib.store.catalogue",
    "save_catalogue": "pm_lib.store.catalogue",
    "save_catalogue_changes": "pm_lib.store.catalogue",
    "stored_market": "pm_lib.store.catalogue",
    "HALTED": "pm_lib.store.control",
    "get_flag": "pm_lib.store.control",
    "halt": "pm_lib.store.control",
    "halt_refusal": "pm_lib.store.control",
    "halted": "pm_lib.store.control",
    "is_halted": "pm_lib.store.control",
    "is_unwind_key": "pm_lib.store.control",
    "resume": "pm_lib.store.control",
    "set_flag": "pm_lib.store.control",
    "create_fresh": "pm_lib.store.engine",
    "current_revision": "pm_lib.store.engine",
    "engine_from_settings": "pm_lib.store.engine",
    "head_revision": "pm_lib.store.engine",
    "make_engine": "pm_lib.store.engine",
    "masked_url": "pm_lib.store.engine",
    "session_scope": "pm_lib.store.engine",
    "upgrade": "pm_lib.store.engine",
    "IntentAlreadyExists": "pm_lib.store.errors",
    "InvalidIntentTransition": "pm_lib.store.errors",
    "StoreError": "pm_lib.store.errors",
    "UnknownIntent": "pm_lib.store.errors",
    "UnknownRun": "pm_lib.store.errors",
    "get_cursor": "pm_lib.store.leg_risk",
    "leg_risks_for_run": "pm_lib.store.leg_risk",
    "open_leg_risks": "pm_lib.store.leg_risk",
    "record_leg_risk": "pm_lib.store.leg_risk",
    "resolve_leg_risk": "pm_lib.store.leg_risk",
    "set_cursor": "pm_lib.store.leg_risk",
    "OPEN_STATUSES": "pm_lib.store.orders",
    "can_transition": "pm_lib.store.orders",
    "create_intent": "pm_lib.store.orders",
    "intent_by_key": "pm_lib.store.orders",
    "intent_by_order_id": "pm_lib.store.orders",
    "intents_by_status": "pm_lib.store.orders",
    "intents_for_run": "pm_lib.store.orders",
    "open_intents": "pm_lib.store.orders",
    "set_signed": "pm_lib.store.orders",
    "update_intent": "pm_lib.store.orders",
    "ControlFlagRow": "pm_lib.store.rows",
    "IntentSpec": "pm_lib.store.rows",
    "LegRiskRow": "pm_lib.store.rows",
    "LegRiskStatus": "pm_lib.store.rows",
    "Mode": "pm_lib.store.rows",
    "OrderIntentRow": "pm_lib.store.rows",
    "RunRow": "pm_lib.store.rows",
    "RunStatus": "pm_lib.store.rows",
    "intent_key_for": "pm_lib.store.rows",
    "finish_run": "pm_lib.store.runs",
    "get_run": "pm_lib.store.runs",
    "recent_runs": "pm_lib.store.runs",
    "start_run": "pm_lib.store.runs",
    "decisions_for_run": "pm_lib.store.signals",
    "opportunities_for_run": "pm_lib.store.signals",
    "record_decisions": "pm_lib.store.signals",
    "record_opportunities": "pm_lib.store.signals",
    "fills": "pm_lib.store.trades",
    "fills_for_day": "pm_lib.store.trades",
    "fills_for_intent": "pm_lib.store.trades",
    "fills_kept": "pm_lib.store.trades",
    "trade_status_advances": "pm_lib.store.trades",
    "upsert_fill": "pm_lib.store.trades",
}

__all__ = [
    "HALTED",
    "OPEN_STATUSES",
    "ControlFlagRow",
    "IntentAlreadyExists",
    "IntentSpec",
    "InvalidIntentTransition",
    "LegRiskRow",
    "LegRiskStatus",
    "Mode",
    "OrderIntentRow",
    "RefreshState",
    "RunRow",
    "RunStatus",
    "Session",
    "StoreError",
    "UnknownIntent",
    "UnknownRun",
    "cached_catalogue",
    "can_transition",
    "catalogue_age",
    "catalogue_venue",
    "create_fresh",
    "create_intent",
    "current_revision",
    "decisions_for_run",
    "engine_from_settings",
    "fills",
    "fills_for_day",
    "fills_for_intent",
    "fills_kept",
    "finish_run",
    "get_cursor",
    "get_flag",
    "get_run",
    "halt",
    "halt_refusal",
    "halted",
    "head_revision",
    "intent_by_key",
    "intent_by_order_id",
    "intent_key_for",
    "intents_by_status",
    "intents_for_run",
    "is_halted",
    "is_unwind_key",
    "leg_risks_for_run",
    "load_catalogue",
    "make_engine",
    "masked_url",
    "open_intents",
    "open_leg_risks",
    "opportunities_for_run",
    "recent_runs",
    "record_decisions",
    "record_leg_risk",
    "record_opportunities",
    "refresh_state",
    "resolve_leg_risk",
    "resume",
    "save_catalogue",
    "save_catalogue_changes",
    "session_scope",
    "set_cursor",
    "set_flag",
    "set_signed",
    "start_run",
    "stored_market",
    "trade_status_advances",
    "update_intent",
    "upgrade",
    "upsert_fill",
]


def __getattr__(name: str) -> Any:
    """Import the module that owns ``name`` the first time it is asked for (PEP 562)."""
    owner = _OWNERS.get(name)
    if owner is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(owner), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_OWNERS))
