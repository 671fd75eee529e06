"""The record and backtest flows (Prefect): record the emulator, backtest it, artifacts out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.flows.conftest import flow_venue, planted, pm_env, prefect_api  # noqa: F401

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_api", "planted")]


def test_record_then_backtest_publishes_the_sweep_and_the_equity_curve(
    pm_env: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    from prefect.client.orchestration import get_client

    from flows.backtest import backtest
    from flows.record import record

    directory = tmp_path / "rec"
    recorded = asyncio.run(record(directory=str(directory), duration_seconds=0))
    assert recorded["markets"] and recorded["messages"]
    report = asyncio.run(
        backtest(recording=str(directory), strategies=["negrisk_arbitrage"], latency_ms="0,500")
    )
    sweep = report["sweep"]
    assert isinstance(sweep, list) and [r["latency_ms"] for r in sweep] == ["0", "500"]
    assert int(sweep[0]["filled"]) >= 1  # the planted basket
    assert (directory / "equity-0ms.svg").read_text().startswith("<svg")

    async def artifacts() -> set[str]:
        async with get_client() as client:
            found = await client.read_artifacts()
        return {a.key for a in found if a.key}

    assert {"backtest", "backtest-sweep"} <= asyncio.run(artifacts())
