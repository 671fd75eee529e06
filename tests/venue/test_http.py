"""VenueReader retries, error mapping and counters; RateLimiter windows. No real waiting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import httpx
import pytest

from pm_lib.errors import (
    BadVenueData,
    ConfigurationError,
    RateLimited,
    RejectedByVenue,
    RetryableError,
)
from pm_lib.venue.http import RetryPolicy, VenueReader
from pm_lib.venue.ratelimit import RateLimiter
from tests.venue.conftest import FakeTime

pytestmark = pytest.mark.anyio

URL = "https://venue.test/thing"
Handler = Callable[[httpx.Request], httpx.Response]


def scripted(*steps: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering each request with the next step (a response, or an error to raise)."""
    seen: list[httpx.Request] = []
    queue: Iterator[httpx.Response | Exception] = iter(steps)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = next(queue)
        if isinstance(step, Exception):
            raise step
        return step

    return handle, seen


def reader(handler: Handler, fake_time: FakeTime, *, max_retries: int = 3) -> VenueReader:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    limiter = RateLimiter(1000, clock=fake_time.clock, sleep=fake_time.sleep)
    policy = RetryPolicy(max_retries=max_retries, timeout_seconds=1.0)
    return VenueReader(client, limiter, policy, sleep=fake_time.sleep, jitter=lambda: 0.0)


OK = httpx.Response(200, json={"ok": True})


async def test_429_with_retry_after_waits_that_long_then_succeeds(fake_time: FakeTime) -> None:
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": "3"}), OK)
    venue = reader(handler, fake_time)

    assert await venue.get_json(URL) == {"ok": True}

    assert fake_time.sleeps == [3.0]
    assert (venue.counters.requests, venue.counters.retries, venue.counters.rate_limited) == (
        2,
        1,
        1,
    )


async def test_retry_after_in_the_json_body_is_honoured(fake_time: FakeTime) -> None:
    handler, _ = scripted(httpx.Response(429, json={"retry_after_seconds": 7}), OK)

    await reader(handler, fake_time).get_json(URL)

    assert fake_time.sleeps == [7.0]


async def test_5xx_then_success_backs_off_exponentially(fake_time: FakeTime) -> None:
    handler, seen = scripted(
        httpx.Response(500), httpx.Response(502), httpx.Response(503), httpx.Response(200, json=[])
    )

    assert await reader(handler, fake_time).get_json(URL) == []

    assert fake_time.sleeps == [0.25, 0.5, 1.0]
    assert len(seen) == 4


def test_jitter_stretches_the_backoff_up_to_its_ceiling() -> None:
    policy = RetryPolicy(max_retries=3, timeout_seconds=1.0)

    assert policy.backoff(2, jitter=0.0) == 1.0
    assert policy.backoff(2, jitter=1.0) == 2.0
    assert policy.backoff(20, jitter=1.0) == policy.max_delay_seconds


async def test_timeout_then_success(fake_time: FakeTime) -> None:
    handler, seen = scripted(httpx.ReadTimeout("slow"), OK)

    assert await reader(handler, fake_time).get_json(URL) == {"ok": True}
    assert len(seen) == 2


async def test_connection_errors_then_success(fake_time: FakeTime) -> None:
    handler, seen = scripted(httpx.ConnectError("refused"), httpx.RemoteProtocolError("eof"), OK)

    assert await reader(handler, fake_time).get_json(URL) == {"ok": True}
    assert len(seen) == 3


async def test_exhausted_5xx_retries_raise_retryable_error(fake_time: FakeTime) -> None:
    handler, seen = scripted(*[httpx.Response(503, json={"error": "busy"})] * 3)
    venue = reader(handler, fake_time, max_retries=2)

    with pytest.raises(RetryableError, match="busy") as caught:
        await venue.get_json(URL)

    assert caught.value.status_code == 503
    assert not isinstance(caught.value, RateLimited)
    assert (len(seen), venue.counters.retries) == (3, 2)


async def test_exhausted_timeouts_raise_retryable_error_from_httpx(fake_time: FakeTime) -> None:
    handler, _ = scripted(*[httpx.ReadTimeout("slow")] * 2)

    with pytest.raises(RetryableError, match="timed out") as caught:
        await reader(handler, fake_time, max_retries=1).get_json(URL)

    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


