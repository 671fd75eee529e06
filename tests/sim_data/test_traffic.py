"""Documented rate limits answer 429 with Retry-After; every request shows up in the stats."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pm_lib.sim.server import RunningVenue, running_venue
from tests.sim_data.conftest import frozen_venue


@pytest.fixture
def limited() -> Iterator[RunningVenue]:
    """A fresh venue with the documented limits on."""
    with running_venue(frozen_venue(markets=50)) as rv:
        yield rv


def test_burst_over_the_documented_books_limit_gets_429_with_retry_after(
    limited: RunningVenue,
) -> None:
    with httpx.Client(base_url=limited.clob_url) as clob:
        statuses = [clob.post("/books", json=[]).status_code for _ in range(500)]
        over = clob.post("/books", json=[])
    assert statuses == [200] * 500  # POST /books: 500 per 10 s (docs/VENUE.md 4.2)
    assert over.status_code == 429
    assert 1 <= int(over.headers["Retry-After"]) <= 10
    assert "error" in over.json()


def test_limits_are_configurable_and_control_routes_are_never_limited(
    limited: RunningVenue,
) -> None:
    with httpx.Client(base_url=limited.clob_url) as clob:
        clob.post("/_sim/rate-limits", json={"limits": {"gamma_markets": 2}})
        statuses = [clob.get("/gamma/markets/keyset").status_code for _ in range(3)]
        control = [clob.get("/_sim/stats").status_code for _ in range(200)]
    assert statuses == [200, 200, 429]
    assert set(control) == {200}


def test_limits_can_be_switched_off(limited: RunningVenue) -> None:
    with httpx.Client(base_url=limited.clob_url) as clob:
        clob.post("/_sim/rate-limits", json={"enabled": False, "limits": {"book": 1}})
        token = next(iter(limited.venue.state.token_index))
        statuses = {clob.get("/book", params={"token_id": token}).status_code for _ in range(5)}
    assert statuses <= {200, 404}


def test_stats_count_requests_by_endpoint_and_429s(limited: RunningVenue) -> None:
    with httpx.Client(base_url=limited.clob_url) as clob:
        clob.delete("/_sim/stats")
        clob.post("/_sim/rate-limits", json={"limits": {"midpoint": 1}})
        token = next(iter(limited.venue.state.token_index))
        for _ in range(3):
            clob.get("/midpoint", params={"token_id": token})
        clob.get("/markets-by-token/" + token)
        stats = clob.get("/_sim/stats").json()
    assert stats["requests"]["GET /midpoint"] == 3
    assert stats["requests"]["GET /markets-by-token/{id}"] == 1
    assert stats["throttled"] == {"midpoint": 2}
    assert stats["statuses"]["429"] == 2
