"""How often a long stage tells the UI how far it got (Prefect-free, so it is testable alone).

Each progress update is a round trip to the Prefect API, and the API server shares the machine
with the scan: a fast books fetch (a 1,000-market universe is four ``POST /books`` chunks) that
reported every 10% step spent more on its progress artifact than on its books
(docs/PERFORMANCE.md). So an update is sent at most once every ``min_interval`` seconds and only
when it moved the bar by at least ``min_step`` percent; the final 100% is always sent by the
caller when the stage ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["ProgressPacer"]


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