async def test_exhausted_429_retries_raise_rate_limited(fake_time: FakeTime) -> None:
    handler, _ = scripted(*[httpx.Response(429, headers={"Retry-After": "1"})] * 3)
    venue = reader(handler, fake_time, max_retries=2)

    with pytest.raises(RateLimited) as caught:
        await venue.get_json(URL)

    assert caught.value.retry_after == 1.0
    assert venue.counters.rate_limited == 3


async def test_retry_after_beyond_the_cap_is_not_waited_for(fake_time: FakeTime) -> None:
    handler, seen = scripted(httpx.Response(429, headers={"Retry-After": "3600"}), OK)

    with pytest.raises(RateLimited):
        await reader(handler, fake_time).get_json(URL)

    assert (len(seen), fake_time.sleeps) == (1, [])


async def test_other_4xx_is_rejected_without_retry(fake_time: FakeTime) -> None:
    handler, seen = scripted(
        httpx.Response(404, json={"error": "No orderbook exists for the requested token id"})
    )

    with pytest.raises(RejectedByVenue, match="No orderbook exists") as caught:
        await reader(handler, fake_time).get_json(URL)

    assert caught.value.status_code == 404
    assert len(seen) == 1


async def test_non_json_success_is_bad_venue_data(fake_time: FakeTime) -> None:
    handler, _ = scripted(httpx.Response(200, text="<html>maintenance</html>"))

    with pytest.raises(BadVenueData, match="not JSON"):
        await reader(handler, fake_time).get_json(URL)


async def test_unsupported_scheme_is_a_configuration_error(fake_time: FakeTime) -> None:
    venue = VenueReader(
        httpx.AsyncClient(),
        RateLimiter(10, clock=fake_time.clock, sleep=fake_time.sleep),
        RetryPolicy(max_retries=3, timeout_seconds=1.0),
        sleep=fake_time.sleep,
    )

    with pytest.raises(ConfigurationError):
        await venue.get_json("ftp://venue.test/markets")


async def test_post_json_sends_a_json_body(fake_time: FakeTime) -> None:
    handler, seen = scripted(httpx.Response(200, json=[]))

    await reader(handler, fake_time).post_json(URL, [{"token_id": "1"}])

    assert seen[0].method == "POST"
    assert seen[0].headers["Content-Type"] == "application/json"
    assert seen[0].content == b'[{"token_id":"1"}]'


async def test_get_json_sends_params(fake_time: FakeTime) -> None:
    handler, seen = scripted(OK)

    await reader(handler, fake_time).get_json(URL, {"limit": "100", "closed": "false"})

    assert dict(seen[0].url.params) == {"limit": "100", "closed": "false"}


def test_budget_is_a_floored_share_of_the_documented_limit() -> None:
    assert RateLimiter.for_budget(500, Decimal("0.8")).max_requests == 400
    assert RateLimiter.for_budget(3, Decimal("0.3")).max_requests == 1


async def test_limiter_admits_a_full_window_then_waits_for_the_oldest(
    fake_time: FakeTime,
) -> None:
    limiter = RateLimiter(3, 10.0, clock=fake_time.clock, sleep=fake_time.sleep)

    for _ in range(3):
        await limiter.acquire()
    assert fake_time.sleeps == []
    await limiter.acquire()

    assert fake_time.sleeps == [10.0]


async def test_limiter_window_slides(fake_time: FakeTime) -> None:
    limiter = RateLimiter(2, 10.0, clock=fake_time.clock, sleep=fake_time.sleep)
    await limiter.acquire()
    fake_time.now = 6.0
    await limiter.acquire()
    fake_time.now = 10.5

    await limiter.acquire()

    assert fake_time.sleeps == []


async def test_limiter_hold_pauses_the_next_start(fake_time: FakeTime) -> None:
    limiter = RateLimiter(100, 10.0, clock=fake_time.clock, sleep=fake_time.sleep)
    limiter.hold(4.0)

    await limiter.acquire()

    assert fake_time.sleeps == [4.0]


async def test_reader_requests_wait_for_the_rate_budget(fake_time: FakeTime) -> None:
    handler, _ = scripted(OK, OK, OK)
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    limiter = RateLimiter(2, 10.0, clock=fake_time.clock, sleep=fake_time.sleep)
    venue = VenueReader(client, limiter, RetryPolicy(0, 1.0), sleep=fake_time.sleep)

    for _ in range(3):
        await venue.get_json(URL)

    assert fake_time.sleeps == [10.0]
