"""scan_and_trade: the main job. Catalogue -> books -> signals -> risk -> execute -> record.

Each stage is one task over the whole batch (never one task per market: Prefect's per-task
overhead would dominate, see ../shared/PREFECT-NOTES.md). Reads retry with backoff; the execute
task never retries (an order is placed once; ambiguity is resolved by reconcile, by lookup).

Every task is ``async``, even those that call synchronous, blocking ``pm_lib`` functions (the
flow has nothing else to do meanwhile): a sync task in an async flow opens its own sync Prefect
client, and each new client built an SSL context (~50 ms, 4 tasks a run), though it talks plain
HTTP. Those blocking tasks carry no ``timeout_seconds``: an async task's timeout cannot
interrupt code that never awaits, and its pending timer kept the run's books alive until the
event loop closed (the flow's own timeout still bounds the run).

Every stage argument is passed to its task inside ``quote(...)`` (``StageCalls``): without it
Prefect walks every parameter down to each book level (``visit_collection``, twice a task)
looking for upstream futures, which was 92-95% of a scan's wall time (docs/PERFORMANCE.md).
Tasks receive the plain values; only the UI's dependency arrows between them are given up (the
stages run one after another anyway). ``scan_loop`` calls the same task functions inline.
"""

from __future__ import annotations

from flows.environment import apply_prefect_defaults

apply_prefect_defaults()

import asyncio  # noqa: E402
import time  # noqa: E402
from collections.abc import Coroutine, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

import httpx  # noqa: E402
from prefect import Task, flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import (  # noqa: E402
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    aupdate_progress_artifact,
)
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.tasks import exponential_backoff  # noqa: E402
from prefect.utilities.annotations import quote  # noqa: E402

from flows.runtime import open_run, read_fair_values, retry_unless_misconfigured  # noqa: E402
from pm_lib.models import Catalogue, PortfolioState  # noqa: E402
from pm_lib.pipeline.context import RunContext, StageClock  # noqa: E402
from pm_lib.pipeline.decisions import Signals, decide, find_signals, portfolio_state  # noqa: E402
from pm_lib.pipeline.market_data import CatalogueLoad, load_books, load_market_catalogue  # noqa: E402
from pm_lib.pipeline.records import fail_run, finish_scan  # noqa: E402
from pm_lib.pipeline.report import ScanReport  # noqa: E402
from pm_lib.pipeline.scan_memory import cyclic_gc_paused  # noqa: E402
from pm_lib.pipeline.trading import Execution, execute_approved  # noqa: E402
from pm_lib.reporting.progress import PacedProgress  # noqa: E402
from pm_lib.reporting.summary import summary_markdown  # noqa: E402
from pm_lib.reporting.tables import (  # noqa: E402
    decision_rows,
    money,
    opportunity_rows,
    order_rows,
)
from pm_lib.venue.books import BookBatch  # noqa: E402
from pm_lib.venue.http import open_venue_client  # noqa: E402
from pm_lib.venue.ratelimit import RateLimiter  # noqa: E402

__all__ = [
    "AS_TASKS",
    "INLINE",
    "ScanVenue",
    "StageCalls",
    "log_scan",
    "publish_timed",
    "scan_and_trade",
    "scan_stages",
]

_R = TypeVar("_R")

_READ = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=0.5),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_unless_misconfigured,
    "cache_policy": NO_CACHE,
}


@task(name="load-catalogue", timeout_seconds=300, **_READ)  # type: ignore[call-overload]
async def load_catalogue_task(
    ctx: RunContext, client: httpx.AsyncClient, held: Catalogue | None = None
) -> CatalogueLoad:
    """The catalogue: the one held (a scan loop's) or the DB cache while fresh, else paged from
    Gamma's keyset endpoints."""
    return await load_market_catalogue(ctx, client, held=held)


@task(name="fetch-books", timeout_seconds=300, **_READ)  # type: ignore[call-overload]
async def fetch_books_task(
    ctx: RunContext,
    client: httpx.AsyncClient,
    catalogue: Catalogue,
    limiter: RateLimiter | None = None,
    progress: bool = True,
) -> BookBatch:
    """Every token's book through POST /books; with ``progress``, a progress artifact when it
    takes over a second."""
    if not progress:
        return await load_books(ctx, client, catalogue, limiter=limiter)
    bar = PacedProgress(_create_books_bar, aupdate_progress_artifact)
    batch = await load_books(ctx, client, catalogue, on_progress=bar.on_progress, limiter=limiter)
    await bar.finish()
    return batch


