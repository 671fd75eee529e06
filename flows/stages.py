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
from pm_lib.pipeline.reports import read_account_status  # noqa: E402
from pm_lib.pipeline.scan import (  # noqa: E402
    catalogue_stage,
    execute_stage,
    portfolio_stage,
    risk_stage,
    signals_stage,
)
from pm_lib.reporting.labels import MarketLabels, read_labels  # noqa: E402
from pm_lib.reporting.progress import PacedProgress  # noqa: E402
from pm_lib.reporting.status import status_markdown  # noqa: E402
from pm_lib.reporting.summary import summary_markdown  # noqa: E402
from pm_lib.reporting.tables import (  # noqa: E402
    decision_rows,
    opportunity_rows,
    order_rows,
    plain_decimal,
)
from pm_lib.store.control import get_flag, set_flag  # noqa: E402
from pm_lib.store.engine import session_scope  # noqa: E402
from pm_lib.store.leg_risk import leg_risks_for_run  # noqa: E402
from pm_lib.venue.books import BookBatch  # noqa: E402
from pm_lib.venue.ratelimit import RateLimiter  # noqa: E402

__all__ = [
    "announce",
    "as_task_runs",
    "log_orders",
    "log_scan",
    "outcome_name",
    "publish",
    "publish_timed",
    "quoted",
]

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


async def publish(
    report: ScanReport, ctx: RunContext | None = None, catalogue: Catalogue | None = None
) -> None:
    """Tables of opportunities, decisions and orders, the run summary and (with ``ctx``) where
    the account stands, in the Prefect UI; markets named by question and outcome (``catalogue``:
    the scan's, in memory).

    Called in the flow run's own context (not a task run's), so the artifacts belong to the
    flow run: its Artifacts tab lists them."""
    opps = {o.id: o for o in report.opportunities}
    conditions = {leg.condition_id for o in report.opportunities for leg in o.legs}
    groups = {o.market for o in report.opportunities}
    labels = MarketLabels.of_catalogue(catalogue, conditions, groups) if catalogue else None
    requests = report.intent_orders
    writes = [
        acreate_table_artifact(
            opportunity_rows(report.opportunities, labels) or [{"opportunities": "none this run"}],
            key="opportunities",
            description="Opportunities found by the strategies (edge net of taker fees).",
        ),
        acreate_table_artifact(
            decision_rows(report.decisions, opps, labels) or [{"decisions": "none this run"}],
            key="risk-decisions",
            description="Risk gate decisions with the rule that decided and why.",
        ),
        acreate_table_artifact(
            order_rows(list(report.orders), requests, labels) or [{"orders": "none this run"}],
            key="orders",
            description="Orders placed this run: market, order (side size @ limit), status, fill "
            "(size @ average price) and fee.",
        ),
        acreate_markdown_artifact(
            summary_markdown(report.summary), key="scan-summary", description="Run summary"
        ),
    ]
    if ctx is not None:
        status = await asyncio.to_thread(_account_status, ctx, catalogue)
        writes.append(
            acreate_markdown_artifact(
                status_markdown(status),
                key="account-status",
                description="Where the account stands (pm-agent status)",
            )
        )
    # Independent API calls: sent together, they cost about one round trip.
    await asyncio.gather(*writes)


def _account_status(ctx: RunContext, catalogue: Catalogue | None) -> dict[str, Any]:
    """``pm-agent status`` of the run's account: positions at the marks the scan just stored."""
    status, _ = read_account_status(ctx.engine, ctx.mode, ctx.now(), ctx.settings, catalogue)
    return status


async def publish_timed(
    clock: StageClock,
    report: ScanReport,
    ctx: RunContext | None = None,
    catalogue: Catalogue | None = None,
) -> None:
    """The run's UI artifacts, timed as the ``artifacts`` stage."""
    t = time.perf_counter()
    await publish(report, ctx, catalogue)
    clock.record("artifacts", t, time.perf_counter())


def log_orders(logger: Any, ctx: RunContext, report: ScanReport) -> None:
    """One log line per order: market question and outcome, side, size, limit, what happened."""
    if not report.orders:
        return
    conditions = {leg.condition_id for o in report.opportunities for leg in o.legs}
    with session_scope(ctx.engine, read_only=True) as session:
        labels = read_labels(session, condition_ids=conditions)
    for r in report.orders:
        request = report.intent_orders.get(r.intent_key, {})
        token = request.get("token_id", "")
        logger.info(
            "order %s %s of %r @ %s: %s, filled %s at %s%s",
            request.get("side", "?"),
            request.get("size", "?"),
            labels.token(token).text,
            request.get("price", "?"),
            r.status,
            plain_decimal(r.filled_size, 2),
            plain_decimal(r.avg_price) or "-",
            f" ({r.error})" if r.error else "",
        )


def outcome_name(mode: str, report: ScanReport) -> str:
    """What a scan did, in a few words, for the flow run's name."""
    s = report.summary
    if s.halted:
        return f"{mode}: HALTED, {s.opportunities} opportunities"
    if s.orders:
        return f"{mode}: {s.orders} orders, {s.filled_orders} filled"
    return f"{mode}: no trade ({s.opportunities} opportunities, {s.approved} approved)"


def announce(ctx: RunContext, report: ScanReport) -> None:
    """The scan's Prefect events (``flows.alerts``): a fill per filled order, leg risk left
    open, and the daily-loss breaker once per UTC day."""
    from flows.alerts import BREAKER_TRIPPED, FILLED, LEG_RISK_OPEN, emit

    for r in report.orders:
        if r.filled_size > 0:
            emit(
                FILLED,
                ctx.mode,
                {
                    **report.intent_orders.get(r.intent_key, {}),
                    "intent_key": r.intent_key,
                    "status": str(r.status),
                    "filled": plain_decimal(r.filled_size),
                    "avg_price": plain_decimal(r.avg_price),
                    "run_id": ctx.run_id,
                },
            )
    if report.orders:
        with session_scope(ctx.engine, read_only=True) as session:
            risks = leg_risks_for_run(session, ctx.run_id)
        for risk in risks:
            if risk.status in ("open", "held"):
                emit(
                    LEG_RISK_OPEN,
                    ctx.mode,
                    {"intent_key": risk.intent_key, "status": risk.status, "detail": risk.detail},
                )
    if report.summary.daily_loss_tripped:
        day = ctx.now().date().isoformat()
        key = f"alerted:breaker:{ctx.mode}"
        with session_scope(ctx.engine) as session:
            flag = get_flag(session, key)
            if flag is not None and flag.value == day:
                return
            set_flag(session, key, day, "daily-loss breaker alert sent", ctx.flow_name)
        emit(
            BREAKER_TRIPPED,
            ctx.mode,
            {
                "day": day,
                "pnl_today": plain_decimal(report.summary.pnl_today, 2),
                "run_id": ctx.run_id,
            },
        )


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
    log_orders(logger, ctx, report)
