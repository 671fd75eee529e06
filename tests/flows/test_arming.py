"""Mode and arming are checked when a run starts: a misconfigured run refuses before it scans.

A scheduled deployment whose mode and arming disagree (``PM_MODE=live`` without ``--live``,
``live=True`` in paper mode), or whose credentials are missing or broken, fails its first run
with a one-line ``ConfigurationError`` naming what to fix: nothing is fetched, no run row is
stored, and configuration errors are never retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect import flow
from prefect.client.orchestration import get_client

from flows.reconcile import reconcile, reconcile_task
from flows.runtime import run_settings, store_engine
from flows.scan_and_trade import scan_and_trade
from flows.scan_loop import scan_loop
from flows.settle import settle
from pm_lib.errors import ConfigurationError
from pm_lib.execution.factory import ARMED_IN_PAPER_MODE, LIVE_NOT_ARMED
from pm_lib.pipeline.context import RunContext, new_run_id
from pm_lib.sim.server import RunningVenue
from pm_lib.store.engine import make_engine, session_scope, upgrade
from pm_lib.store.runs import recent_runs

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_api", "planted")]

TEST_KEY = "0x" + "44" * 32

FLOWS: dict[str, Callable[[bool], Coroutine[Any, Any, Any]]] = {
    "scan-and-trade": lambda live: scan_and_trade(live=live),
    "scan-loop": lambda live: scan_loop(live=live, max_scans=3, interval_seconds=0.0),
    "reconcile": lambda live: reconcile(live=live),
    "settle": lambda live: settle(live=live),
}


def _stored_runs(db: Path) -> list[Any]:
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)  # a run refused before the store was opened left no tables
    with session_scope(engine, read_only=True) as session:
        return list(recent_runs(session))


@pytest.mark.parametrize("name", FLOWS)
@pytest.mark.parametrize(
    ("mode", "live", "refusal"),
    [("live", False, LIVE_NOT_ARMED), ("paper", True, ARMED_IN_PAPER_MODE)],
    ids=["live-mode-unarmed", "armed-in-paper-mode"],
)
def test_a_run_whose_mode_and_arming_disagree_refuses_before_it_scans(
    pm_env: Path,
    flow_venue: RunningVenue,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    mode: str,
    live: bool,
    refusal: str,
) -> None:
    monkeypatch.setenv("PM_MODE", mode)
    monkeypatch.setenv("POLYMARKET_PRIVATE_KEY", TEST_KEY)  # only the arming is wrong
    before = flow_venue.venue.stats.snapshot()

    with pytest.raises(ConfigurationError) as refused:
        asyncio.run(FLOWS[name](live))

    assert str(refused.value) == refusal
    assert flow_venue.venue.stats.snapshot() == before, "nothing was fetched"
    assert _stored_runs(pm_env) == [], "no run was started"


@pytest.mark.parametrize("name", FLOWS)
def test_an_armed_run_with_a_broken_credential_refuses_before_it_scans(
    pm_env: Path, flow_venue: RunningVenue, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("PM_MODE", "live")
    monkeypatch.setenv("POLYMARKET_PRIVATE_KEY", TEST_KEY)
    monkeypatch.setenv("POLYMARKET_API_KEY", "arming-api-key-1c9d")
    monkeypatch.setenv("POLYMARKET_SECRET", "YXJtaW5nLXNlY3JldA==")
    monkeypatch.setenv("POLYMARKET_PASSPHRASE", "arming-pass\nphrase-77e0")
    before = flow_venue.venue.stats.snapshot()

    with pytest.raises(ConfigurationError) as refused:
        asyncio.run(FLOWS[name](True))

    message = str(refused.value)
    assert "POLYMARKET_PASSPHRASE" in message and "\n" not in message
    assert "arming-pass" not in message and "phrase-77e0" not in message
    assert flow_venue.venue.stats.snapshot() == before
    assert _stored_runs(pm_env) == []


async def _run_count(task_run_id: UUID) -> int:
    """The task run's attempts, once the server has recorded its final state."""
    async with get_client() as client:
        for _ in range(100):
            task_run = await client.read_task_run(task_run_id)
            if task_run.state is not None and task_run.state.is_final():
                return task_run.run_count
            await asyncio.sleep(0.1)
    raise AssertionError("the task run never reached a final state")


def test_a_configuration_error_in_the_reconcile_task_is_not_retried(
    pm_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PM_MODE", "live")
    settings = run_settings()

    @flow(name="misarmed-reconcile")
    def misarmed() -> tuple[UUID | None, BaseException]:
        # A context the run's start would have refused: live settings, not armed.
        ctx = RunContext(
            settings=settings,
            engine=store_engine(settings),
            run_id=new_run_id(),
            flow_name="reconcile",
            live_armed=False,
        )
        state = reconcile_task(ctx, return_state=True)
        return state.state_details.task_run_id, state.result(raise_on_failure=False)

    task_run_id, error = misarmed()

    assert isinstance(error, ConfigurationError) and "not armed" in str(error)
    assert task_run_id is not None
    assert asyncio.run(_run_count(task_run_id)) == 1, "tried once, never retried"


def test_the_reconcile_task_adds_no_retries_to_the_adapters() -> None:
    """Reads retry once, at the adapter (``RetryPolicy``); Prefect does not retry on top."""
    assert reconcile_task.retries == 0