async def _create_books_bar(percent: float) -> Any:
    return await acreate_progress_artifact(percent, description="order books fetched")


@task(name="portfolio", cache_policy=NO_CACHE)
async def portfolio_task(ctx: RunContext, books: BookBatch) -> PortfolioState:
    """Positions, open orders, today's P&L and the kill switch, from the DB."""
    return portfolio_state(ctx, books.books)


@task(name="find-signals", cache_policy=NO_CACHE)
async def signals_task(
    ctx: RunContext,
    catalogue: Catalogue,
    books: BookBatch,
    portfolio: PortfolioState,
    fair_values: dict[str, str] | None,
) -> Signals:
    """Opportunities from every configured strategy (pure), stored with their inputs."""
    return find_signals(ctx, catalogue, books.books, portfolio, fair_values)


@task(name="apply-risk", cache_policy=NO_CACHE)
async def risk_task(
    ctx: RunContext,
    catalogue: Catalogue,
    books: BookBatch,
    portfolio: PortfolioState,
    signals: Signals,
) -> Signals:
    """A risk decision for every opportunity (approved or not, with its reason), stored."""
    return decide(ctx, catalogue, books.books, portfolio, signals)


@task(name="execute", retries=0, cache_policy=NO_CACHE)
async def execute_task(
    ctx: RunContext, catalogue: Catalogue, books: BookBatch, signals: Signals
) -> Execution:
    """Approved opportunities become orders through the run's one executor. Never retried."""
    return execute_approved(ctx, catalogue, books.books, signals)


@task(name="publish", timeout_seconds=60, cache_policy=NO_CACHE)
async def publish_task(report: ScanReport) -> None:
    """Tables of opportunities, decisions and orders, and the run summary, in the Prefect UI."""
    opps = {o.id: o for o in report.opportunities}
    # Four independent API calls: sent together, they cost about one round trip.
    await asyncio.gather(
        acreate_table_artifact(
            opportunity_rows(report.opportunities) or [{"opportunities": "none this run"}],
            key="opportunities",
            description="Opportunities found by the strategies (edge net of taker fees).",
        ),
        acreate_table_artifact(
            decision_rows(report.decisions, opps) or [{"decisions": "none this run"}],
            key="risk-decisions",
            description="Risk gate decisions with the rule that decided and why.",
        ),
        acreate_table_artifact(
            order_rows(list(report.orders)) or [{"orders": "none this run"}],
            key="orders",
            description="Orders placed this run and their fills.",
        ),
        acreate_markdown_artifact(
            summary_markdown(report.summary), key="scan-summary", description="Run summary"
        ),
    )


def _timed(clock: StageClock, stage: str, started: float) -> float:
    now = time.perf_counter()
    clock.record(stage, started, now)
    return now


@dataclass
class ScanVenue:
    """What the scans of one flow run share: the venue client, the /books rate budget and the
    catalogue the last scan used (a scan loop's next scan reuses it while it is fresh)."""

    client: httpx.AsyncClient
    books_limiter: RateLimiter | None = None
    catalogue: Catalogue | None = None


@dataclass(frozen=True)
class StageCalls:
    """How a scan calls its stage tasks: as task runs (``scan_and_trade``: read retries, a
    progress bar while books are fetched, a timing per stage in the UI) or ``inline``, as the
    tasks' own functions inside one task run per scan (``scan_loop``).

    Inline, the reads keep the venue reader's own retries (timeouts, 5xx, 425, 429 with
    Retry-After) but not Prefect's task retries on top: in a loop the next scan, seconds later,
    is the retry that matters.
    """

    inline: bool = False

    async def __call__(self, stage: Task[..., Coroutine[Any, Any, _R]], *args: Any) -> _R:
        if self.inline:
            return await stage.fn(*args)
        return await stage(*(quote(a) for a in args))


AS_TASKS = StageCalls()
INLINE = StageCalls(inline=True)


