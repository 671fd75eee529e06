"""The account as a stream window's evaluations see it: read once, kept, re-read off the path.

A polling scan reads the account (``pm_lib.pipeline.decisions.portfolio_state``: the venue's
balance live, positions valued at the scan's books, open orders, today's P&L, kill switch,
breaker) once per scan. An evaluation of the stream is a scan of one changed event, and that read
was most of its time (an SDK client, an HTTP balance read, the fills replayed, the marks written:
~50 ms of a ~130 ms dip). ``WindowAccount`` keeps the last read for the evaluations of the window:

- an evaluation takes the kept state while it is fresh: read less than ``max_age_seconds`` ago
  and nothing changed since (``changed``: an evaluation placed orders, the user channel stored
  fills, the kill switch flipped); otherwise it waits for the read under way or reads itself;
- after a change, and before the kept state ages out, the trader re-reads it between
  evaluations (``refresh``), so the next dip rarely pays for it. The default age (5 s) keeps
  those reads (a venue balance read live, the fills replayed, the marks written) from loading
  the shared cores and the venue's balance endpoint every second.

The same function reads it (``portfolio_state``, the one owner), with the stream's books of the
held positions (``books_for``). Nothing here is trusted for the limits across runs: the claim
before every opportunity (``pm_lib.pipeline.budget.claim``) re-reads the committed account under
the wallet's budget lock and re-checks the budget rules, and the executor reads the kill switch
before every order. A kept state can only make the risk gate approve what the claim then refuses
(or refuse what a fresh read would have approved, for at most ``max_age_seconds``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

from pm_lib.execution.base import run_off_loop
from pm_lib.models import Catalogue, OrderBook, PortfolioState
from pm_lib.pipeline.context import RunContext
from pm_lib.pipeline.decisions import portfolio_state
from pm_lib.venue.books import BookBatch

__all__ = ["AccountCounters", "WindowAccount"]

BooksFor = Callable[
    [RunContext, Iterable[str]], Awaitable[tuple[Mapping[str, OrderBook], Catalogue]]
]
"""The stream's trusted books of some tokens and the catalogue of their markets."""


@dataclass
class AccountCounters:
    reads: int = 0  # portfolio_state calls (inline or between evaluations)
    inline: int = 0  # of them, on an evaluation's path
    kept: int = 0  # evaluations given the kept state


class WindowAccount:
    """The account for one stream window's evaluations (module docstring)."""

    def __init__(self, books_for: BooksFor, *, max_age_seconds: float = 5.0) -> None:
        self.books_for = books_for
        self.max_age_seconds = max_age_seconds
        self.counters = AccountCounters()
        self._state: PortfolioState | None = None
        self._read_at = float("-inf")
        self._version = 0  # bumped by every change
        self._read_version = -1  # the version the kept state was read at
        self._reading: asyncio.Task[PortfolioState] | None = None

    # --- the evaluations' side (run_scan's portfolio source) -------------------------------
    async def portfolio(
        self, ctx: RunContext, books: BookBatch, catalogue: Catalogue
    ) -> PortfolioState:
        if self._reading is not None:
            with contextlib.suppress(Exception):  # a failed read is done again below
                await asyncio.shield(self._reading)
        if self.fresh and self._state is not None:
            self.counters.kept += 1
            return self._state
        self.counters.inline += 1
        return await self._read(ctx, books.books, catalogue)

    # --- the trader's side --------------------------------------------------------------------
    @property
    def fresh(self) -> bool:
        return (
            self._state is not None
            and self._read_version == self._version
            and time.monotonic() - self._read_at <= self.max_age_seconds
        )

    def changed(self) -> None:
        """Something the account shows changed (orders, fills, the kill switch): read again."""
        self._version += 1

    def due(self, margin: float = 0.25) -> bool:
        """Whether a read between evaluations is due: something changed, or the kept state
        ages out within ``margin`` of the max age."""
        if self._state is None or self._reading is not None:
            return False
        age = time.monotonic() - self._read_at
        return self._read_version != self._version or age >= self.max_age_seconds * (1 - margin)

    def refresh(self, ctx: RunContext) -> asyncio.Task[PortfolioState]:
        """Read the account again in the background (the held positions valued at the
        stream's books); an evaluation starting meanwhile waits for it."""
        if self._reading is None:
            held = tuple(self._state.positions) if self._state is not None else ()
            task = asyncio.create_task(self._read_held(ctx, held))
            task.add_done_callback(self._read_done)
            self._reading = task
        return self._reading

    def _read_done(self, task: asyncio.Task[PortfolioState]) -> None:
        if self._reading is task:
            self._reading = None
        if not task.cancelled():
            task.exception()  # retrieved: a failed read is re-done inline by the next evaluation

    async def close(self) -> None:
        reading, self._reading = self._reading, None
        if reading is not None:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading  # its outcome no longer matters

    async def _read_held(self, ctx: RunContext, held: tuple[str, ...]) -> PortfolioState:
        books, catalogue = await self.books_for(ctx, held)
        return await self._read(ctx, books, catalogue)

    async def _read(
        self, ctx: RunContext, books: Mapping[str, OrderBook], catalogue: Catalogue
    ) -> PortfolioState:
        version = self._version
        started = time.monotonic()
        state = await run_off_loop(lambda: portfolio_state(ctx, books, catalogue))
        self.counters.reads += 1
        if started >= self._read_at:
            self._state, self._read_at, self._read_version = state, started, version
        return state
