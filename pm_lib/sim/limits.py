"""Rate limits and request statistics of the emulated venue (ASGI middleware).

The documented limits (docs/VENUE.md 4.2, docs rate-limits page, June 2026) are enforced per
client IP with sliding windows: a request over any matching limit gets HTTP 429
``{"error": "..."}`` with ``Retry-After`` (seconds until the window frees a slot) and is not
counted. The live venue (Cloudflare) mostly throttles instead, but 429s happen; clients must
handle both. Limits change between docs versions, so every one is configurable by name
(``SimConfig.rate_limit_overrides``, ``POST /_sim/rate-limits``) and the whole check can be
switched off (``SimConfig.enforce_rate_limits``) for benchmarks that measure something else.
``/_sim`` control routes are never limited. Every request is counted in ``RequestStats``.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "DEFAULT_LIMITS",
    "RateLimit",
    "RateLimiter",
    "RequestStats",
    "TrafficMiddleware",
    "endpoint_name",
]


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` requests per ``window_seconds`` per client to matching endpoints."""

    name: str
    method: str | None  # None: any method
    path: str  # regular expression, full match against the request path
    limit: int
    window_seconds: float = 10.0

    def matches(self, method: str, path: str) -> bool:
        """Whether a request counts against this limit."""
        return (self.method is None or self.method == method) and bool(
            _compiled(self.path).fullmatch(path)
        )


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_CLOB = r"/(?!gamma/|gamma$|_sim/).*"
_TEN_MINUTES = 600.0

DEFAULT_LIMITS: tuple[RateLimit, ...] = (
    # CLOB market data
    RateLimit("clob_general", None, _CLOB, 9000),
    RateLimit("ok", "GET", "/ok", 100),
    RateLimit("book", "GET", "/book", 1500),
    RateLimit("books", "POST", "/books", 500),
    RateLimit("price", "GET", "/price", 1500),
    RateLimit("prices", "POST", "/prices", 500),
    RateLimit("midpoint", "GET", "/midpoint", 1500),
    RateLimit("midpoints", "POST", "/midpoints", 500),
    RateLimit("prices_history", "GET", "/prices-history", 1000),
    RateLimit("tick_size", "GET", "/tick-size", 200),
    # CLOB account and ledger
    RateLimit("api_keys", None, r"/auth/.*", 100),
    RateLimit("balance_allowance", "GET", "/balance-allowance", 200),
    RateLimit("balance_allowance_update", "GET", "/balance-allowance/update", 50),
    RateLimit("ledger", "GET", r"/data/.*|/notifications", 900),
    RateLimit("data_orders", "GET", "/data/orders", 500),
    RateLimit("data_trades", "GET", "/data/trades", 500),
    RateLimit("notifications", None, "/notifications", 125),
    # Trading: burst per 10 s and sustained per 10 min
    RateLimit("post_order", "POST", "/order", 5000),
    RateLimit("post_order_sustained", "POST", "/order", 120_000, _TEN_MINUTES),
    RateLimit("cancel_order", "DELETE", "/order", 5000),
    RateLimit("cancel_order_sustained", "DELETE", "/order", 120_000, _TEN_MINUTES),
    RateLimit("post_orders", "POST", "/orders", 2000),
    RateLimit("post_orders_sustained", "POST", "/orders", 21_000, _TEN_MINUTES),
    RateLimit("cancel_orders", "DELETE", "/orders", 2000),
    RateLimit("cancel_orders_sustained", "DELETE", "/orders", 15_000, _TEN_MINUTES),
    RateLimit("cancel_all", "DELETE", "/cancel-all", 250),
    RateLimit("cancel_all_sustained", "DELETE", "/cancel-all", 6000, _TEN_MINUTES),
    RateLimit("cancel_market_orders", "DELETE", "/cancel-market-orders", 1500),
    RateLimit(
        "cancel_market_orders_sustained", "DELETE", "/cancel-market-orders", 21_000, _TEN_MINUTES
    ),
    # Gamma (served under /gamma)
    RateLimit("gamma_general", None, r"/gamma(/.*)?", 4000),
    RateLimit("gamma_markets", "GET", r"/gamma/markets(/.*)?", 300),
    RateLimit("gamma_events", "GET", r"/gamma/events(/.*)?", 500),
    RateLimit("gamma_listing", "GET", r"/gamma/(markets|events)(/keyset)?", 900),
)


