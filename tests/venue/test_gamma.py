"""fetch_catalogue against a scripted Gamma (httpx.MockTransport): paging, skipping, retries."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from pm_lib.errors import BadVenueData, RetryableError
from pm_lib.settings import Settings
from pm_lib.venue.gamma import fetch_catalogue
from pm_lib.venue.http import RequestCounters
from pm_lib.venue.ratelimit import RateLimiter
from tests.venue.conftest import FakeTime, load_resource

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
GAMMA = "https://gamma.test"
Page = tuple[list[Any], str | None]


def market_row(i: int, **changes: Any) -> dict[str, Any]:
    """The recorded live market 559651, re-numbered as market ``i``."""
    row: dict[str, Any] = load_resource(
        "ChloePike-go-polymarket__gamma_market_559651_2026-08-16.json"
    )
    row.update(
        id=str(i),
        conditionId=f"0x{i:064x}",
        slug=f"market-{i}",
        clobTokenIds=json.dumps([str(1000 + 2 * i), str(1001 + 2 * i)]),
    )
    row.update(changes)
    return row


def event_row(i: int, market_ids: list[int], *, neg_risk: bool = True) -> dict[str, Any]:
    return {
        "id": f"e{i}",
        "title": f"Event {i}",
        "slug": f"event-{i}",
        "negRisk": neg_risk,
        "negRiskMarketID": f"0x{i:064x}",
        "closed": False,
        "markets": [{"id": str(m), "conditionId": f"0x{m:064x}"} for m in market_ids],
    }


class GammaStub:
    """Serves keyset pages keyed by cursor; ``failures`` are answered first, in order."""

    def __init__(
        self,
        markets: dict[str | None, Page],
        events: dict[str | None, Page] | None = None,
        failures: list[httpx.Response | Exception] | None = None,
    ) -> None:
        self.pages = {"/markets/keyset": markets, "/events/keyset": events or {None: ([], None)}}
        self.failures = list(failures or [])
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure
        if "offset" in request.url.params:
            return httpx.Response(422, json={"error": "offset too large, use /markets/keyset"})
        pages = self.pages[request.url.path]
        rows, next_cursor = pages[request.url.params.get("after_cursor")]
        key = "markets" if request.url.path == "/markets/keyset" else "events"
        body: dict[str, Any] = {key: rows}
        if next_cursor is not None:
            body["next_cursor"] = next_cursor
        return httpx.Response(200, json=body)

    def params(self, path: str) -> list[dict[str, str]]:
        return [dict(r.url.params) for r in self.requests if r.url.path == path]


def settings() -> Settings:
    return Settings(_env_file=None, gamma_url=GAMMA, http_max_retries=3)


async def fetch(stub: GammaStub, fake_time: FakeTime, **kwargs: Any) -> Any:
    client = httpx.AsyncClient(transport=httpx.MockTransport(stub))
    limiter = RateLimiter(240, clock=fake_time.clock, sleep=fake_time.sleep)
    return await fetch_catalogue(
        client, settings(), NOW, limiter=limiter, sleep=fake_time.sleep, **kwargs
    )


THREE_PAGES: dict[str | None, Page] = {
    None: ([market_row(1), market_row(2)], "c1"),
    "c1": ([market_row(3)], "c2"),
    "c2": ([market_row(4)], None),
}


async def test_follows_next_cursor_across_three_pages(fake_time: FakeTime) -> None:
    stub = GammaStub(THREE_PAGES)

    catalogue = await fetch(stub, fake_time)

    assert [m.market_id for m in catalogue.markets] == ["1", "2", "3", "4"]
    cursors = [p.get("after_cursor") for p in stub.params("/markets/keyset")]
    assert cursors == [None, "c1", "c2"]


async def test_every_page_resends_the_filters_and_never_an_offset(fake_time: FakeTime) -> None:
    stub = GammaStub(THREE_PAGES)

    await fetch(stub, fake_time)

    for params in stub.params("/markets/keyset"):
        assert params["limit"] == "100" and params["closed"] == "false"
        assert "offset" not in params


async def test_catalogue_is_stamped_with_now(fake_time: FakeTime) -> None:
    catalogue = await fetch(GammaStub({None: ([market_row(1)], None)}), fake_time)

    assert catalogue.fetched_at == NOW


async def test_closed_inactive_and_bookless_markets_are_not_listed(fake_time: FakeTime) -> None:
    rows = [
        market_row(1),
        market_row(2, closed=True),
        market_row(3, active=False),
        market_row(4, enableOrderBook=False),
        market_row(5, acceptingOrders=False),
    ]

    catalogue = await fetch(GammaStub({None: (rows, None)}), fake_time)

    assert [m.market_id for m in catalogue.markets] == ["1", "5"]
    assert catalogue.markets[1].accepting_orders is False
    assert catalogue.skipped == ()


async def test_bad_and_v2_markets_are_skipped_and_the_rest_kept(
    fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [
        market_row(1),
        market_row(2, version="v2"),
        market_row(3, orderPriceMinTickSize=0.02),
        "not a market",
        market_row(4),
    ]

    with caplog.at_level(logging.INFO, logger="pm_lib.venue.gamma"):
        catalogue = await fetch(GammaStub({None: (rows, None)}), fake_time)

    assert [m.market_id for m in catalogue.markets] == ["1", "4"]
    reasons = {(s.ident, s.reason) for s in catalogue.skipped}
    assert ("2", "protocol version v2 (positionIds/ExchangeV3) not supported yet") in reasons
    assert any(ident == "3" and "tick" in reason for ident, reason in reasons)
    assert len(catalogue.skipped) == 3
    assert "skipped market 2: protocol version v2" in caplog.text


async def test_neg_risk_events_are_kept_with_their_legs(fake_time: FakeTime) -> None:
    events: dict[str | None, Page] = {
        None: ([event_row(1, [1, 2, 3]), event_row(2, [4], neg_risk=False)], "e-c1"),
        "e-c1": ([event_row(3, [5, 6])], None),
    }

    catalogue = await fetch(GammaStub({None: ([], None)}, events), fake_time)

    assert [e.event_id for e in catalogue.events] == ["e1", "e3"]
    assert catalogue.events[0].market_condition_ids == tuple(f"0x{m:064x}" for m in (1, 2, 3))


async def test_event_pages_resend_their_filters(fake_time: FakeTime) -> None:
    events: dict[str | None, Page] = {None: ([], "x"), "x": ([], None)}
    stub = GammaStub({None: ([], None)}, events)

    await fetch(stub, fake_time)

    assert stub.params("/events/keyset") == [
        {"limit": "100", "closed": "false"},
        {"limit": "100", "closed": "false", "after_cursor": "x"},
    ]


async def test_bad_event_is_skipped(fake_time: FakeTime) -> None:
    broken = event_row(1, [1])
    broken["markets"].append({"id": "99"})

    catalogue = await fetch(GammaStub({None: ([], None)}, {None: ([broken], None)}), fake_time)

    assert catalogue.events == ()
    assert [(s.kind, s.ident) for s in catalogue.skipped] == [("event", "e1")]


async def test_rate_limited_page_is_retried_after_retry_after(fake_time: FakeTime) -> None:
    stub = GammaStub(THREE_PAGES, failures=[httpx.Response(429, headers={"Retry-After": "2"})])
    counters = RequestCounters()

    catalogue = await fetch(stub, fake_time, counters=counters)

    assert len(catalogue.markets) == 4
    assert 2.0 in fake_time.sleeps
    assert (counters.rate_limited, counters.retries) == (1, 1)


async def test_server_error_and_timeout_are_retried(fake_time: FakeTime) -> None:
    stub = GammaStub(THREE_PAGES, failures=[httpx.Response(502), httpx.ReadTimeout("slow")])

    catalogue = await fetch(stub, fake_time)

    assert len(catalogue.markets) == 4


async def test_page_failing_past_the_retries_fails_the_fetch(fake_time: FakeTime) -> None:
    stub = GammaStub(THREE_PAGES, failures=[httpx.Response(500)] * 4)

    with pytest.raises(RetryableError):
        await fetch(stub, fake_time)


async def test_repeating_cursor_is_refused_instead_of_looping(fake_time: FakeTime) -> None:
    pages: dict[str | None, Page] = {None: ([market_row(1)], "same"), "same": ([], "same")}

    with pytest.raises(BadVenueData, match="repeats"):
        await fetch(GammaStub(pages), fake_time)


async def test_page_of_the_wrong_shape_is_bad_venue_data(fake_time: FakeTime) -> None:
    def bare_list(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[market_row(1)])

    client = httpx.AsyncClient(transport=httpx.MockTransport(bare_list))

    with pytest.raises(BadVenueData, match="expected an object with 'markets'"):
        await fetch_catalogue(client, settings(), NOW, sleep=fake_time.sleep)