async def scan_stages(
    ctx: RunContext, clock: StageClock, venue: ScanVenue, stages: StageCalls = AS_TASKS
) -> ScanReport:
    """One scan's stages, in order, up to its stored run row (publishing is the caller's).

    ``stages`` runs them as task runs (``AS_TASKS``) or as plain calls (``INLINE``). The books
    live only in this frame; the catalogue is kept in ``venue`` for the next scan. A stage that
    raises closes the run row as failed, with the error, before the error goes on.
    """
    try:
        return await _scan_stages(ctx, clock, venue, stages)
    except Exception as error:
        fail_run(ctx, error, clock)
        raise


async def _scan_stages(
    ctx: RunContext, clock: StageClock, venue: ScanVenue, stages: StageCalls
) -> ScanReport:
    t = time.perf_counter()
    fair_values = await read_fair_values(ctx.settings)
    loaded = await stages(load_catalogue_task, ctx, venue.client, venue.catalogue)
    venue.catalogue = catalogue = loaded.catalogue
    t = _timed(clock, "catalogue", t)
    # Inline (a loop) there is no progress bar: it would be a new artifact every scan.
    limiter, progress = venue.books_limiter, not stages.inline
    books = await stages(fetch_books_task, ctx, venue.client, catalogue, limiter, progress)
    t = _timed(clock, "books", t)
    portfolio = await stages(portfolio_task, ctx, books)
    signals = await stages(signals_task, ctx, catalogue, books, portfolio, fair_values)
    t = _timed(clock, "signals", t)
    decided = await stages(risk_task, ctx, catalogue, books, portfolio, signals)
    t = _timed(clock, "risk", t)
    execution = await stages(execute_task, ctx, catalogue, books, decided)
    t = _timed(clock, "execute", t)
    report = finish_scan(ctx, loaded, books, portfolio, decided, execution, clock)
    # Inline, this frees the scan's books (by reference counting: ~3 ms a 1,000 markets), so the
    # time is the store stage's; as tasks, their task-run states still hold them.
    del books
    _timed(clock, "store", t)
    return report


async def publish_timed(clock: StageClock, report: ScanReport) -> None:
    """The run's UI artifacts, timed as the ``artifacts`` stage."""
    t = time.perf_counter()
    await publish_task(quote(report))
    _timed(clock, "artifacts", t)


def log_scan(logger: Any, ctx: RunContext, report: ScanReport) -> None:
    logger.info(
        "run %s: %d markets, %d books, %d opportunities, %d approved, %d orders",
        ctx.run_id,
        report.summary.markets,
        report.summary.books,
        report.summary.opportunities,
        report.summary.approved,
        report.summary.orders,
    )


# persist_result=False: the run's outcome is stored by pm-agent (run, opportunity, decision and
# order rows), so Prefect need not look up the server's default result storage (an API round
# trip a run) nor write the returned report anywhere.
@flow(name="scan-and-trade", timeout_seconds=900, log_prints=False, persist_result=False)
async def scan_and_trade(
    live: bool = False,
    strategies: Sequence[str] | None = None,
    limits: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Scan the universe, decide under risk limits and trade (paper unless live is armed).

    ``live=True`` arms live trading for this run; it trades live only when ``PM_MODE=live`` and
    credentials load, otherwise the run refuses before anything is sent. ``strategies`` and
    ``limits`` (setting name -> value) override the configured ones for this run.
    """
    logger = get_run_logger()
    ctx = open_run("scan-and-trade", live=live, strategies=strategies, limits=limits)
    logger.info("run %s: mode %s, strategies %s", ctx.run_id, ctx.mode, ctx.settings.strategies)
    clock = StageClock()
    # Millions of acyclic objects are built in scan_stages; they are freed (by reference counting)
    # when it returns, before the cyclic collector resumes (pm_lib.pipeline.scan_memory).
    with cyclic_gc_paused():
        async with open_venue_client(ctx.settings) as client:
            report = await scan_stages(ctx, clock, ScanVenue(client))
        await publish_timed(clock, report)
    log_scan(logger, ctx, report)
    # The run row is closed (and the summary published) before the store and artifacts stages
    # end, so their times are only in the returned JSON.
    out = report.to_json()
    out["stage_seconds"] = {stage: money(s, 4) for stage, s in clock.seconds.items()}
    return out
