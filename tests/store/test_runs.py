"""Runs are opened, closed with their counts, and listed newest first."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from pm_lib.store.engine import session_scope
from pm_lib.store.errors import UnknownRun
from pm_lib.store.runs import finish_run, get_run, recent_runs, start_run
from tests.store.samples import NOW


def _start(engine: Engine, run_id: str = "run-1", minutes: int = 0) -> None:
    with session_scope(engine) as session:
        start_run(
            session,
            run_id=run_id,
            flow_name="scan_and_trade",
            mode="paper",
            flow_run_id="flow-run-1",
            started_at=NOW + timedelta(minutes=minutes),
        )


def test_started_run_is_running(engine: Engine) -> None:
    _start(engine)
    with session_scope(engine) as session:
        run = get_run(session, "run-1")
    assert run is not None
    assert (run.status, run.mode, run.flow_run_id, run.started_at) == (
        "running",
        "paper",
        "flow-run-1",
        NOW,
    )


def test_starting_a_run_twice_keeps_one_row(engine: Engine) -> None:
    _start(engine)
    _start(engine, minutes=5)
    with session_scope(engine) as session:
        runs = recent_runs(session)
    assert [(r.id, r.started_at) for r in runs] == [("run-1", NOW)]


def test_finished_run_keeps_counts_and_timings(engine: Engine) -> None:
    _start(engine)
    with session_scope(engine) as session:
        finish_run(
            session,
            "run-1",
            status="completed",
            finished_at=NOW + timedelta(seconds=42),
            markets=50_000,
            books=100_000,
            opportunities=7,
            approved=3,
            orders=6,
            stage_timings={"catalogue": 1.5, "books": 30.25},
        )
    with session_scope(engine) as session:
        run = get_run(session, "run-1")
    assert run is not None
    assert (run.status, run.markets, run.books, run.opportunities, run.approved, run.orders) == (
        "completed",
        50_000,
        100_000,
        7,
        3,
        6,
    )
    assert run.stage_timings == {"catalogue": 1.5, "books": 30.25}
    assert run.finished_at == NOW + timedelta(seconds=42)


def test_failed_run_keeps_its_error(engine: Engine) -> None:
    _start(engine)
    with session_scope(engine) as session:
        run = finish_run(session, "run-1", status="failed", finished_at=NOW, error="Gamma down")
    assert (run.status, run.error) == ("failed", "Gamma down")


def test_finishing_an_unknown_run_is_an_error(engine: Engine) -> None:
    with pytest.raises(UnknownRun), session_scope(engine) as session:
        finish_run(session, "nope", status="completed", finished_at=NOW)


def test_recent_runs_are_newest_first(engine: Engine) -> None:
    for n in range(3):
        _start(engine, f"run-{n}", minutes=n)
    with session_scope(engine) as session:
        assert [r.id for r in recent_runs(session, limit=2)] == ["run-2", "run-1"]


def test_decimal_stage_timings_are_stored_as_strings(engine: Engine) -> None:
    _start(engine)
    with session_scope(engine) as session:
        run = finish_run(
            session,
            "run-1",
            status="completed",
            finished_at=NOW,
            stage_timings={"books": Decimal("1.250")},
        )
    assert run.stage_timings == {"books": "1.250"}
