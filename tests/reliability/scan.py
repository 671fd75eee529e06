"""One scan_and_trade run through the Prefect-free pipeline, with a pause point before execute.

The stages are the ones ``flows/scan_and_trade.py`` runs as tasks, in the same order; the pause
(``before_execute``) lets a test line two runs up so that both have decided before either places
anything, the worst interleaving for double trading.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine

from pm_lib.pipeline.context import RunContext, StageClock, new_run_id
from pm_lib.pipeline.decisions import find_signals, portfolio_state, risk_decisions
from pm_lib.pipeline.market_data import CatalogueLoad, load_books, load_market_catalogue
from pm_lib.pipeline.records import finish_scan
from pm_lib.pipeline.report import ScanReport
from pm_lib.pipeline.trading import Execution, execute_approved
from pm_lib.settings import Settings
from pm_lib.store import session_scope, start_run
from pm_lib.venue.books import BookBatch
from pm_lib.venue.http import open_venue_client

__all__ = ["ScanOutcome", "open_context", "run_scan"]


@dataclass(frozen=True)
class ScanOutcome:
    """What one run loaded, decided and placed."""

    report: ScanReport
    execution: Execution
    loaded: CatalogueLoad
    books: BookBatch


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
) -> ScanOutcome:
    """Catalogue, books, portfolio, signals, risk, (pause), execute, record.

    ``transport`` replaces the market-data client's (to tamper with what the venue sent).
    """

    async def market_data() -> tuple[CatalogueLoad, BookBatch]:
        async with open_venue_client(ctx.settings, transport) as client:
            loaded = await load_market_catalogue(ctx, client)
            books = await load_books(ctx, client, loaded.catalogue)
        return loaded, books

    loaded, books = asyncio.run(market_data())
    portfolio = portfolio_state(ctx, books.books, loaded.catalogue)
    signals = find_signals(ctx, loaded.catalogue, books.books, portfolio)
    decided = risk_decisions(ctx, loaded.catalogue, books.books, portfolio, signals)
    if before_execute is not None:
        before_execute()
    execution = execute_approved(ctx, loaded.catalogue, books.books, decided)
    report = finish_scan(ctx, loaded, books, portfolio, decided, execution, StageClock())
    return ScanOutcome(report=report, execution=execution, loaded=loaded, books=books)
