"""Client-side rate limiting: stay under the venue's documented per-10-second limits.

Polymarket's limits are Cloudflare sliding windows per endpoint (docs/VENUE.md 4.2; e.g. Gamma
/markets 300, CLOB POST /books 500 per 10 s; https://docs.polymarket.com/api-reference/rate-limits).
Over the limit the venue queues or answers 429, so pm-agent keeps to a configurable share of each
limit (``Settings.rate_budget_fraction``) with a sliding window of request start times. A 429 with
Retry-After also pauses every caller sharing the limiter (``hold``), not just the one that got it.
The clock and the sleep are injectable so tests never wait for real.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from decimal import ROUND_FLOOR, Decimal

__all__ = ["Clock", "RateLimiter", "Sleep"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

WINDOW_SECONDS = 10.0


class RateLimiter:
    """At most ``max_requests`` request starts in any ``window_seconds`` (a sliding window)."""

    def __init__(
        self,
        max_requests: int,
        window_seconds: float = WINDOW_SECONDS,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_requests < 1 or window_seconds <= 0:
            raise ValueError("a rate limit needs max_requests >= 1 and a positive window")
        self.max_requests = max_requests
        self.window_seconds = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._resume_at = float("-inf")
        self._lock = asyncio.Lock()

    @classmethod
    def for_budget(
        cls,
        documented_per_10s: int,
        budget_fraction: Decimal,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> RateLimiter:
        """A limiter for ``documented_per_10s x budget_fraction`` requests per 10 s (at least 1)."""
        allowed = (Decimal(documented_per_10s) * budget_fraction).to_integral_value(ROUND_FLOOR)
        return cls(max(1, int(allowed)), WINDOW_SECONDS, clock=clock, sleep=sleep)

    def hold(self, seconds: float) -> None:
        """Start no request for ``seconds`` from now (the venue said Retry-After)."""
        self._resume_at = max(self._resume_at, self._clock() + seconds)

    async def acquire(self) -> None:
        """Wait until one more request may start inside the budget, and count it."""
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._resume_at:
                    await self._sleep(self._resume_at - now)
                    continue
                horizon = now - self.window_seconds
                while self._starts and self._starts[0] <= horizon:
                    self._starts.popleft()
                if len(self._starts) < self.max_requests:
                    self._starts.append(now)
                    return
                await self._sleep(self._starts[0] - horizon)
