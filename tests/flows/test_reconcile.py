"""The reconcile flow's run row: closed as completed, or as failed with the error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from flows.reconcile import reconcile
from pm_lib.sim.server import RunningVenue
from pm_lib.store.engine import make_engine, session_scope
from pm_lib.store.runs import recent_runs

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_api")]

TEST_KEY = "0x" + "44" * 32


def test_a_paper_reconcile_closes_its_run_as_completed(pm_env: Path) -> None:
    asyncio.run(reconcile())

    with session_scope(make_engine(f"sqlite:///{pm_env}"), read_only=True) as session:
        runs = recent_runs(session, flow_name="reconcile")
    assert [r.status for r in runs] == ["completed"]


def test_a_reconcile_that_fails_marks_its_run_failed_with_the_error(
    pm_env: Path, flow_venue: RunningVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PM_MODE", "live")
    monkeypatch.setenv("POLYMARKET_PRIVATE_KEY", TEST_KEY)
    down = flow_venue.venue.faults.add(kind="error", path="/data/.*", status=503)
    try:
        with pytest.raises(Exception, match="503"):
            asyncio.run(reconcile(live=True))
    finally:
        flow_venue.venue.faults.remove(down.rule_id)

    with session_scope(make_engine(f"sqlite:///{pm_env}"), read_only=True) as session:
        runs = recent_runs(session, flow_name="reconcile")
    assert len(runs) == 1 and runs[0].status == "failed"
    assert runs[0].finished_at is not None and "503" in (runs[0].error or "")
