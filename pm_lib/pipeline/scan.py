"""The scan: the one place that says which stage runs after which.

    catalogue -> books -> portfolio -> signals -> risk -> execute -> store

``run_scan`` is called by both flows (``scan_and_trade`` with each stage a Prefect task run,
``scan_loop`` with one task run a scan and the stages as plain calls), by the tests, the chaos
campaign and the benchmarks, so every piece of evidence is gathered on the product's own scan.
How a stage is called is the ``StageRunner``'s business: ``call_stage`` awaits the plain
function, the flows' runner wraps it in a Prefect task. A stage that raises closes the run row
as failed, with the error and the stages that finished, before the error goes on.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TypeVar

import httpx

from pm_lib.execution.base import run_off_loop
from pm_lib.models import Catalogue, PortfolioState
from pm_lib.pipeline.context import RunContext, StageClock
from pm_lib.pipeline.decisions import Signals, find_signals, portfolio_state, risk_decisions
from pm_lib.pipeline.market_data import CatalogueLoad, load_books, load_market_catalogue
from pm_lib.pipeline.records import fail_run, finish_scan
from pm_lib.pipeline.report import ScanReport
from pm_lib.pipeline.trading import Execution, execute_approved
from pm_lib.venue.books import BookBatch
from pm_lib.venue.ratelimit import RateLimiter

__all__ = [
    "STAGES",
    "BooksSource",
    "PortfolioSource",
    "ScanHooks",
    "ScanOutcome",
    "ScanVenue",
    "StageRunner",
    "call_stage",
    "catalogue_stage",
    "execute_stage",
    "fetch_books_stage",
    "portfolio_stage",
    "risk_stage",
    "run_scan",
    "signals_stage",
    "source_books_stage",
    "source_portfolio_stage",
]

_R = TypeVar("_R")

STAGES = ("catalogue", "books", "portfolio", "signals", "risk", "execute", "store")
"""The stage names, in order (``portfolio`` is timed with ``signals``)."""


@dataclass
class ScanVenue:
    """What consecutive scans share: the venue client, the /books rate budget and the catalogue
    the last scan used (the next scan reuses it while it is fresh)."""

    client: httpx.AsyncClient
    books_limiter: RateLimiter | None = None
    catalogue: Catalogue | None = None


@dataclass(frozen=True)
class ScanHooks:
    """Optional calls into a scan: ``before_execute`` runs after the risk gate decided and
    before anything is sent (a test lines two runs up there; a chaos worker is killed there)."""

    before_execute: Callable[[], None] | None = None


@dataclass(frozen=True)
class ScanOutcome:
    """What one scan loaded, decided and placed. ``report`` is what the flows keep; the rest is
    for tests and the campaigns (holding an outcome keeps the scan's books alive)."""

    report: ScanReport
    execution: Execution
    loaded: CatalogueLoad
    books: BookBatch = field(repr=False)


class BooksSource(Protocol):
    """Books a scan takes instead of fetching every token's through POST /books (the stream's,
    ``pm_lib.stream.view``): ``focus`` narrows the catalogue to the markets worth evaluating
    again, ``books`` returns the books of those markets that can be traded."""

    def focus(self, catalogue: Catalogue) -> Catalogue: ...

    async def books(self, ctx: RunContext, catalogue: Catalogue) -> BookBatch: ...


class PortfolioSource(Protocol):
    """The account a scan takes instead of reading it (a stream window's kept read,
    ``pm_lib.stream.account``); it must come from ``portfolio_state``."""

    async def portfolio(
        self, ctx: RunContext, books: BookBatch, catalogue: Catalogue
    ) -> PortfolioState: ...


class StageRunner(Protocol):
    """Calls one stage: ``name`` is from ``STAGES``, ``fn`` the stage's plain function."""

    def __call__(
        self, name: str, fn: Callable[..., Awaitable[_R]], *args: Any
    ) -> Awaitable[_R]: ...


async def call_stage(name: str, fn: Callable[..., Awaitable[_R]], *args: Any) -> _R:
    """The plain runner: the stage's function, awaited here."""
    return await fn(*args)


# The stages. Each is async so that one runner signature fits all. The event loop only ever
# waits on the async venue reads (catalogue, books); the blocking work of the other stages (the
# DB, the strategies and the risk gate that store what they decide, the executor and the SDK's
# blocking HTTP client) runs in a worker thread (``run_off_loop``, the executors' own rule), so a
# scan never stalls whatever else shares its loop (Prefect's machinery, a market stream). Stages
# run one after another, so no two of them use the engine or the executor at once.


async def catalogue_stage(
    ctx: RunContext, client: httpx.AsyncClient, held: Catalogue | None = None
) -> CatalogueLoad:
    """The catalogue: the one held (a loop's) or the DB cache while fresh, else from Gamma."""
    return await load_market_catalogue(ctx, client, held=held)


async def fetch_books_stage(
    ctx: RunContext,
    client: httpx.AsyncClient,
    catalogue: Catalogue,
    limiter: RateLimiter | None = None,
) -> BookBatch:
    """Every token's book through POST /books, inside the shared budget."""
    return await load_books(ctx, client, catalogue, limiter=limiter)


async def source_books_stage(
    ctx: RunContext, source: BooksSource, catalogue: Catalogue
) -> BookBatch:
    """The books stage of an event-driven scan: the source's books of the focused markets."""
    return await source.books(ctx, catalogue)


async def portfolio_stage(
    ctx: RunContext, books: BookBatch, catalogue: Catalogue
) -> PortfolioState:
    """The account now (``pm_lib.portfolio``): positions valued at this scan's books, open
    orders, today's P&L, the kill switch and the daily-loss breaker."""
    return await run_off_loop(lambda: portfolio_state(ctx, books.books, catalogue))


async def source_portfolio_stage(
    ctx: RunContext, source: PortfolioSource, books: BookBatch, catalogue: Catalogue
) -> PortfolioState:
    """The portfolio stage of an event-driven scan: the source's account."""
    return await source.portfolio(ctx, books, catalogue)


async def signals_stage(
    ctx: RunContext,
    catalogue: Catalogue,
    books: BookBatch,
    portfolio: PortfolioState,
    fair_values: dict[str, str] | None,
) -> Signals:
    """Opportunities from every configured strategy (pure), stored with their inputs."""
    return await run_off_loop(
        lambda: find_signals(ctx, catalogue, books.books, portfolio, fair_values)
    )


async def risk_stage(
    ctx: RunContext,
    catalogue: Catalogue,
    books: BookBatch,
    portfolio: PortfolioState,
    signals: Signals,
) -> Signals:
    """A risk decision for every opportunity (approved or not, with its reason), stored."""
    return await run_off_loop(
        lambda: risk_decisions(ctx, catalogue, books.books, portfolio, signals)
    )


async def execute_stage(
    ctx: RunContext, catalogue: Catalogue, books: BookBatch, signals: Signals
) -> Execution:
    """Approved opportunities become orders through the run's one executor. Never retried."""
    return await run_off_loop(lambda: execute_approved(ctx, catalogue, books.books, signals))


def _timed(clock: StageClock, stage: str, started: float) -> float:
    now = time.perf_counter()
    clock.record(stage, started, now)
    return now


async def run_scan(
    ctx: RunContext,
    venue: ScanVenue,
    *,
    runner: StageRunner = call_stage,
    clock: StageClock | None = None,
    fair_values: dict[str, str] | None = None,
    hooks: ScanHooks | None = None,
    books_source: BooksSource | None = None,
    portfolio_source: PortfolioSource | None = None,
) -> ScanOutcome:
    """One scan of ``ctx``'s run, up to its stored run row (module docstring).

    The catalogue it used is kept in ``venue`` for the next scan. Publishing artifacts is the
    caller's. ``books_source``: evaluate only the markets it focuses on, with its books (the
    event-driven scan), instead of every market with books from POST /books;
    ``portfolio_source``: the account it gives instead of reading it.
    """
    clock = clock if clock is not None else StageClock()
    try:
        return await _run_stages(
            ctx,
            venue,
            runner,
            clock,
            fair_values,
            hooks or ScanHooks(),
            books_source,
            portfolio_source,
        )
    except Exception as error:
        await run_off_loop(partial(fail_run, ctx, error, clock))
        raise


async def _run_stages(
    ctx: RunContext,
    venue: ScanVenue,
    runner: StageRunner,
    clock: StageClock,
    fair_values: dict[str, str] | None,
    hooks: ScanHooks,
    books_source: BooksSource | None = None,
    portfolio_source: PortfolioSource | None = None,
) -> ScanOutcome:
    t = time.perf_counter()
    loaded = await runner("catalogue", catalogue_stage, ctx, venue.client, venue.catalogue)
    venue.catalogue = catalogue = loaded.catalogue
    t = _timed(clock, "catalogue", t)
    if books_source is None:
        books = await runner(
            "books", fetch_books_stage, ctx, venue.client, catalogue, venue.books_limiter
        )
    else:
        catalogue = books_source.focus(catalogue)
        books = await runner("books", source_books_stage, ctx, books_source, catalogue)
    t = _timed(clock, "books", t)
    if portfolio_source is None:
        portfolio = await runner("portfolio", portfolio_stage, ctx, books, catalogue)
    else:
        portfolio = await runner(
            "portfolio", source_portfolio_stage, ctx, portfolio_source, books, catalogue
        )
    signals = await runner("signals", signals_stage, ctx, catalogue, books, portfolio, fair_values)
    t = _timed(clock, "signals", t)
    decided = await runner("risk", risk_stage, ctx, catalogue, books, portfolio, signals)
    t = _timed(clock, "risk", t)
    if hooks.before_execute is not None:
        hooks.before_execute()
    execution = await runner("execute", execute_stage, ctx, catalogue, books, decided)
    t = _timed(clock, "execute", t)
    report = await run_off_loop(
        lambda: finish_scan(ctx, loaded, books, portfolio, decided, execution, clock)
    )
    _timed(clock, "store", t)
    return ScanOutcome(report=report, execution=execution, loaded=loaded, books=books)
