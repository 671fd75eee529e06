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
"""

from __future__ import annotations

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
    trade_status_advances,
    upsert_fill,
)

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
    "create_intent",
    "current_revision",
    "decisions_for_run",
    "engine_from_settings",
    "fills",
    "fills_for_day",
    "fills_for_intent",
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
