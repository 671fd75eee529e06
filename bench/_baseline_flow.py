"""The early plans' scan, kept only as the benchmark's reference point (never deployed).

What the first design sketches did for market data: one Prefect task per market, each asking
``GET /book?token_id=`` for its tokens one after the other, inside the documented ``/book``
budget (1500 per 10 s x ``PM_RATE_BUDGET_FRACTION``). Everything else is today's pipeline called
as plain functions (no task overhead there), so the baseline is, if anything, flattered: the
speed-up the benchmark reports comes from the market-data approach alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.runtime import open_run, store_engine
from flows.stages import publish_timed
from pm_lib.errors import RejectedByVenue
from pm_lib.models import Market, OrderBook
from pm_lib.pipeline.context import RunContext, StageClock, new_run_id
from pm_lib.pipeline.market_data import load_market_catalogue
from pm_lib.pipeline.scan import ScanVenue, run_scan
from pm_lib.reporting.tables import plain_decimal
from pm_lib.settings import Settings
from pm_lib.venue.books import BookBatch
from pm_lib.venue.http import RequestCounters, RetryPolicy, VenueReader, open_venue_client
from pm_lib.venue.ratelimit import RateLimiter
from pm_lib.venue.wire import parse_book

__all__ = ["prewarm_catalogue", "scan_baseline"]

BOOK_RATE_LIMIT_PER_10S = 1500  # GET /book, docs/VENUE.md 4.2


def prewarm_catalogue() -> None:
    """Store a fresh catalogue first, so the baseline run (like the warm scan) reads it."""
    settings = Settings()
    ctx = RunContext(
        settings=settings,
        engine=store_engine(settings),
        run_id=new_run_id(),
        flow_name="bench-prewarm",
    )

    async def load() -> None:
        async with open_venue_client(settings) as client:
            await load_market_catalogue(ctx, client)

    asyncio.run(load())


@task(name="market-books", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=0.5)
async def market_books_task(reader: VenueReader, clob_url: str, market: Market) -> list[OrderBook]:
    """The books of one market's tokens, one ``GET /book`` each, in turn."""
    books = []
    for token_id in market.token_ids:
        try:
            raw = await reader.get_json(f"{clob_url}/book", {"token_id": token_id})
        except RejectedByVenue:  # 404: no order book for this token
            continue
        books.append(parse_book(raw))
    return books


async def _books_one_market_at_a_time(
    ctx: RunContext, client: httpx.AsyncClient, markets: tuple[Market, ...]
) -> BookBatch:
    settings = ctx.settings
    reader = VenueReader(
        client,
        RateLimiter.for_budget(BOOK_RATE_LIMIT_PER_10S, settings.rate_budget_fraction),
        RetryPolicy.from_settings(settings),
        counters=RequestCounters(),
    )
    books: dict[str, OrderBook] = {}
    for market in markets:
        for book in await market_books_task(reader, settings.clob_url, market):
            books[book.token_id] = book
    wanted = [t for m in markets for t in m.token_ids]
    return BookBatch(
        books=books,
        missing=tuple(t for t in wanted if t not in books),
        requests=reader.counters.requests,
        retries=reader.counters.retries,
        rate_limited=reader.counters.rate_limited,
        fetched_at=ctx.now(),
    )


async def _baseline_stages(name: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """The one scan's stages as plain calls, except the books: one task per market."""
    if name == "books":
        ctx, client, catalogue, _limiter = args
        return await _books_one_market_at_a_time(ctx, client, catalogue.markets)
    return await fn(*args)


@flow(name="scan-baseline", timeout_seconds=3600, log_prints=False)
async def scan_baseline() -> dict[str, Any]:
    """The one scan (``run_scan``) with the early plans' books stage, then the usual artifacts."""
    ctx = open_run("scan-baseline")
    clock = StageClock()
    async with open_venue_client(ctx.settings) as client:
        outcome = await run_scan(ctx, ScanVenue(client), runner=_baseline_stages, clock=clock)
    await publish_timed(clock, outcome.report)
    out = outcome.report.to_json()
    out["stage_seconds"] = {stage: plain_decimal(s, 4) for stage, s in clock.seconds.items()}
    return out
