"""One scan of the product (``pm_lib.pipeline.run_scan``) without Prefect, with a pause point.

The pause (``before_execute``) lets a test line two runs up so that both have decided before
either places anything, the worst interleaving for double trading.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
from sqlalchemy import Engine

from pm_lib.models import Opportunity
from pm_lib.pipeline.context import RunContext, new_run_id
from pm_lib.pipeline.decisions import Signals
from pm_lib.pipeline.scan import ScanHooks, ScanOutcome, ScanVenue, StageRunner, call_stage
from pm_lib.pipeline.scan import run_scan as product_scan
from pm_lib.settings import Settings
from pm_lib.store import session_scope, start_run
from pm_lib.venue.http import open_venue_client

__all__ = ["ScanOutcome", "open_context", "run_scan"]


def open_context(settings: Settings, engine: Engine, *, live: bool) -> RunContext:
    """A run context with its run row stored (what ``flows.runtime.open_run`` does)."""
    ctx = RunContext(
        settings=settings,
        engine=engine,
        run_id=new_run_id(),
        flow_name="scan-and-trade",
        live_armed=live,
    )
    with session_scope(engine) as session:
        start_run(
            session,
            run_id=ctx.run_id,
            flow_name=ctx.flow_name,
            mode=ctx.mode,
            flow_run_id=None,
            started_at=ctx.started_at,
        )
    return ctx


def run_scan(
    ctx: RunContext,
    before_execute: Callable[[], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    keep: Callable[[Opportunity], bool] | None = None,
) -> ScanOutcome:
    """The product's scan, stages as plain calls; ``transport`` replaces the market-data
    client's (to tamper with what the venue sent); ``keep`` narrows what the strategies found
    (two runs with different strategies)."""
    runner: StageRunner = call_stage if keep is None else _keeping(keep)

    async def scan() -> ScanOutcome:
        async with open_venue_client(ctx.settings, transport) as client:
            return await product_scan(
                ctx,
                ScanVenue(client),
                runner=runner,
                hooks=ScanHooks(before_execute=before_execute),
            )

    return asyncio.run(scan())


def _keeping(keep: Callable[[Opportunity], bool]) -> StageRunner:
    """Plain calls, with the signals stage's opportunities filtered by ``keep``."""

    async def runner(name: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        result = await fn(*args)
        if name == "signals":
            assert isinstance(result, Signals)
            return replace(result, opportunities=tuple(filter(keep, result.opportunities)))
        return result

    return runner
