"""load_books spends the /books budget it is given, so scans in a row share one window."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from pm_lib.pipeline.context import RunContext
from pm_lib.pipeline.market_data import load_books, load_market_catalogue
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.venue.http import open_venue_client
from pm_lib.venue.ratelimit import RateLimiter
from tests.sim_data.conftest import frozen_venue
from tests.venue.conftest import FakeTime


@pytest.fixture
def served() -> Iterator[RunningVenue]:
    with running_venue(frozen_venue(enforce_rate_limits=False)) as rv:
        yield rv


def test_two_fetches_on_one_limiter_wait_for_its_window(
    served: RunningVenue, engine: Engine
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        gamma_url=served.gamma_url,
        clob_url=served.clob_url,
        books_batch_size=200,
        http_concurrency=1,
    )
    ctx = RunContext(settings=settings, engine=engine, run_id="r1", flow_name="test")
    clock = FakeTime()

    async def two_fetches() -> tuple[int, int]:
        async with open_venue_client(settings) as client:
            catalogue = (await load_market_catalogue(ctx, client)).catalogue
            chunks = -(-len(catalogue.token_ids) // 200)
            # Room for one fetch's chunks in a 10 s window, and no more.
            limiter = RateLimiter(chunks, 10.0, clock=clock.clock, sleep=clock.sleep)
            first = await load_books(ctx, client, catalogue, limiter=limiter)
            assert clock.sleeps == [], "the first fetch fits the window"
            second = await load_books(ctx, client, catalogue, limiter=limiter)
            return len(first.books), len(second.books)

    first, second = asyncio.run(two_fetches())

    assert first == second > 0
    assert clock.sleeps and sum(clock.sleeps) == pytest.approx(10.0), (
        "the second fetch waited for the first one's window to pass"
    )
