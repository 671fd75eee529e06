"""Retrying JSON reads over one shared ``httpx.AsyncClient``, inside a rate budget.

Only *reads* go through here (GET, and POST /books-style bulk reads that change nothing): they are
retried on 429, 425, 5xx, timeouts and connection errors with exponential backoff and jitter,
honouring Retry-After. Orders never come this way; they are never retried blindly.

httpx failures become ``pm_lib.errors`` with ``raise ... from e``:

    timeout / connection error / 5xx / 425  -> RetryableError   (after the retries run out)
    429                                     -> RateLimited      (after the retries run out)
    other 4xx                               -> RejectedByVenue  (no retry)
    unsupported URL scheme                  -> ConfigurationError
    2xx that is not JSON                    -> BadVenueData
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from pm_lib.errors import (
    BadVenueData,
    ConfigurationError,
    RateLimited,
    RejectedByVenue,
    RetryableError,
)
from pm_lib.settings import Settings
from pm_lib.venue.ratelimit import RateLimiter, Sleep

QueryParams = Mapping[str, str | Sequence[str]]  # a list value repeats the parameter

__all__ = ["RequestCounters", "RetryPolicy", "VenueReader", "open_venue_client"]

logger = logging.getLogger(__name__)

# 425 Too Early: the matching engine is restarting (docs/VENUE.md 4.6).
_RETRYABLE_STATUS = frozenset({425, 500, 502, 503, 504})
_JSON_HEADERS = {"Content-Type": "application/json"}


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # A verifying context loads the CA bundle (30-50 ms here); one per process serves every run.
    return httpx.create_ssl_context()


def open_venue_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one ``AsyncClient`` a scan shares; pooled for ``Settings.http_concurrency``."""
    return httpx.AsyncClient(
        verify=_tls_context(),
        timeout=settings.http_timeout_seconds,
        limits=httpx.Limits(
            max_connections=settings.http_concurrency,
            max_keepalive_connections=settings.http_concurrency,
        ),
        headers={"User-Agent": "pm-agent"},
        transport=transport,
    )


@dataclass
class RequestCounters:
    """What reads cost: requests sent (every attempt), retries, and 429 answers."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0


@dataclass(frozen=True)
class RetryPolicy:
    """How long a read may take and how often it is retried: the one read-retry policy.

    It covers every read pm-agent makes of the venue: this module's async reader and the SDK's
    reads in ``pm_lib.venue.trading``. Only ``RetryableError`` (and ``RateLimited``, after the
    venue's Retry-After) is retried; writes, ``ConfigurationError``, ``RejectedByVenue`` and
    ``BadVenueData`` never are. Nothing above the adapter (Prefect tasks) retries on top.
    """

    max_retries: int
    timeout_seconds: float
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 30.0
    max_retry_after_seconds: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """``PM_HTTP_MAX_RETRIES`` retries, ``PM_HTTP_TIMEOUT_SECONDS`` per attempt."""
        return cls(
            max_retries=settings.http_max_retries, timeout_seconds=settings.http_timeout_seconds
        )

    def backoff(self, retry: int, jitter: float) -> float:
        """Delay before retry number ``retry`` (0-based): exponential, half of it jittered."""
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2.0**retry)
        return ceiling / 2 + jitter * ceiling / 2

    def delay_before_retry(self, retry: int, error: RetryableError, jitter: float) -> float | None:
        """Seconds to wait before retry number ``retry`` (0-based) after ``error``; None when
        the read must give up (retries spent, or a Retry-After longer than
        ``max_retry_after_seconds``)."""
        if retry >= self.max_retries:
            return None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            if error.retry_after > self.max_retry_after_seconds:
                return None
            return error.retry_after
        return self.backoff(retry, jitter)


def _retry_after_seconds(response: httpx.Response, body: bytes) -> float | None:
    header = response.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    # Order endpoints say {"error": ..., "retry_after_seconds": n} (docs/VENUE.md 2.4).
    seconds = answer.get("retry_after_seconds") if isinstance(answer, dict) else None
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        return max(0.0, float(seconds))
    return None


def _venue_message(body: bytes) -> str:
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(answer, dict):
        for key in ("error", "error_msg", "errorMsg", "message"):
            if isinstance(answer.get(key), str):
                return str(answer[key])
    return body[:200].decode("utf-8", "replace")


class VenueReader:
    """JSON reads with retries, backoff and a shared rate limiter, over one ``AsyncClient``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        limiter: RateLimiter,
        policy: RetryPolicy,
        *,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        counters: RequestCounters | None = None,
    ) -> None:
        self.client = client
        self.limiter = limiter
        self.policy = policy
        self.counters = counters if counters is not None else RequestCounters()
        self._sleep = sleep
        self._jitter = jitter

    async def get_json(self, url: str, params: QueryParams | None = None) -> Any:
        """GET ``url`` and return its decoded JSON body."""
        return await self._read("GET", url, params=params, body=None)

    async def post_json(self, url: str, body: Any) -> Any:
        """POST a JSON body to a *read* endpoint (e.g. POST /books) and return the JSON answer."""
        return await self._read("POST", url, params=None, body=orjson.dumps(body))

    async def _read(
        self, method: str, url: str, *, params: QueryParams | None, body: bytes | None
    ) -> Any:
        for retry in range(self.policy.max_retries + 1):
            if retry:
                self.counters.retries += 1
            try:
                return await self._attempt(method, url, params, body)
            except RetryableError as e:
                delay = self.policy.delay_before_retry(retry, e, self._jitter())
                if delay is None:
                    raise
                if isinstance(e, RateLimited) and e.retry_after is not None:
                    self.limiter.hold(e.retry_after)
                logger.info("retrying %s %s in %.2fs: %s", method, url, delay, e)
                await self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _attempt(
        self, method: str, url: str, params: QueryParams | None, body: bytes | None
    ) -> Any:
        await self.limiter.acquire()
        self.counters.requests += 1
        try:
            async with self.client.stream(
                method,
                url,
                params=params,
                content=body,
                headers=_JSON_HEADERS if body is not None else None,
                timeout=self.policy.timeout_seconds,
            ) as response:
                # Read the body here rather than with .aread(): an httpx Response and its stream
                # refer to each other, so a body kept on the Response lives until the cyclic
                # collector runs, which a scan pauses (pm_lib.pipeline.scan_memory).
                answer = b"".join([chunk async for chunk in response.aiter_bytes()])
        except httpx.UnsupportedProtocol as e:
            raise ConfigurationError(f"cannot reach {url}: {e}") from e
        except httpx.TimeoutException as e:
            raise RetryableError(f"{method} {url} timed out: {e!r}") from e
        except httpx.TransportError as e:
            raise RetryableError(f"{method} {url} failed: {e!r}") from e
        return self._decode(method, url, response, answer)

    def _decode(self, method: str, url: str, response: httpx.Response, body: bytes) -> Any:
        status = response.status_code
        if status == 429:
            self.counters.rate_limited += 1
            raise RateLimited(
                f"{method} {url} rate limited: {_venue_message(body)}",
                retry_after=_retry_after_seconds(response, body),
            )
        if status in _RETRYABLE_STATUS or status >= 500:
            raise RetryableError(
                f"{method} {url} -> {status}: {_venue_message(body)}", status_code=status
            )
        if not 200 <= status < 300:
            raise RejectedByVenue(
                f"{method} {url} -> {status}: {_venue_message(body)}", status_code=status
            )
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise BadVenueData("response", url, f"body is not JSON: {e}") from e