class RateLimiter:
    """Sliding-window counters per (limit, client). Thread-safe; time is monotonic."""

    def __init__(
        self,
        overrides: dict[str, int] | None = None,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.clock = clock
        self.limits: dict[str, RateLimit] = {lim.name: lim for lim in DEFAULT_LIMITS}
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self.set_limits(overrides or {})

    def set_limits(self, overrides: dict[str, int]) -> None:
        """Change the maximum of named limits (unknown names raise ``KeyError``)."""
        for name, limit in overrides.items():
            if limit < 1:
                raise ValueError(f"limit {name} must be >= 1")
            self.limits[name] = replace(self.limits[name], limit=int(limit))
        self.clear()

    def clear(self) -> None:
        """Forget every counted request."""
        with self._lock:
            self._hits.clear()

    def admit(self, client: str, method: str, path: str) -> tuple[RateLimit, float] | None:
        """Count the request, or return the limit it breaks and the seconds to wait."""
        if not self.enabled:
            return None
        now = self.clock()
        matching = [lim for lim in self.limits.values() if lim.matches(method, path)]
        with self._lock:
            windows = []
            for lim in matching:
                hits = self._hits.setdefault((lim.name, client), deque())
                while hits and hits[0] <= now - lim.window_seconds:
                    hits.popleft()
                if len(hits) >= lim.limit:
                    return lim, hits[0] + lim.window_seconds - now
                windows.append(hits)
            for hits in windows:
                hits.append(now)
        return None


@dataclass
class RequestStats:
    """Requests served by endpoint and status, and the 429s by limit name (status "0": no
    response was sent, e.g. the client gave up during a ``timeout`` fault)."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, endpoint: str, status: int) -> None:
        """Count one answered request."""
        with self._lock:
            self.requests[endpoint] += 1
            self.statuses[str(status)] += 1

    def record_throttled(self, limit: str) -> None:
        """Count one 429."""
        with self._lock:
            self.throttled[limit] += 1

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready counters."""
        with self._lock:
            return {
                "requests": dict(self.requests),
                "total": sum(self.requests.values()),
                "statuses": dict(self.statuses),
                "throttled": dict(self.throttled),
                "throttled_total": sum(self.throttled.values()),
            }

    def clear(self) -> None:
        """Reset every counter."""
        with self._lock:
            self.requests.clear()
            self.statuses.clear()
            self.throttled.clear()


_ID_SEGMENT = re.compile(r"^(\d+|0x[0-9a-fA-F]+)$")


def endpoint_name(method: str, path: str) -> str:
    """``"GET /markets-by-token/{id}"``: ids folded so counters group by endpoint."""
    parts = ["{id}" if _ID_SEGMENT.match(p) else p for p in path.split("/")]
    return f"{method} {'/'.join(parts)}"


class TrafficMiddleware:
    """Counts every request and answers 429 when a rate limit is exceeded."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, stats: RequestStats) -> None:
        self.app = app
        self.limiter = limiter
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        endpoint = endpoint_name(method, path)
        client = (scope.get("client") or ("unknown", 0))[0]
        breach = None if path.startswith("/_sim") else self.limiter.admit(client, method, path)
        if breach is not None:
            limit, wait = breach
            self.stats.record_throttled(limit.name)
            self.stats.record(endpoint, 429)
            body = orjson.dumps(
                {"error": f"Too Many Requests: {limit.limit} per {limit.window_seconds:g}s"}
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", str(max(1, math.ceil(wait))).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        status = 0

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.stats.record(endpoint, status)
