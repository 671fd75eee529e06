"""The Prefect side of the scan: its stages as task runs, its artifacts, its log line.

The scan itself (which stage follows which) is ``pm_lib.pipeline.scan.run_scan``; this module
only says how the flows show it. ``as_task_runs`` runs each stage as a task run (``scan_and_trade``:
a timing per stage and a progress bar in the UI); ``scan_loop`` calls the plain stages inside one
task run a scan.

Each stage is one task over the whole batch, never one task per market (a task run costs
Prefect ~4-9 ms here, docs/PREFECT.md). Every stage argument is passed inside ``quote(...)``:
without it Prefect walks every parameter down to each book level looking for upstream futures,
which was 92-95% of a scan's wall time (docs/PERFORMANCE.md). No task retries: reads retry in the
venue reader (one policy, ``pm_lib.venue.http``) and the execute stage is never retried (an
order is placed once; ambiguity is resolved by reconcile, by lookup).

Every task is ``async``, even those that call blocking ``pm_lib`` functions: a sync task in an
async flow opens its own sync Prefect client, and each new client built an SSL context (~50 ms a
task). Blocking tasks carry no ``timeout_seconds``: an async task's timeout cannot interrupt code
that never awaits (the flow's own timeout bounds the run).
"""

from __future__ import annotations

from flows.environment import apply_prefect_defaults

apply_prefect_defaults()

import asyncio  # noqa: E402
import time  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from typing import Any, TypeVar, cast  # noqa: E402

import httpx  # noqa: E402
from prefect import Task, task  # noqa: E402
from prefect.artifacts import (  # noqa: E402
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    aupdate_progress_artifact,
)
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.utilities.annotations import quote  # noqa: E402

from pm_lib.models import Catalogue  # noqa: E402
from pm_lib.pipeline.context import RunContext, StageClock  # noqa: E402
from pm_lib.pipeline.market_data import load_books  # noqa: E402
from pm_lib.pipeline.report import ScanReport  # noqa: E402
from pm_lib.pipeline.scan import (  # noqa: E402
    catalogue_stage,
    execute_stage,
    portfolio_stage,
    risk_stage,
    signals_stage,
)
from pm_lib.reporting.progress import PacedProgress  # noqa: E402
from pm_lib.reporting.summary import summary_markdown  # noqa: E402
from pm_lib.reporting.tables import decision_rows, opportunity_rows, order_rows  # noqa: E402
from pm_lib.venue.books import BookBatch  # noqa: E402
from pm_lib.venue.ratelimit import RateLimiter  # noqa: E402

__all__ = ["as_task_runs", "log_scan", "publish_task", "publish_timed", "quoted"]

_R = TypeVar("_R")
_T = TypeVar("_T")


def quoted(value: _T) -> _T:
    """``quote(value)``, typed as the value it wraps: Prefect hands the task the plain value
    without walking it for futures."""
    return cast(_T, quote(value))


async def _create_books_bar(percent: float) -> Any:
    return await acreate_progress_artifact(percent, description="order books fetched")


async def _books_with_progress(
    ctx: RunContext,
    client: httpx.AsyncClient,
    catalogue: Catalogue,
    limiter: RateLimiter | None = None,
) -> BookBatch:
    """``fetch_books_stage`` with a progress artifact when the fetch takes over a second."""
    bar = PacedProgress(_create_books_bar, aupdate_progress_artifact)
    batch = await load_books(ctx, client, catalogue, on_progress=bar.on_progress, limiter=limiter)
    await bar.finish()
    return batch


_TASKS: dict[str, Task[..., Any]] = {
    "catalogue": task(name="load-catalogue", timeout_seconds=300, cache_policy=NO_CACHE)(
        catalogue_stage
    ),
    "books": task(name="fetch-books", timeout_seconds=300, cache_policy=NO_CACHE)(
        _books_with_progress
    ),
    "portfolio": task(name="portfolio", cache_policy=NO_CACHE)(portfolio_stage),
    "signals": task(name="find-signals", cache_policy=NO_CACHE)(signals_stage),
    "risk": task(name="apply-risk", cache_policy=NO_CACHE)(risk_stage),
    "execute": task(name="execute", retries=0, cache_policy=NO_CACHE)(execute_stage),
}


async def as_task_runs(name: str, fn: Callable[..., Awaitable[_R]], *args: Any) -> _R:
    """The ``StageRunner`` that runs each stage as its Prefect task run."""
    result: _R = await _TASKS[name](*(quoted(a) for a in args))
    return result


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


async def publish_timed(clock: StageClock, report: ScanReport) -> None:
    """The run's UI artifacts, timed as the ``artifacts`` stage."""
    t = time.perf_counter()
    await publish_task(quoted(report))
    clock.record("artifacts", t, time.perf_counter())


def log_scan(logger: Any, ctx: RunContext, report: ScanReport) -> None:
    """One line a scan in the flow run's log."""
    logger.info(
        "run %s: %d markets, %d books, %d opportunities, %d approved, %d orders",
        ctx.run_id,
        report.summary.markets,
        report.summary.books,
        report.summary.opportunities,
        report.summary.approved,
        report.summary.orders,
    )
