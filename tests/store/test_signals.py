"""Opportunities and risk decisions are stored exactly, once per run and opportunity."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from pm_lib.models import SkippedItem
from pm_lib.store.engine import session_scope
from pm_lib.store.runs import start_run
from pm_lib.store.signals import (
    basket_refusals,
    decisions_for_run,
    opportunities_for_run,
    record_decisions,
    record_opportunities,
    record_refusals,
)
from tests.store.samples import NOW, decision, opportunity


@pytest.fixture
def run_id(engine: Engine) -> str:
    with session_scope(engine) as session:
        start_run(
            session,
            run_id="run-1",
            flow_name="scan_and_trade",
            mode="paper",
            flow_run_id=None,
            started_at=NOW,
        )
    return "run-1"


def test_opportunities_round_trip_exactly(engine: Engine, run_id: str) -> None:
    stored = [opportunity("opp-1"), opportunity("opp-2")]
    with session_scope(engine) as session:
        record_opportunities(session, run_id, "flow-run-1", stored)
    with session_scope(engine) as session:
        assert opportunities_for_run(session, run_id) == stored


def test_leg_decimals_keep_every_digit(engine: Engine, run_id: str) -> None:
    with session_scope(engine) as session:
        record_opportunities(session, run_id, None, [opportunity()])
    with session_scope(engine) as session:
        (loaded,) = opportunities_for_run(session, run_id)
    assert str(loaded.legs[0].expected_vwap) == "0.4812345678901234"


def test_recording_an_opportunity_twice_keeps_one(engine: Engine, run_id: str) -> None:
    with session_scope(engine) as session:
        record_opportunities(session, run_id, None, [opportunity()])
    with session_scope(engine) as session:
        record_opportunities(session, run_id, None, [opportunity(), opportunity("opp-2")])
    with session_scope(engine) as session:
        assert [o.id for o in opportunities_for_run(session, run_id)] == ["opp-1", "opp-2"]


def test_opportunity_of_an_unknown_run_is_refused(engine: Engine) -> None:
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        record_opportunities(session, "no-such-run", None, [opportunity()])


def test_decisions_round_trip(engine: Engine, run_id: str) -> None:
    stored = [decision("opp-1"), decision("opp-2", approved=False)]
    with session_scope(engine) as session:
        record_decisions(session, run_id, "flow-run-1", stored)
    with session_scope(engine) as session:
        assert decisions_for_run(session, run_id) == stored


def test_recording_a_decision_twice_keeps_the_first(engine: Engine, run_id: str) -> None:
    with session_scope(engine) as session:
        record_decisions(session, run_id, None, [decision(approved=True)])
    with session_scope(engine) as session:
        record_decisions(session, run_id, None, [decision(approved=False)])
    with session_scope(engine) as session:
        assert [d.approved for d in decisions_for_run(session, run_id)] == [True]


def test_a_basket_refused_every_scan_is_one_row_with_its_latest_reason(engine: Engine) -> None:
    first = SkippedItem(kind="refused_basket", ident="ev-1", reason="negrisk: no book for t1")
    later = SkippedItem(kind="refused_basket", ident="ev-1", reason="negrisk: incomplete set")
    with session_scope(engine) as session:
        record_refusals(session, "paper", "run-1", [first], NOW)
    with session_scope(engine) as session:
        record_refusals(session, "paper", "run-2", [later, later], NOW + timedelta(seconds=5))
    with session_scope(engine) as session:
        (row,) = basket_refusals(session, "paper")
        assert basket_refusals(session, "live") == []
    assert row["reason"] == later.reason and row["times"] == 2 and row["last_run_id"] == "run-2"
    assert row["first_seen_at"] == NOW and row["last_seen_at"] == NOW + timedelta(seconds=5)
