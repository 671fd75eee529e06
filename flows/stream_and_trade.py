"""stream_and_trade: the event-driven job. One flow run streams books for a window and trades
the changes as they arrive; a schedule starts the next window.

    catalogue -> market channel (shards, local books, resync) -> for each change:
        the one scan (run_scan) over the changed markets -> orders

The books come from the venue's market channel (``pm_lib.stream``), verified by the venue's
hash and resynchronised through ``POST /books``; each evaluation is ``run_scan`` with the stream
as its books source, so the strategies, risk gate, slippage guard, executor and stored rows are
the polling scan's (each evaluation is its own pm-agent run). Paper unless ``live`` is armed as
for ``scan_and_trade``. The kill switch is read every 0.25 s (and by every scan and order).

A live run also follows the user channel (``pm_lib.stream.fills.UserStream``): its order and
trade events update the stored intents and fills as they happen (ghost fills included).

The window's evaluations share one SDK client (``pm_lib.execution.factory.ExecutorWindow``,
closed when the window ends or is cancelled) and a kept read of the account
(``pm_lib.stream.account``), re-read between evaluations after orders, fills or a kill-switch
flip; the budget claim before every opportunity still re-reads the committed account.
``PM_BASKET_POSTING=batch`` sends a basket's legs in one ``POST /orders``.

Artifacts per window: a progress bar (the window's elapsed share, with the stream's counters in
its description), the tables of each evaluation that placed orders, and a ``stream-summary``
markdown at the end. Cancelling the flow run closes the sockets, the open run rows and the
window's client (once an order in flight is stored); every evaluation's executor has already
closed (its heartbeats stop with it) and the strategies send FOK orders, which never rest.
"""

from __future__ import annotations

from flows.environment import apply_prefect_defaults

apply_prefect_defaults()

import asyncio  # noqa: E402
import contextlib  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import Any  # noqa: E402

from prefect import flow, get_run_logger  # noqa: E402
from prefect.artifacts import (  # noqa: E402
    acreate_markdown_artifact,
    acreate_progress_artifact,
    aupdate_progress_artifact,
)

from flows.runtime import next_run, open_run, read_fair_values  # noqa: E402
from flows.stages import publish_timed  # noqa: E402
from pm_lib.errors import ConfigurationError  # noqa: E402
from pm_lib.execution.factory import run_credentials  # noqa: E402
from pm_lib.pipeline.context import RunContext, StageClock  # noqa: E402
from pm_lib.pipeline.report import ScanReport  # noqa: E402
from pm_lib.pipeline.scan import ScanVenue, catalogue_stage  # noqa: E402
from pm_lib.store.engine import session_scope  # noqa: E402
from pm_lib.store.runs import finish_run  # noqa: E402
from pm_lib.stream.fills import UserStream  # noqa: E402
from pm_lib.stream.market import MarketStream, market_ws_url  # noqa: E402
from pm_lib.stream.trader import StreamTrader  # noqa: E402
from pm_lib.venue.http import open_venue_client  # noqa: E402
from pm_lib.venue.ratelimit import RateLimiter  # noqa: E402
from pm_lib.venue.trading import TradingClient, derive_api_credentials  # noqa: E402

__all__ = ["MAX_WINDOW_SECONDS", "stream_and_trade"]

MAX_WINDOW_SECONDS = 3300.0  # the flow's timeout is an hour


def _close_unused(ctx: RunContext) -> None:
    with session_scope(ctx.engine) as session:
        finish_run(
            session,
            ctx.run_id,
            status="completed",
            markets=0,
            books=0,
            opportunities=0,
            approved=0,
            orders=0,
            finished_at=ctx.now(),
        )


def _user_stream(ctx: RunContext) -> UserStream | None:
    """A live run's user channel (its fills and orders into the store as they happen)."""
    settings = ctx.settings
    credentials = run_credentials(settings, live_armed=ctx.live_armed)
    if credentials is None or ctx.mode != "live":
        return None
    if credentials.api is None:
        credentials = credentials.with_api(
            derive_api_credentials(settings.clob_url, settings.chain_id, credentials)
        )
    api = credentials.api
    assert api is not None
    client = TradingClient.connect(settings, credentials)
    return UserStream(
        market_ws_url(settings, "user"),
        client,
        api,
        ctx.engine,
        run_id=ctx.run_id,
        flow_run_id=ctx.flow_run_id,
    )


