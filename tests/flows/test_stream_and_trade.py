"""The real stream_and_trade flow, under a local Prefect API, against the emulator's channels."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from flows.stream_and_trade import stream_and_trade
from pm_lib.errors import ConfigurationError
from pm_lib.store.engine import make_engine, session_scope
from pm_lib.store.orders import intents_for_run
from pm_lib.store.runs import recent_runs

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_api", "planted")]


async def _latest_summary() -> str:
    async with get_client() as client:
        artifacts = await client.read_latest_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["stream-summary"]))
        )
    return str(artifacts[0].data)


def test_a_window_streams_trades_the_planted_basket_and_publishes_its_summary(
    pm_env: Path,
) -> None:
    summary = asyncio.run(stream_and_trade(duration_seconds=4, progress_every_seconds=1))
    assert summary["mode"] == "paper" and summary["connections"] >= 1
    assert summary["evaluations"] >= 1 and summary["orders"] >= 2
    loaded = summary["stream"]["snapshots"] + summary["stream"]["resynced_books"]
    assert loaded >= summary["tokens"] * 0.9  # first sight: the socket's snapshot + POST /books
    engine = make_engine(f"sqlite:///{pm_env}")
    with session_scope(engine, read_only=True) as session:
        runs = [r for r in recent_runs(session, 50) if r.flow_name == "stream-and-trade"]
        placed = [i for r in runs for i in intents_for_run(session, r.id)]
    assert runs and all(r.status == "completed" for r in runs)
    assert placed and all(i.status.value == "MATCHED" for i in placed)
    assert "Stream window" in asyncio.run(_latest_summary())


def test_a_cancel_mid_window_closes_the_sockets_and_the_run_rows(pm_env: Path) -> None:
    async def go() -> None:
        window = asyncio.create_task(stream_and_trade(duration_seconds=60))
        await asyncio.sleep(3)
        window.cancel()
        with pytest.raises((asyncio.CancelledError, BaseException)):
            await window

    asyncio.run(go())
    engine = make_engine(f"sqlite:///{pm_env}")
    with session_scope(engine, read_only=True) as session:
        runs = [r for r in recent_runs(session, 50) if r.flow_name == "stream-and-trade"]
    assert runs and all(r.status in ("completed", "failed") for r in runs)


def test_a_bad_window_is_refused(pm_env: Path) -> None:
    with pytest.raises(ConfigurationError, match="duration_seconds"):
        asyncio.run(stream_and_trade(duration_seconds=0))


def test_an_armed_live_window_trades_and_follows_its_fills_on_the_user_channel(
    pm_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PM_MODE", "live")
    monkeypatch.setenv("POLYMARKET_PRIVATE_KEY", "0x" + "45" * 32)  # a test key, auto-funded
    summary = asyncio.run(stream_and_trade(live=True, duration_seconds=5, progress_every_seconds=1))
    assert summary["mode"] == "live" and summary["orders"] >= 2
    user = summary["user_channel"]
    assert user is not None and user["trades"] >= 1 and user["refused"] == 0
