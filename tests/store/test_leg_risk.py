"""Leg risks are recorded open and resolved; sync cursors are read back as written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from pm_lib.store.engine import session_scope
from pm_lib.store.leg_risk import (
    get_cursor,
    leg_risks_for_run,
    open_leg_risks,
    record_leg_risk,
    resolve_leg_risk,
    set_cursor,
)
from pm_lib.store.rows import LegRiskRow
from tests.store.samples import NOW


def _record(engine: Engine) -> LegRiskRow:
    with session_scope(engine) as session:
        return record_leg_risk(
            session,
            run_id="run-1",
            opportunity_id="opp-1",
            intent_key="run-1:opp-1:0",
            policy="sell_back",
            detail="leg 1 rejected after leg 0 filled",
            created_at=NOW,
        )


def test_recorded_leg_risk_is_open(engine: Engine) -> None:
    recorded = _record(engine)
    with session_scope(engine) as session:
        assert open_leg_risks(session) == [recorded]


def test_resolved_leg_risk_is_no_longer_open(engine: Engine) -> None:
    recorded = _record(engine)
    with session_scope(engine) as session:
        resolve_leg_risk(
            session,
            recorded.id,
            status="unwound",
            detail="sold back at 0.47",
            resolved_at=NOW + timedelta(seconds=3),
        )
    with session_scope(engine) as session:
        assert open_leg_risks(session) == []
        (resolved,) = leg_risks_for_run(session, "run-1")
    assert (resolved.status, resolved.resolved_at) == ("unwound", NOW + timedelta(seconds=3))


def test_leg_risk_cannot_be_resolved_as_open(engine: Engine) -> None:
    recorded = _record(engine)
    with pytest.raises(ValueError, match="open"), session_scope(engine) as session:
        resolve_leg_risk(session, recorded.id, status="open", detail="", resolved_at=NOW)


def test_cursor_is_unset_at_first(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert get_cursor(session, "trades:live") is None


def test_cursor_keeps_the_last_value_written(engine: Engine) -> None:
    with session_scope(engine) as session:
        set_cursor(session, "trades:live", "MTAw", at=NOW)
    with session_scope(engine) as session:
        set_cursor(session, "trades:live", "MjAw", at=NOW)
    with session_scope(engine) as session:
        assert get_cursor(session, "trades:live") == "MjAw"
