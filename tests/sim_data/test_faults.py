"""Injected faults, as an httpx client (and the real SDK) sees them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgs, PartialCreateOrderOptions
from py_clob_client_v2.exceptions import PolyApiException

from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.state import SimMarket
from tests.sim_data.conftest import frozen_venue

TEST_KEY = "0x" + "33" * 32  # a well-known test key, never funded anywhere real


@pytest.fixture(scope="module")
def venue_up() -> Iterator[RunningVenue]:
    with running_venue(frozen_venue(markets=80, enforce_rate_limits=False)) as rv:
        yield rv


@pytest.fixture
def clob(venue_up: RunningVenue) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=venue_up.clob_url, timeout=2.0) as client:
        yield client
        client.delete("/_sim/faults")


def _inject(clob: httpx.Client, **rule: Any) -> dict[str, Any]:
    response = clob.post("/_sim/faults", json=rule)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("status", [500, 503, 425])
def test_error_fault_answers_the_status_with_an_error_body(clob: httpx.Client, status: int) -> None:
    _inject(clob, kind="error", path="/version", status=status, count=1)
    first, second = clob.get("/version"), clob.get("/version")
    assert first.status_code == status and "error" in first.json()
    assert second.status_code == 200  # count=1: fired once


def test_timeout_fault_holds_the_request_past_the_client_timeout(clob: httpx.Client) -> None:
    _inject(clob, kind="timeout", path="/time", delay_seconds=20, count=1)
    with pytest.raises(httpx.ReadTimeout):
        clob.get("/time", timeout=0.3)


def test_malformed_fault_serves_a_body_that_is_not_json(clob: httpx.Client) -> None:
    _inject(clob, kind="malformed", path="/gamma/markets/keyset", count=1)
    response = clob.get("/gamma/markets/keyset", params={"limit": 2})
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_latency_fault_delays_then_answers(clob: httpx.Client) -> None:
    _inject(clob, kind="latency", path="/ok", delay_seconds=0.05, count=1)
    response = clob.get("/ok")
    assert response.status_code == 200 and response.json() == "OK"


def test_response_lost_fault_drops_the_connection_mid_body(clob: httpx.Client) -> None:
    _inject(clob, kind="response_lost", path="/version", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        clob.get("/version")


def test_probability_is_seeded_and_partial(clob: httpx.Client) -> None:
    _inject(clob, kind="error", path="/version", status=502, probability=0.5)
    statuses = [clob.get("/version").status_code for _ in range(40)]
    assert 5 <= statuses.count(502) <= 35 and statuses.count(200) == 40 - statuses.count(502)


def test_faults_never_touch_control_routes(clob: httpx.Client) -> None:
    _inject(clob, kind="error", path=".*", status=500)
    assert clob.get("/_sim/faults").status_code == 200
    assert clob.get("/ok").status_code == 500


def _restable(venue_up: RunningVenue) -> SimMarket:
    md = venue_up.venue.market_data
    for market in venue_up.venue.state.markets.values():
        top = md.top_of_book(market)
        if (
            market.accepting_orders
            and not market.closed
            and market.tick_size == Decimal("0.01")
            and top is not None
            and top.bid is not None
            and top.bid > Decimal("0.05")
        ):
            return market
    raise AssertionError("no market to rest a bid in")


def test_a_lost_order_response_still_rests_the_order(
    clob: httpx.Client, venue_up: RunningVenue
) -> None:
    market = _restable(venue_up)
    sdk = ClobClient(host=venue_up.clob_url, chain_id=137, key=TEST_KEY, signature_type=0)
    sdk.set_api_creds(sdk.create_or_derive_api_key())
    _inject(clob, kind="response_lost", path="/order", method="POST", count=1)
    args = OrderArgs(token_id=market.yes_token, price=0.01, size=10, side="BUY")
    options = PartialCreateOrderOptions(tick_size="0.01", neg_risk=market.neg_risk)
    with pytest.raises(PolyApiException) as lost:
        sdk.create_and_post_order(args, options)
    assert lost.value.status_code is None  # a transport failure, not a venue answer
    with venue_up.venue.state.lock:
        resting = venue_up.venue.state.ladders[market.condition_id].bids[Decimal("0.01")]
        mine = [o for o in resting if o.owner is not None]
    assert [(o.remaining, o.token_id) for o in mine] == [(Decimal(10), market.yes_token)]