def _summary_markdown(summary: dict[str, Any]) -> str:
    lines = ["# Stream window", "", "| figure | value |", "|---|---|"]
    for key, value in summary.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
        lines.append(f"| {key} | {value} |")
    return "\n".join(lines)


@flow(name="stream-and-trade", timeout_seconds=3600, log_prints=False, persist_result=False)
async def stream_and_trade(
    live: bool = False,
    strategies: Sequence[str] | None = None,
    limits: dict[str, str] | None = None,
    duration_seconds: float = 540.0,
    progress_every_seconds: float = 15.0,
) -> dict[str, Any]:
    """Stream books for ``duration_seconds`` and trade the changes (paper unless live is armed).

    ``live``, ``strategies`` and ``limits`` are ``scan_and_trade``'s.
    """
    if not 0 < duration_seconds <= MAX_WINDOW_SECONDS:
        raise ConfigurationError(
            f"duration_seconds must be in (0, {MAX_WINDOW_SECONDS:.0f}], got {duration_seconds}"
        )
    logger = get_run_logger()
    ctx = open_run("stream-and-trade", live=live, strategies=strategies, limits=limits)
    settings = ctx.settings
    fair_values = await read_fair_values(settings)
    limiter = RateLimiter.for_budget(
        settings.books_rate_limit_per_10s, settings.rate_budget_fraction
    )
    started = time.monotonic()
    deadline = started + duration_seconds
    to_publish: list[tuple[StageClock, ScanReport]] = []

    def on_evaluation(report: ScanReport, clock: StageClock) -> None:
        if report.summary.orders:
            to_publish.append((clock, report))

    async with open_venue_client(settings) as client:
        venue = ScanVenue(client, books_limiter=limiter)
        loaded = await catalogue_stage(ctx, client, None)
        venue.catalogue = loaded.catalogue
        tokens = loaded.catalogue.token_ids
        stream = MarketStream(settings, client, tokens, limiter=limiter)
        trader = StreamTrader(
            ctx, stream, venue, next_run, fair_values=fair_values, on_evaluation=on_evaluation
        )
        logger.info(
            "stream: mode %s, %d tokens over %d connections, for %.0f s",
            ctx.mode,
            len(tokens),
            len(stream.shards),
            duration_seconds,
        )
        user = _user_stream(ctx)
        if user is not None:
            user.on_change = trader.account.changed  # fills and orders: read the account again
        stream_task = asyncio.create_task(stream.run(), name="market-stream")
        jobs = [stream_task]
        if user is not None:
            jobs.append(asyncio.create_task(user.run(), name="user-stream"))
        trade_task = asyncio.create_task(trader.run(deadline), name="stream-trader")
        bar = await acreate_progress_artifact(0.0, description="stream window")
        try:
            while not trade_task.done():
                await asyncio.wait({trade_task, stream_task}, timeout=progress_every_seconds)
                if stream_task.done():
                    stream_task.result()  # a stream that died raises here
                while to_publish:
                    await publish_timed(*to_publish.pop(0))
                share = min(100.0, 100 * (time.monotonic() - started) / duration_seconds)
                await aupdate_progress_artifact(bar, share)
            report = trade_task.result()
        finally:
            for job in (trade_task, *jobs):
                job.cancel()
            for job in (trade_task, *jobs):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await job
            if trader.opened_run_unused:
                _close_unused(ctx)
        while to_publish:
            await publish_timed(*to_publish.pop(0))
    summary: dict[str, Any] = {
        "mode": ctx.mode,
        "tokens": len(tokens),
        "connections": len(stream.shards),
        "seconds": round(time.monotonic() - started, 3),
        **report.as_dict(),
        "stream": stream.books.counters.as_dict(),
        "user_channel": user.counters.__dict__ if user is not None else None,
    }
    await acreate_markdown_artifact(
        _summary_markdown(summary), key="stream-summary", description="Stream window summary"
    )
    logger.info(
        "stream window: %d evaluations, %d orders",
        report.evaluations,
        report.orders,
    )
    return summary
