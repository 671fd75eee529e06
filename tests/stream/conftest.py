"""Stream tests: an emulator with still background books (changes come from the test), and
pm-agent settings pointed at it. Everything goes through the real protocol (no mocked socket)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.stream.market import MarketStream
from pm_lib.stream.shard import ShardTiming
from pm_lib.venue.http import open_venue_client
from tests.execution.conftest import (  # noqa: F401  (the live fixtures, found by name)
    credentials,
    engine,
    live_settings,
    running,
    venue,
)


@pytest.fixture
def stream_venue() -> Iterator[RunningVenue]:
    sim = SimVenue(SimConfig(seed=5, markets=60, enforce_rate_limits=False, book_epoch_seconds=0))
    with running_venue(sim) as served:
        yield served


def stream_settings(served: RunningVenue, tmp_path: Path, **extra: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        clob_url=served.clob_url,
        gamma_url=served.gamma_url,
        database_url=f"sqlite:///{tmp_path / 'pm_agent.db'}",
        data_dir=tmp_path,
        strategies=["negrisk_arbitrage"],
        paper_balance="10000",
        **extra,
    )


FAST = ShardTiming(
    ping_seconds=0.3, stale_seconds=1.0, backoff_seconds=0.05, backoff_max_seconds=0.5
)


@contextlib.asynccontextmanager
async def streaming(
    settings: Settings, tokens: list[str], timing: ShardTiming = FAST
) -> AsyncIterator[tuple[MarketStream, httpx.AsyncClient]]:
    async with open_venue_client(settings) as client:
        stream = MarketStream(settings, client, tokens, timing=timing, resync_interval=0.05)
        task = asyncio.create_task(stream.run())
        try:
            assert await stream.wait_ready(10), "no snapshot arrived"
            yield stream, client
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
