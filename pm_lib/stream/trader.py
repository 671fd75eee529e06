"""The event-driven loop: the books that changed are evaluated through the one scan.

Each evaluation is ``pm_lib.pipeline.scan.run_scan`` with the stream as its books source
(``ChangedMarkets``): the same catalogue stage, strategies, risk gate, slippage guard, executor
and stored run, opportunities, decisions and orders as a polling scan, narrowed to the markets
(whole neg-risk events) whose books changed since the last evaluation. Changes that arrive while
an evaluation runs are coalesced into the next one.

What the evaluations of one window share instead of paying for each: one SDK client
(``ExecutorWindow``: each evaluation's executor borrows it; closed when the window ends or is
cancelled) and the account (``pm_lib.stream.account.WindowAccount``: kept, re-read between
evaluations after orders, fills or a kill-switch flip, and at least every 5 s). The budget claim
before each opportunity still reads the committed account under the wallet's lock.

The kill switch: while ``pm_lib.store.control.halted`` says so (read at least every
``halt_check_seconds``) nothing is evaluated and the changes wait for the resume; a halt
committed between two reads is still caught by the scan (the portfolio stage reads it, the risk
gate rejects, the executor checks before every order).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from pm_lib.execution.base import run_off_loop
from pm_lib.execution.factory import ExecutorWindow
from pm_lib.models import Catalogue, OrderBook
from pm_lib.pipeline.context import RunContext, StageClock
from pm_lib.pipeline.records import fail_run
from pm_lib.pipeline.report import ScanReport
from pm_lib.pipeline.scan import ScanVenue, run_scan
from pm_lib.store.control import halted
from pm_lib.stream.account import WindowAccount
from pm_lib.stream.market import MarketStream
from pm_lib.stream.view import CatalogueIndex, ChangedMarkets

__all__ = ["StreamTrader", "WindowReport"]

logger = logging.getLogger(__name__)


@dataclass
class WindowReport:
    """What one streaming window did."""

    evaluations: int = 0
    opportunities: int = 0
    approved: int = 0
    orders: int = 0
    halted_seconds: float = 0.0
    run_ids: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def absorb(self, report: ScanReport, clock: StageClock) -> None:
        s = report.summary
        self.evaluations += 1
        self.opportunities += s.opportunities
        self.approved += s.approved
        self.orders += s.orders
        self.run_ids.append(s.run_id)
        for stage, seconds in clock.seconds.items():
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + float(seconds)

    def as_dict(self) -> dict[str, Any]:
        return {
            "evaluations": self.evaluations,
            "opportunities": self.opportunities,
            "approved": self.approved,
            "orders": self.orders,
            "halted_seconds": round(self.halted_seconds, 3),
            "stage_seconds": {k: round(v, 4) for k, v in self.stage_seconds.items()},
        }


class StreamTrader:
    """Evaluates the stream's changed books through ``run_scan`` until a deadline."""

    def __init__(
        self,
        ctx: RunContext,
        stream: MarketStream,
        venue: ScanVenue,
        next_ctx: Callable[[RunContext], RunContext],
        *,
        fair_values: dict[str, str] | None = None,
        halt_check_seconds: float = 0.25,
        on_evaluation: Callable[[ScanReport, StageClock], None] | None = None,
        account_max_age_seconds: float = 5.0,
    ) -> None:
        self.ctx = ctx
        self.stream = stream
        self.venue = venue
        self.next_ctx = next_ctx
        self.fair_values = fair_values
        self.halt_check_seconds = halt_check_seconds
        self.on_evaluation = on_evaluation
        self.report = WindowReport()
        self.account = WindowAccount(self._held_books, max_age_seconds=account_max_age_seconds)
        self.window: ExecutorWindow | None = None
        self._index: CatalogueIndex | None = None
        self._ctx_used = False

    def index(self, catalogue: Catalogue) -> CatalogueIndex:
        """The lookups over ``catalogue``, rebuilt only when its markets or events changed (a
        held catalogue comes back from the catalogue stage as a copy sharing both tuples)."""
        held = self._index
        if (
            held is None
            or held.catalogue.markets is not catalogue.markets
            or held.catalogue.events is not catalogue.events
        ):
            self._index = held = CatalogueIndex(catalogue)
        return held

    async def run(self, deadline: float) -> WindowReport:
        """Evaluate changes until ``deadline`` (monotonic seconds).

        The window's executors share one SDK client (``ExecutorWindow``), closed when the window
        ends or is cancelled (once the last order in flight is stored); the account is kept
        between evaluations (``WindowAccount``) and re-read between them.
        """
        if self.ctx.window is None:
            window = ExecutorWindow(self.ctx.settings, live_armed=self.ctx.live_armed)
            self.window = window
            self.ctx = replace(self.ctx, window=window)
        try:
            return await self._run(deadline)
        finally:
            await self.account.close()
            if self.window is not None:
                self.window.close()

    async def _run(self, deadline: float) -> WindowReport:
        books = self.stream.books
        engine = self.ctx.engine
        account = self.account
        halt_checked = float("-inf")
        halt_reason: str | None = None
        while (remaining := deadline - time.monotonic()) > 0:
            if not books.changed or halt_reason is not None:
                if account.due():
                    account.refresh(self.ctx)
                books.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        books.wake.wait(), timeout=min(remaining, self.halt_check_seconds)
                    )
            now = time.monotonic()
            if now - halt_checked >= self.halt_check_seconds:
                was = halt_reason
                halt_reason = await run_off_loop(partial(halted, engine))
                if halt_reason is not None and was is None:
                    logger.warning("stream: kill switch on (%s): not trading", halt_reason)
                if (halt_reason is None) != (was is None):
                    account.changed()  # the account shows the switch: read it again
                if was is not None:
                    self.report.halted_seconds += now - halt_checked
                halt_checked = now
            if halt_reason is not None or not books.changed:
                continue
            report = await self.evaluate(books.drain_changed())
            if report.summary.orders:
                account.changed()
                account.refresh(self.ctx)
        return self.report

    async def _held_books(
        self, ctx: RunContext, tokens: Iterable[str]
    ) -> tuple[Mapping[str, OrderBook], Catalogue]:
        """The stream's books of ``tokens`` (held positions) and their markets' catalogue."""
        catalogue = self.venue.catalogue
        if catalogue is None:
            return {}, Catalogue(markets=(), fetched_at=ctx.now())
        view = ChangedMarkets(self.stream, tokens, self.index)
        focused = view.focus(catalogue)
        batch = await view.books(ctx, focused)
        return batch.books, focused

    async def evaluate(self, changed: set[str]) -> ScanReport:
        """One run of the scan over the markets of ``changed`` tokens."""
        ctx = self.ctx if not self._ctx_used else self.next_ctx(self.ctx)
        self._ctx_used = True
        self.ctx = ctx
        clock = StageClock()
        view = ChangedMarkets(self.stream, changed, self.index)
        try:
            outcome = await run_scan(
                ctx,
                self.venue,
                clock=clock,
                fair_values=self.fair_values,
                books_source=view,
                portfolio_source=self.account,
            )
        except asyncio.CancelledError:
            fail_run(ctx, RuntimeError("cancelled: the stream window was stopped"), clock)
            raise
        self.report.absorb(outcome.report, clock)
        if self.on_evaluation is not None:
            self.on_evaluation(outcome.report, clock)
        return outcome.report

    @property
    def opened_run_unused(self) -> bool:
        """Whether the run the trader was given never evaluated anything (close it yourself)."""
        return not self._ctx_used
