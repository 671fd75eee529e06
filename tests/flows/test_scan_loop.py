"""The real scan_loop flow, under a local Prefect API, against the emulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
)
from typer.testing import CliRunner

from flows.scan_loop import scan_loop
from pm_lib.cli import app
from pm_lib.errors import ConfigurationError
from pm_lib.sim.server import RunningVenue
from pm_lib.store.engine import make_engine, session_scope
from pm_lib.store.orders import intents_for_run
from pm_lib.store.runs import recent_runs

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_api", "planted")]


def _loop(**parameters: Any) -> dict[str, Any]:
    return asyncio.run(scan_loop(**{"interval_seconds": 0.0, **parameters}))


async def _task_run_names(flow_run_id: str, expected: int) -> list[str]:
    """The flow run's task-run names, once the server has recorded ``expected`` of them (it
    records them from events, a moment after they ran)."""
    flow_runs = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)]))
    names: list[str] = []
    async with get_client() as client:
        for _ in range(100):
            runs = await client.read_task_runs(flow_run_filter=flow_runs)
            names = sorted(r.name for r in runs)
            if len(names) >= expected:
                break
            await asyncio.sleep(0.1)
    return names


async def _latest_summary() -> str:
    async with get_client() as client:
        artifacts = await client.read_latest_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["scan-summary"]))
        )
    return str(artifacts[0].data)


def test_each_scan_is_its_own_run_in_one_flow_run_and_gamma_is_listed_once(
    pm_env: Path, flow_venue: RunningVenue
) -> None:
    flow_venue.venue.stats.clear()

    out = _loop(max_scans=3)

    assert out["scans"] == 3 and len({r["run_id"] for r in out["runs"]}) == 3
    assert all(r["markets"] > 0 and r["books"] > 0 for r in out["runs"])
    engine = make_engine(f"sqlite:///{pm_env}")
    with session_scope(engine, read_only=True) as session:
        runs = recent_runs(session, flow_name="scan-loop")
        intents = [i for r in runs for i in intents_for_run(session, r.id)]
    assert {r.id for r in runs} == {r["run_id"] for r in out["runs"]}
    assert all(r.status == "completed" for r in runs)
    assert len({r.flow_run_id for r in runs}) == 1 and runs[0].flow_run_id
    assert out["orders"] == len(intents) > 0, "the planted basket was traded"
    assert len({i.intent_key for i in intents}) == len(intents), "no order placed twice"
    assert sum(r["orders"] > 0 for r in out["runs"]) == 1, "later scans do not re-buy the basket"
    # The first scan lists the catalogue (an empty cache); the others reuse the one it holds.
    assert [r["catalogue_refresh"] for r in out["runs"]] == ["full", "none", "none"]
    assert out["runs"][-1]["run_id"] in asyncio.run(_latest_summary())
    # One task run a scan (its stages inline); the artifacts are the flow run's own (no task
    # run publishes them).
    names = asyncio.run(_task_run_names(str(runs[0].flow_run_id), 3))
    assert names == ["scan-1", "scan-2", "scan-3"]


def test_a_loop_on_a_fresh_cache_sends_only_books_requests(
    pm_env: Path, flow_venue: RunningVenue
) -> None:
    _loop(max_scans=1)  # fills the cache
    flow_venue.venue.stats.clear()

    _loop(max_scans=4)

    requests = flow_venue.venue.stats.snapshot()["requests"]
    assert not [k for k in requests if "/gamma" in k], "a fresh cache: no Gamma request"
    assert requests["POST /books"] == 4, "one /books chunk a scan (under 500 tokens)"


async def _progress_artifacts(flow_run_id: str) -> int:
    flow_runs = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(flow_run_id)]))
    async with get_client() as client:
        artifacts = await client.read_artifacts(artifact_filter=flow_runs)
    return sum(a.type == "progress" for a in artifacts)


def _loop_runs(pm_env: Path) -> list[Any]:
    engine = make_engine(f"sqlite:///{pm_env}")
    with session_scope(engine, read_only=True) as session:
        return list(recent_runs(session, flow_name="scan-loop"))


def test_a_slow_books_fetch_in_a_loop_makes_no_progress_bar(
    pm_env: Path, flow_venue: RunningVenue
) -> None:
    # ~2.4 s a fetch (as in the scan_and_trade progress test): a flow run of its own shows a
    # bar; inside the loop each scan would add a new artifact, so none is made.
    slow = flow_venue.venue.faults.add(kind="latency", path="^/books$", delay_seconds=0.4)
    try:
        out = _loop(max_scans=2, limits={"books_batch_size": "50", "http_concurrency": "1"})
    finally:
        flow_venue.venue.faults.remove(slow.rule_id)

    assert out["scans"] == 2 and all(r["books"] > 250 for r in out["runs"])
    flow_run_id = _loop_runs(pm_env)[0].flow_run_id
    assert flow_run_id and asyncio.run(_progress_artifacts(str(flow_run_id))) == 0


@pytest.mark.usefixtures("books_down")
def test_a_venue_that_keeps_failing_fails_the_loop_and_trades_nothing(pm_env: Path) -> None:
    with pytest.raises(Exception, match="503"):
        _loop(max_scans=3)

    runs = _loop_runs(pm_env)
    assert len(runs) == 1, "the first scan failed; no more ran"
    assert runs[0].status == "failed" and "503" in (runs[0].error or "")
    engine = make_engine(f"sqlite:///{pm_env}")
    with session_scope(engine, read_only=True) as session:
        assert intents_for_run(session, runs[0].id) == []


def test_bad_parameters_fail_the_flow_before_any_run_is_stored(pm_env: Path) -> None:
    _loop(max_scans=1)
    with pytest.raises(ConfigurationError, match="duration_seconds"):
        _loop(duration_seconds=0)
    engine = make_engine(f"sqlite:///{pm_env}")
    with session_scope(engine, read_only=True) as session:
        assert len(recent_runs(session, flow_name="scan-loop")) == 1


def test_the_scan_loop_command_runs_the_flow_and_prints_its_scans(pm_env: Path) -> None:
    done = CliRunner().invoke(
        app, ["scan-loop", "--max-scans", "2", "--interval", "0", "--duration", "60", "--json"]
    )

    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    assert out["scans"] == 2 and [r["catalogue_refresh"] for r in out["runs"]] == ["full", "none"]


def test_the_scan_loop_command_refuses_a_live_run_that_is_not_configured(pm_env: Path) -> None:
    done = CliRunner().invoke(app, ["scan-loop", "--max-scans", "1", "--live"])

    assert done.exit_code == 2 and "refused" in done.output
