"""fetch_catalogue_changes against a scripted Gamma serving the recorded live market 559651.

Rows are listed newest first by ``updatedAt``, as ``order=updatedAt&ascending=false`` asks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from pm_lib.errors import FullListingNeeded, RetryableError
from pm_lib.models import CatalogueChanges
from pm_lib.venue.gamma_changes import WATERMARK_OVERLAP, fetch_catalogue_changes
from pm_lib.venue.http import RequestCounters
from pm_lib.venue.ratelimit import RateLimiter
from tests.venue.conftest import FakeTime
from tests.venue.test_gamma import NOW, GammaStub, Page, event_row, fetch, market_row, settings

pytestmark = pytest.mark.anyio

WATERMARK = NOW - timedelta(minutes=15)


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def changed(i: int, minutes_ago: float, **fields: Any) -> dict[str, Any]:
    """Market ``i`` as Gamma lists it, last updated ``minutes_ago`` before NOW."""
    return market_row(i, updatedAt=iso(NOW - timedelta(minutes=minutes_ago)), **fields)


def changed_event(i: int, minutes_ago: float, **fields: Any) -> dict[str, Any]:
    row = event_row(i, [i])
    row.update(updatedAt=iso(NOW - timedelta(minutes=minutes_ago)), **fields)
    return row


async def changes(
    stub: GammaStub, fake_time: FakeTime, counters: RequestCounters | None = None, **kw: Any
) -> CatalogueChanges:
    client = httpx.AsyncClient(transport=httpx.MockTransport(stub))
    limiter = RateLimiter(240, clock=fake_time.clock, sleep=fake_time.sleep)
    return await fetch_catalogue_changes(
        client,
        settings().model_copy(update=kw),
        NOW,
        WATERMARK,
        limiter=limiter,
        counters=counters,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )


# Three pages of changes newest first; page "c2" reaches rows older than the watermark, so the
# listing must stop there and never ask for "c3".
MARKETS: dict[str | None, Page] = {
    None: ([changed(1, 1), changed(2, 2, closed=True)], "c1"),
    "c1": ([changed(3, 5), changed(4, 14)], "c2"),
    "c2": ([changed(5, 16), changed(6, 60 * 24)], "c3"),
    "c3": ([changed(7, 60 * 48)], None),
}
EVENTS: dict[str | None, Page] = {
    None: ([changed_event(1, 3), changed_event(4, 4, closed=True), changed_event(9, 600)], "e1"),
    "e1": ([changed_event(10, 900)], None),
}


async def test_stops_paging_after_the_page_that_reaches_the_watermark(
    fake_time: FakeTime,
) -> None:
    stub = GammaStub(MARKETS, EVENTS)
    counters = RequestCounters()

    await changes(stub, fake_time, counters)

    cursors = [p.get("after_cursor") for p in stub.params("/markets/keyset")]
    assert cursors == [None, "c1", "c2"]
    assert [p.get("after_cursor") for p in stub.params("/events/keyset")] == [None]
    assert counters.requests == 4


async def test_lists_by_updated_at_newest_first_without_a_closed_filter(
    fake_time: FakeTime,
) -> None:
    stub = GammaStub(MARKETS, EVENTS)

    await changes(stub, fake_time)

    for path in ("/markets/keyset", "/events/keyset"):
        for params in stub.params(path):
            assert params["order"] == "updatedAt" and params["ascending"] == "false"
            assert params["limit"] == "100" and "closed" not in params and "offset" not in params


async def test_open_markets_are_listed_and_closed_ones_removed(fake_time: FakeTime) -> None:
    found = await changes(GammaStub(MARKETS, EVENTS), fake_time)

    assert sorted(m.market_id for m in found.markets) == ["1", "3", "4", "5", "6"]
    assert found.removed_markets == (f"0x{2:064x}",)


async def test_neg_risk_events_are_listed_and_closed_ones_removed(fake_time: FakeTime) -> None:
    found = await changes(GammaStub(MARKETS, EVENTS), fake_time)

    assert [e.event_id for e in found.events] == ["e9", "e1"]  # oldest first, as merged
    assert found.removed_events == ("e4",)


async def test_a_market_that_became_bad_data_is_skipped_and_removed(fake_time: FakeTime) -> None:
    bad = changed(1, 1, clobTokenIds="not json")
    stub = GammaStub({None: ([bad, changed(2, 60)], None)})

    found = await changes(stub, fake_time)

    assert found.markets[0].market_id == "2" and found.removed_markets == (f"0x{1:064x}",)
    assert [s.ident for s in found.skipped] == ["1"]


async def test_newest_row_of_a_market_listed_twice_wins(fake_time: FakeTime) -> None:
    stub = GammaStub({None: ([changed(1, 1, closed=True), changed(1, 3), changed(2, 60)], None)})

    found = await changes(stub, fake_time)

    assert found.removed_markets == (f"0x{1:064x}",)
    assert [m.market_id for m in found.markets] == ["2"]


async def test_new_watermark_is_the_newest_update_seen(fake_time: FakeTime) -> None:
    found = await changes(GammaStub(MARKETS, EVENTS), fake_time)

    assert found.watermark == NOW - timedelta(minutes=1)  # the listing took no (fake) time


async def test_new_watermark_is_moved_back_by_the_listing_time(fake_time: FakeTime) -> None:
    stub = GammaStub(MARKETS, EVENTS, failures=[httpx.Response(429, headers={"Retry-After": "7"})])

    found = await changes(stub, fake_time)

    assert fake_time.now >= 7
    assert found.watermark == NOW - timedelta(minutes=1, seconds=fake_time.now)


async def test_nothing_changed_keeps_the_watermark_in_one_page_each(fake_time: FakeTime) -> None:
    old = WATERMARK - WATERMARK_OVERLAP - timedelta(seconds=1)
    stub = GammaStub(
        {None: ([market_row(1, updatedAt=iso(old))], "c1")},
        {None: ([changed_event(1, 600)], "e1")},
    )

    found = await changes(stub, fake_time)

    assert found.watermark == WATERMARK
    assert len(stub.requests) == 2


async def test_rows_out_of_updated_at_order_need_a_full_listing(fake_time: FakeTime) -> None:
    stub = GammaStub({None: ([changed(1, 5), changed(2, 1)], None)})

    with pytest.raises(FullListingNeeded, match="not listed in updatedAt order"):
        await changes(stub, fake_time)


async def test_a_row_without_updated_at_needs_a_full_listing(fake_time: FakeTime) -> None:
    row = changed(1, 1)
    del row["updatedAt"]

    with pytest.raises(FullListingNeeded, match="updatedAt"):
        await changes(GammaStub({None: ([row], None)}), fake_time)


async def test_more_pages_than_the_limit_need_a_full_listing(fake_time: FakeTime) -> None:
    stub = GammaStub(MARKETS, EVENTS)

    with pytest.raises(FullListingNeeded, match="PM_CATALOGUE_INCREMENTAL_MAX_PAGES"):
        await changes(stub, fake_time, catalogue_incremental_max_pages=2)

    assert len(stub.requests) == 2  # it gave up without reading further


async def test_page_failing_past_the_retries_fails_the_refresh(fake_time: FakeTime) -> None:
    stub = GammaStub(MARKETS, EVENTS, failures=[httpx.Response(503)] * 4)

    with pytest.raises(RetryableError):
        await changes(stub, fake_time)


async def test_full_listing_watermark_is_its_newest_update(fake_time: FakeTime) -> None:
    stub = GammaStub({None: ([changed(1, 30), changed(2, 3)], None)})

    catalogue = await fetch(stub, fake_time, clock=fake_time.clock)

    assert catalogue.watermark == NOW - timedelta(minutes=3)


async def test_a_gamma_refusing_to_order_by_updated_at_needs_a_full_listing(
    fake_time: FakeTime,
) -> None:
    refused = httpx.Response(
        422, json={"type": "validation error", "error": "order fields are not valid"}
    )
    stub = GammaStub(MARKETS, EVENTS, failures=[refused])

    with pytest.raises(FullListingNeeded, match="refused"):
        await changes(stub, fake_time)
