"""How a long stage tells the UI how far it got (Prefect-free, so it is testable alone).

Each progress update is a round trip to the Prefect API, and the API server shares the machine
with the scan: a fast books fetch (a 1,000-market universe is four ``POST /books`` chunks, done in
a fraction of a second) that created its bar first and moved it every 10% spent more on the bar
than on its books (docs/PERFORMANCE.md). So:

- ``ProgressPacer`` lets an update through at most once every ``min_interval`` seconds and only
  when it moved the bar by at least ``min_step`` percent;
- ``PacedProgress`` creates the bar with the first update the pacer lets through, i.e. once the
  stage has run for ``min_interval``: a stage that ends sooner shows no bar at all (there was
  nothing to watch). Updates run in the background, each after the previous one (the bar never
  goes back), and ``finish`` sets 100% on a bar that exists. A failing UI call is logged, never
  raised: the stage's own result is what counts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["PacedProgress", "ProgressPacer"]

logger = logging.getLogger(__name__)


class ProgressPacer:
    """Decides which progress values are worth publishing.

    ``update(done, total)`` returns the percentage to publish now, or ``None``. It never
    returns 100 (the end of a stage is published by whoever ends it) and never goes backwards.
    """

    def __init__(
        self,
        *,
        min_interval: float = 1.0,
        min_step: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min_interval < 0 or min_step <= 0:
            raise ValueError("min_interval must be >= 0 and min_step > 0")
        self._min_interval = min_interval
        self._min_step = min_step
        self._clock = clock
        self._last_time = clock()
        self._last_percent = 0.0

    def update(self, done: int, total: int) -> float | None:
        """The percentage to publish after ``done`` of ``total`` items, or ``None`` (not yet)."""
        if total <= 0 or done >= total:
            return None
        percent = 100.0 * done / total
        now = self._clock()
        if percent - self._last_percent < self._min_step:
            return None
        if now - self._last_time < self._min_interval:
            return None
        self._last_time, self._last_percent = now, percent
        return percent


class PacedProgress:
    """A progress bar in some UI, created late and moved as a ``ProgressPacer`` allows.

    ``create(percent)`` makes the bar and returns its id; ``update(id, percent)`` moves it.
    Call ``on_progress(done, total)`` as work arrives (from the event loop's thread) and await
    ``finish()`` when the stage ends.
    """

    def __init__(
        self,
        create: Callable[[float], Awaitable[Any]],
        update: Callable[[Any, float], Awaitable[Any]],
        pacer: ProgressPacer | None = None,
    ) -> None:
        self._create = create
        self._update = update
        self._pacer = pacer or ProgressPacer()
        self._bar: asyncio.Future[Any] | None = None
        self._last: asyncio.Future[None] | None = None

    @property
    def created(self) -> bool:
        """Whether the bar was made (the stage ran long enough to show one)."""
        return self._bar is not None

    def on_progress(self, done: int, total: int) -> None:
        """Note that ``done`` of ``total`` items are done; may send an update in the background."""
        percent = self._pacer.update(done, total)
        if percent is None:
            return
        if self._bar is None:
            self._bar = asyncio.ensure_future(self._create(percent))
            self._last = asyncio.ensure_future(self._after(None, None))
        else:
            self._last = asyncio.ensure_future(self._after(self._last, percent))

    async def finish(self) -> None:
        """Set an existing bar to 100% (after every pending update); no bar, nothing to do."""
        if self._bar is None:
            return
        await self._after(self._last, 100.0)

    async def _after(self, previous: asyncio.Future[None] | None, percent: float | None) -> None:
        if previous is not None:
            await previous  # never raises: every step logs its own failure
        try:
            bar = await self._bar if self._bar is not None else None
            if percent is not None:
                await self._update(bar, percent)
        except Exception as e:  # the bar is only a view of the stage; never fail the stage
            logger.warning("progress bar not updated to %s: %s", percent, e)
