"""The early plans' scan, kept only as the benchmark's reference point (never deployed).

What the first design sketches did for market data: one Prefect task per market, each asking
``GET /book?token_id=`` for its tokens one after the other, inside the documented ``/book``
budget (1500 per 10 s x ``PM_RATE_BUDGET_FRACTION``). Everything else is today's pipeline called
as plain functions (no task overhead there), so the baseline is, if anything, flattered: the
speed-up the benchmark reports comes from the market-data approach alone.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.runtime import open_run, store_engine
from flows.scan_and_trade import publish_task
from pm_lib.models import Market, OrderBook
from pm_lib.pipeline.context import RunContext, StageClock, new_run_id
from pm_lib.pipeline.decisions import find_signals, portfolio_state, risk_decisions
from pm_lib.pipeline.market_data import load_market_catalogue
from pm_lib.pipeline.records import finish_scan
from pm_lib.pipeline.trading import execute_approved
from pm_lib.reporting.tables import plain_decimal
from pm_lib.settings import Settings
from pm_lib.venue.books import BookBatch
from pm_lib.venue.errors import RejectedByVenue
from pm_lib.venue.http import RequestCounters, RetryPolicy, VenueReader, open_venue_client
from pm_lib.venue.ratelimit import RateLimiter
from pm_lib.venue.wire import parse_book

__all__ = ["prewarm_catalogue", "scan_baseline"]

BOOK_RATE_LIMIT_PER_10S = 1500  # GET /book, VENUE-FACTS 4.2


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


def _timed(clock: StageClock, stage: str, started: float) -> float:
    now = time.perf_counter()
    clock.record(stage, started, now)
    return now


@flow(name="scan-baseline", timeout_seconds=3600, log_prints=False)
async def scan_baseline() -> dict[str, Any]:
    """Catalogue, then one task per market for its books, then the usual stages."""
    ctx = open_run("scan-baseline")
    clock = StageClock()
    t = time.perf_counter()
    async with open_venue_client(ctx.settings) as client:
        loaded = await load_market_catalogue(ctx, client)
        t = _timed(clock, "catalogue", t)
        books = await _books_one_market_at_a_time(ctx, client, loaded.catalogue.markets)
        t = _timed(clock, "books", t)
    portfolio = portfolio_state(ctx, books.books, loaded.catalogue)
    signals = find_signals(ctx, loaded.catalogue, books.books, portfolio, None)
    t = _timed(clock, "signals", t)
    decided = risk_decisions(ctx, loaded.catalogue, books.books, portfolio, signals)
    t = _timed(clock, "risk", t)
    execution = execute_approved(ctx, loaded.catalogue, books.books, decided)
    t = _timed(clock, "execute", t)
    report = finish_scan(ctx, loaded, books, portfolio, decided, execution, clock)
    t = _timed(clock, "store", t)
    await publish_task(report)
    _timed(clock, "artifacts", t)
    out = report.to_json()
    out["stage_seconds"] = {stage: plain_decimal(s, 4) for stage, s in clock.seconds.items()}
    return out
