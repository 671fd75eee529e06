"""The end of a run: its figures, its run row closed, and the report the flow returns."""

from __future__ import annotations

import logging

from pm_lib.models import OrderStatus, PortfolioState
from pm_lib.pipeline.context import RunContext, StageClock
from pm_lib.pipeline.decisions import Signals
from pm_lib.pipeline.market_data import CatalogueLoad
from pm_lib.pipeline.report import ScanReport
from pm_lib.pipeline.trading import Execution
from pm_lib.portfolio import total_cost_basis
from pm_lib.redaction import redact
from pm_lib.reporting.summary import RunSummary
from pm_lib.store.engine import session_scope
from pm_lib.store.runs import finish_run
from pm_lib.venue.books import BookBatch

_log = logging.getLogger(__name__)

# The run row keeps the start of a long error message (a chained or wrapped one can be long).
_ERROR_CHARS = 500

__all__ = ["fail_run", "finish_scan", "summarise"]


def summarise(
    ctx: RunContext,
    loaded: CatalogueLoad,
    books: BookBatch,
    portfolio: PortfolioState,
    signals: Signals,
    execution: Execution,
    clock: StageClock,
) -> RunSummary:
    """The run's figures: what it scanned, found, approved and placed, and the account (today's
    P&L is the portfolio's, the very figure the risk gate decided with)."""
    filled = sum(1 for r in execution.results if r.filled_size > 0)
    return RunSummary(
        run_id=ctx.run_id,
        mode=ctx.mode,
        markets=len(loaded.catalogue.markets),
        books=len(books.books),
        books_missing=len(books.missing),
        skipped=len(books.skipped) + len(loaded.catalogue.skipped) + len(signals.skipped),
        opportunities=len(signals.opportunities),
        approved=len(signals.approved),
        orders=sum(1 for r in execution.results if r.status is not OrderStatus.REJECTED),
        filled_orders=filled,
        catalogue_refresh=loaded.refresh,
        catalogue_requests=loaded.requests,
        stage_seconds=dict(clock.seconds),
        pnl_today=portfolio.pnl_today,
        unrealised_pnl=portfolio.unrealised_pnl,
        cash=portfolio.cash,
        exposure=total_cost_basis(portfolio) + portfolio.open_order_notional,
        daily_loss_tripped=portfolio.daily_loss_tripped_at is not None,
        open_orders=portfolio.open_orders,
        halted=portfolio.halted,
        halted_reason=portfolio.halted_reason,
        requests=loaded.requests + books.requests,
        rate_limited=loaded.rate_limited + books.rate_limited,
    )


def finish_scan(
    ctx: RunContext,
    loaded: CatalogueLoad,
    books: BookBatch,
    portfolio: PortfolioState,
    signals: Signals,
    execution: Execution,
    clock: StageClock,
) -> ScanReport:
    """Close the run row with its figures and return the report the flow publishes."""
    summary = summarise(ctx, loaded, books, portfolio, signals, execution, clock)
    with session_scope(ctx.engine) as session:
        finish_run(
            session,
            ctx.run_id,
            status="completed",
            markets=summary.markets,
            books=summary.books,
            opportunities=summary.opportunities,
            approved=summary.approved,
            orders=summary.orders,
            stage_timings={k: str(v) for k, v in summary.stage_seconds.items()},
            finished_at=ctx.now(),
        )
    return ScanReport(
        summary=summary,
        opportunities=signals.opportunities,
        decisions=signals.decisions,
        orders=tuple(execution.results),
        intent_orders=execution.requests,
    )


def fail_run(ctx: RunContext, error: Exception, clock: StageClock | None = None) -> None:
    """Close the run row (a scan's, a reconcile's) as ``failed`` with the error, credentials
    masked (``pm_lib.redaction``), and the stages that finished (``clock``).

    Best effort: the caller re-raises ``error`` whatever happens here, so a store that is down
    too is logged, never allowed to hide why the run failed.
    """
    message = redact(f"{type(error).__name__}: {error}")[:_ERROR_CHARS]
    timings = None if clock is None else {k: str(v) for k, v in clock.seconds.items()}
    try:
        with session_scope(ctx.engine) as session:
            finish_run(
                session,
                ctx.run_id,
                status="failed",
                error=message,
                stage_timings=timings,
                finished_at=ctx.now(),
            )
    except Exception:
        _log.exception("run %s failed (%s) and could not be marked failed", ctx.run_id, message)
