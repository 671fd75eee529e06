"""The real scan_and_trade flow, under a local Prefect API, against the emulator."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from flows.scan_and_trade import scan_and_trade
from pm_lib.sim.scenarios import plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue
from pm_lib.store.control import halt, resume
from pm_lib.store.engine import make_engine, session_scope
from pm_lib.store.orders import intents_for_run
from pm_lib.store.runs import get_run, recent_runs
from pm_lib.store.signals import decisions_for_run, opportunities_for_run

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_api", "planted")]


def _scan() -> dict[str, Any]:
    return asyncio.run(scan_and_trade(live=False))


async def _artifacts(flow_run_id: str) -> dict[str, Any]:
    async with get_client() as client:
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: a.data for a in artifacts if a.key}


def test_one_run_stores_opportunities_decisions_orders_and_artifacts(pm_env: Path) -> None:
    report = _scan()

    assert report["mode"] == "paper" and report["markets"] > 0 and report["books"] > 0
    assert any(o["strategy"] == "negrisk_arbitrage" for o in report["opportunities"])
    engine = make_engine(f"sqlite:///{pm_env}")
    with session_scope(engine, read_only=True) as session:
        run = get_run(session, report["run_id"])
        stored_opps = opportunities_for_run(session, report["run_id"])
        stored_decisions = decisions_for_run(session, report["run_id"])
        intents = intents_for_run(session, report["run_id"])
    assert run is not None and run.status == "completed" and run.flow_run_id
    assert {o.id for o in stored_opps} == {o["id"] for o in report["opportunities"]}
    assert len(stored_decisions) == len(report["decisions"])
    approved = [d for d in report["decisions"] if d["approved"]]
    assert approved and intents, "approved baskets become stored order intents"
    assert {i.intent_key for i in intents} == {o["intent_key"] for o in report["orders"]}
    assert all(i.flow_run_id == run.flow_run_id for i in intents), "rows carry the flow run id"
    artifacts = asyncio.run(_artifacts(run.flow_run_id))
    keys = set(artifacts)
    assert {"opportunities", "risk-decisions", "orders", "scan-summary", "account-status"} <= keys
    # markets are named, not hex ids: the orders table carries question, side, size and limit
    orders = str(artifacts["orders"])
    assert "0x" not in orders.split("intent_key")[0] and '"order": "BUY ' in orders
    assert " @ " in orders
    status = str(artifacts["account-status"])
    assert "equity" in status and "](https://polymarket.com/" in status


def test_halt_stops_the_next_run_and_resume_undoes_it(
    pm_env: Path, flow_venue: RunningVenue
) -> None:
    engine = make_engine(f"sqlite:///{pm_env}")
    _scan()  # creates the schema and a first run
    with session_scope(engine) as session:
        halt(session, "test halt", "pytest")

    halted = _scan()

    assert halted["halted"] is True
    assert halted["decisions"], "there were opportunities to refuse"
    assert all(not d["approved"] and d["rule"] == "kill_switch" for d in halted["decisions"])
    assert halted["orders"] == []
    with session_scope(engine) as session:
        resume(session, "test resume", "pytest")
    plant_negrisk_arbitrage(flow_venue.venue)  # fresh depth: the first run took the planted one

    resumed = _scan()

    assert resumed["halted"] is False
    assert any(d["approved"] for d in resumed["decisions"])


async def _progress(flow_run_id: str) -> list[float]:
    async with get_client() as client:
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return [float(a.data) for a in artifacts if a.type == "progress"]  # type: ignore[arg-type]


def _flow_run_id(pm_env: Path, report: dict[str, Any]) -> str:
    engine = make_engine(f"sqlite:///{pm_env}")
    with session_scope(engine, read_only=True) as session:
        run = get_run(session, report["run_id"])
    assert run is not None and run.flow_run_id
    return run.flow_run_id


def test_a_books_fetch_over_a_second_shows_a_progress_bar_that_ends_at_100(
    pm_env: Path, flow_venue: RunningVenue
) -> None:
    # ~300 tokens in chunks of 50, one at a time, each answered after 0.4 s: a ~2.4 s fetch.
    slow = flow_venue.venue.faults.add(kind="latency", path="^/books$", delay_seconds=0.4)
    try:
        report = asyncio.run(
            scan_and_trade(limits={"books_batch_size": "50", "http_concurrency": "1"})
        )
    finally:
        flow_venue.venue.faults.remove(slow.rule_id)
    assert report["books"] > 250
    assert asyncio.run(_progress(_flow_run_id(pm_env, report))) == [100.0]


def test_a_books_fetch_under_a_second_shows_no_progress_bar(pm_env: Path) -> None:
    report = _scan()
    assert asyncio.run(_progress(_flow_run_id(pm_env, report))) == []


@pytest.mark.usefixtures("books_down")
def test_a_run_whose_books_cannot_be_read_is_stored_as_failed_with_nothing_traded(
    pm_env: Path,
) -> None:
    with pytest.raises(Exception, match="503"):
        _scan()

    engine = make_engine(f"sqlite:///{pm_env}")
    with session_scope(engine, read_only=True) as session:
        runs = recent_runs(session, flow_name="scan-and-trade")
        assert len(runs) == 1 and runs[0].status == "failed"
        assert "503" in (runs[0].error or "") and "catalogue" in (runs[0].stage_timings or {})
        assert intents_for_run(session, runs[0].id) == []
