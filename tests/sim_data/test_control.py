"""The /_sim control API: reset, set a book, add/modify markets, move the clock."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from pm_lib.sim.server import RunningVenue, running_venue
from tests.sim_data.conftest import frozen_venue


@pytest.fixture
def venue_up() -> Iterator[RunningVenue]:
    with running_venue(frozen_venue(markets=60, enforce_rate_limits=False)) as rv:
        yield rv


@pytest.fixture
def http(venue_up: RunningVenue) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=venue_up.clob_url, timeout=10) as client:
        yield client


def _open_yes_no(venue_up: RunningVenue) -> tuple[str, str]:
    market = next(m for m in venue_up.venue.state.markets.values() if not m.closed)
    return market.yes_token, market.no_token


def _levels(side: list[dict[str, str]]) -> list[tuple[Decimal, Decimal]]:
    return sorted((Decimal(x["price"]), Decimal(x["size"])) for x in side)


def test_set_book_in_no_terms_shows_the_reflection_on_yes(
    http: httpx.Client, venue_up: RunningVenue
) -> None:
    yes, no = _open_yes_no(venue_up)
    body = {"token_id": no, "bids": [["0.30", "12"]], "asks": [{"price": "0.35", "size": "8"}]}
    assert http.post("/_sim/book", json=body).status_code == 200
    yes_book = http.get("/book", params={"token_id": yes}).json()
    assert _levels(yes_book["bids"]) == [(Decimal("0.65"), Decimal(8))]
    assert _levels(yes_book["asks"]) == [(Decimal("0.7"), Decimal(12))]


def test_set_book_refuses_a_crossed_or_off_grid_book(
    http: httpx.Client, venue_up: RunningVenue
) -> None:
    yes, _ = _open_yes_no(venue_up)
    crossed = {"token_id": yes, "bids": [["0.5", "1"]], "asks": [["0.4", "1"]]}
    off_grid = {"token_id": yes, "bids": [["0.0005", "1"]], "asks": []}
    assert http.post("/_sim/book", json=crossed).status_code == 400
    assert http.post("/_sim/book", json=off_grid).status_code == 400


def test_reset_restores_the_seeded_universe(http: httpx.Client, venue_up: RunningVenue) -> None:
    yes, _ = _open_yes_no(venue_up)
    before = http.get("/book", params={"token_id": yes}).json()
    http.post("/_sim/book", json={"token_id": yes, "bids": [["0.01", "1"]], "asks": []})
    summary = http.post("/_sim/reset").json()
    after = http.get("/book", params={"token_id": yes}).json()
    assert summary["markets"] == 60
    assert (after["bids"], after["asks"]) == (before["bids"], before["asks"])


def test_added_market_is_listed_and_traded(http: httpx.Client) -> None:
    spec: dict[str, Any] = {"question": "Added?", "price": "0.42", "tick_size": "0.01"}
    spec |= {"spread_ticks": 2}
    spec |= {"fees_enabled": True, "fee_type": "politics_fees", "fee_rate": "0.04"}
    added = http.post("/_sim/markets", json=spec).json()
    listed = http.get("/gamma/markets/keyset", params={"condition_ids": added["condition_id"]})
    [market] = listed.json()["markets"]
    assert market["question"] == "Added?" and market["feeSchedule"]["rate"] == 0.04
    assert (market["bestBid"], market["bestAsk"]) == (0.41, 0.43)
    book = http.get("/book", params={"token_id": added["token_ids"][0]})
    assert book.status_code == 200 and book.json()["tick_size"] == "0.01"


def test_closing_a_market_removes_its_book_and_lists_it_closed(
    http: httpx.Client, venue_up: RunningVenue
) -> None:
    market = next(m for m in venue_up.venue.state.markets.values() if not m.closed)
    patched = http.patch(f"/_sim/markets/{market.condition_id}", json={"closed": True})
    assert patched.json()["closed"] is True and patched.json()["accepting_orders"] is False
    assert http.get("/book", params={"token_id": market.yes_token}).status_code == 404
    listed = http.get(f"/gamma/markets/{market.market_id}").json()
    assert listed["closed"] is True and listed["acceptingOrders"] is False


def test_modify_refuses_unknown_fields(http: httpx.Client, venue_up: RunningVenue) -> None:
    market = next(iter(venue_up.venue.state.markets.values()))
    response = http.patch(f"/_sim/markets/{market.condition_id}", json={"colour": "red"})
    assert response.status_code == 400


def test_clock_advance_moves_time_and_the_book_generation(http: httpx.Client) -> None:
    before = http.get("/_sim/clock").json()
    after = http.post("/_sim/clock", json={"advance": 95}).json()
    assert after["frozen"] is True
    assert after["now"] == pytest.approx(before["now"] + 95)
    assert after["generation"]["epoch"] == before["generation"]["epoch"] + 3
    assert http.get("/time").json() == int(after["now"])


def test_faults_can_be_listed_and_removed_one_by_one(http: httpx.Client) -> None:
    rule = http.post("/_sim/faults", json={"kind": "error", "path": "/ok", "status": 503}).json()
    assert [r["rule_id"] for r in http.get("/_sim/faults").json()] == [rule["rule_id"]]
    assert http.delete(f"/_sim/faults/{rule['rule_id']}").json() == []
    assert http.get("/ok").status_code == 200


def test_bad_fault_kind_is_400(http: httpx.Client) -> None:
    assert http.post("/_sim/faults", json={"kind": "gremlins"}).status_code == 400


def _nested(http: httpx.Client, event_id: str) -> list[str]:
    return [m["conditionId"] for m in http.get(f"/gamma/events/{event_id}").json()["markets"]]


def _keyset_nested(http: httpx.Client) -> dict[str, list[str]]:
    events: dict[str, list[str]] = {}
    query: dict[str, Any] = {"limit": 100}
    while True:
        page = http.get("/gamma/events/keyset", params=query).json()
        events.update({e["id"]: [m["conditionId"] for m in e["markets"]] for e in page["events"]})
        if "next_cursor" not in page:
            return events
        query["after_cursor"] = page["next_cursor"]


def test_incomplete_events_leave_legs_out_of_the_event_only(
    http: httpx.Client, venue_up: RunningVenue
) -> None:
    state = venue_up.venue.state
    event = next(e for e in state.events.values() if e.neg_risk and len(e.condition_ids) >= 3)
    favourite = max(
        event.condition_ids,
        key=lambda c: venue_up.venue.market_data.top_of_book(state.markets[c]).ask,  # type: ignore[union-attr]
    )
    # by default the favourite (highest YES ask) is left out
    answer = http.post("/_sim/incomplete-events", json={"event_id": event.event_id})
    assert answer.status_code == 200
    assert answer.json()["events"] == {event.event_id: [favourite]}
    assert _nested(http, event.event_id) == [c for c in event.condition_ids if c != favourite]
    assert favourite not in _keyset_nested(http)[event.event_id]
    # the left-out leg is still listed, quoted and tradable on its own
    (market,) = http.get("/gamma/markets/keyset", params={"condition_ids": favourite}).json()[
        "markets"
    ]
    assert market["active"] and not market["closed"]
    # an explicit list, then an empty one restores the event
    chosen = event.condition_ids[:2]
    http.post("/_sim/incomplete-events", json={"event_id": event.event_id, "omit": chosen})
    assert _nested(http, event.event_id) == event.condition_ids[2:]
    http.post("/_sim/incomplete-events", json={"event_id": event.event_id, "omit": []})
    assert _nested(http, event.event_id) == event.condition_ids


def test_incomplete_events_by_rate_are_drawn_from_the_seed(
    http: httpx.Client, venue_up: RunningVenue
) -> None:
    full = _keyset_nested(http)
    answer = http.post("/_sim/incomplete-events", json={"rate": 1}).json()
    drawn = answer["drawn"]
    neg_risk = {e.event_id for e in venue_up.venue.state.events.values() if e.neg_risk}
    multi = {e for e in neg_risk if len(full[e]) >= 2}
    assert set(drawn) == multi and all(len(legs) == 1 for legs in drawn.values())
    served = _keyset_nested(http)
    for event_id, (leg,) in drawn.items():
        assert served[event_id] == [c for c in full[event_id] if c != leg]
    assert http.post("/_sim/incomplete-events", json={"rate": 1}).json()["drawn"] == drawn
    assert http.delete("/_sim/incomplete-events").json() == {"rate": 0.0, "events": {}, "drawn": {}}
    assert _keyset_nested(http) == full


def test_incomplete_events_refuse_bad_requests(http: httpx.Client) -> None:
    assert http.post("/_sim/incomplete-events", json={"rate": 2}).status_code == 400
    assert http.post("/_sim/incomplete-events", json={"event_id": "nope"}).status_code == 400
    event = http.get("/gamma/events/keyset", params={"limit": 1}).json()["events"][0]
    bad = {"event_id": event["id"], "omit": ["0xnot-a-leg"]}
    assert http.post("/_sim/incomplete-events", json=bad).status_code == 400
