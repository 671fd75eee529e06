"""The emulator's Gamma side: live field names and JSON types, keyset paging, filters, errors."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from pm_lib.sim.server import RunningVenue
from tests.sim_data.conftest import resource

# Optional on live objects: quotes are omitted when null; sports/rewards fields vary by market.
_OPTIONAL = {"bestBid", "feeSchedule", "feeType", "events", "makerRebatesFeeShareBps"}


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _live_market_kinds() -> dict[str, str]:
    """Keys (and JSON kinds) that every recorded live Gamma market carries."""
    samples = [
        resource("ChloePike-go-polymarket__gamma_market_559651_2026-08-16.json"),
        resource("sajiiid09-polywatch__gamma_markets_list.json")[0],
        resource("ra1nty-polymarket-cli__market_detail.json"),
    ]
    common = set.intersection(*(set(s) for s in samples)) - _OPTIONAL
    return {k: _json_kind(samples[0][k]) for k in common}


def _page(gamma: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    response = gamma.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _all_markets(gamma: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    markets: list[dict[str, Any]] = []
    cursor = None
    while True:
        extra: dict[str, str] = {"after_cursor": cursor} if cursor else {}
        page = _page(gamma, "/markets/keyset", limit=100, **params, **extra)
        markets.extend(page["markets"])
        cursor = page.get("next_cursor")
        if cursor is None:
            return markets


def test_market_objects_carry_every_live_field_with_the_live_json_type(
    gamma: httpx.Client,
) -> None:
    expected = _live_market_kinds()
    for market in _page(gamma, "/markets/keyset", limit=100)["markets"]:
        kinds = {k: _json_kind(market[k]) for k in expected if k in market}
        assert kinds == expected


def test_json_in_json_fields_are_strings_and_position_ids_an_array(gamma: httpx.Client) -> None:
    market = _page(gamma, "/markets/keyset", limit=1)["markets"][0]
    assert len(json.loads(market["clobTokenIds"])) == 2
    assert isinstance(market["outcomes"], str) and len(json.loads(market["outcomes"])) == 2
    assert isinstance(market["positionIds"], list) and len(market["positionIds"]) == 2
    assert isinstance(market["volume"], str) and isinstance(market["volumeNum"], float | int)
    assert market["version"] == "v1"


def test_fee_enabled_markets_carry_the_live_fee_schedule_shape(gamma: httpx.Client) -> None:
    live = resource("ChloePike-go-polymarket__gamma_market_559651_2026-08-16.json")
    feeing = [m for m in _all_markets(gamma) if m["feesEnabled"]]
    assert feeing
    assert all(set(m["feeSchedule"]) == set(live["feeSchedule"]) for m in feeing)
    assert all(isinstance(m["feeType"], str) for m in feeing)


def test_sports_markets_carry_the_live_seconds_delay_and_game_fields(
    gamma: httpx.Client, clob: httpx.Client, served: RunningVenue
) -> None:
    live = resource("sajiiid09-polywatch__gamma_markets_list.json")[0]
    fields = ("secondsDelay", "gameStartTime", "sportsMarketType")
    sports = [m for m in _all_markets(gamma) if "secondsDelay" in m]
    assert sports
    for market in sports:
        assert {f: _json_kind(market[f]) for f in fields} == {
            f: _json_kind(live[f]) for f in fields
        }
        assert market["secondsDelay"] == 1 and market["gameStartTime"].endswith("+00")
        held = served.venue.state.markets[market["conditionId"]].taker_delay_seconds
        assert held == market["secondsDelay"]  # the venue holds marketable orders that long
    info = clob.get(f"/clob-markets/{sports[0]['conditionId']}").json()
    assert info["itode"] is True


def test_best_bid_is_omitted_when_the_bid_side_is_empty(
    gamma: httpx.Client, clob: httpx.Client
) -> None:
    without = [m for m in _all_markets(gamma, closed="false") if "bestBid" not in m]
    assert without
    token = json.loads(without[0]["clobTokenIds"])[0]
    assert clob.get("/book", params={"token_id": token}).json()["bids"] == []


def test_quotes_come_from_the_current_book(gamma: httpx.Client, clob: httpx.Client) -> None:
    market = next(m for m in _all_markets(gamma, closed="false") if "bestBid" in m)
    book = clob.get("/book", params={"token_id": json.loads(market["clobTokenIds"])[0]}).json()
    best_bid, best_ask = Decimal(book["bids"][-1]["price"]), Decimal(book["asks"][-1]["price"])
    assert Decimal(str(market["bestBid"])) == best_bid
    assert Decimal(str(market["bestAsk"])) == best_ask
    assert Decimal(json.loads(market["outcomePrices"])[0]) == (best_bid + best_ask) / 2


def test_keyset_pages_through_every_market_once(gamma: httpx.Client, served: RunningVenue) -> None:
    ids = [m["id"] for m in _all_markets(gamma)]
    assert len(ids) == len(set(ids)) == len(served.venue.state.markets)
    assert ids == sorted(ids, key=int)


def test_last_page_has_no_next_cursor(gamma: httpx.Client, served: RunningVenue) -> None:
    total = len(served.venue.state.markets)
    first = _page(gamma, "/markets/keyset", limit=100)
    assert "next_cursor" in first
    whole = _page(gamma, "/events/keyset", limit=100, closed="true")
    assert "next_cursor" not in whole and total > 100


def test_offset_is_refused_with_the_live_422(gamma: httpx.Client) -> None:
    response = gamma.get("/markets/keyset", params={"offset": 100, "limit": 100})
    assert response.status_code == 422
    assert response.json() == {
        "type": "validation error",
        "error": "offset too large, use /markets/keyset for deeper pagination",
    }


@pytest.mark.parametrize("path", ["/markets/keyset", "/events/keyset"])
def test_limit_above_100_is_422(gamma: httpx.Client, path: str) -> None:
    assert gamma.get(path, params={"limit": 101}).status_code == 422


def test_a_cursor_only_continues_its_own_query(gamma: httpx.Client) -> None:
    cursor = _page(gamma, "/markets/keyset", limit=10, closed="false")["next_cursor"]
    response = gamma.get(
        "/markets/keyset", params={"limit": 10, "closed": "true", "after_cursor": cursor}
    )
    assert response.status_code == 422


def test_filters_select_by_closed_tokens_conditions_slug_and_neg_risk(
    gamma: httpx.Client, served: RunningVenue
) -> None:
    markets = list(served.venue.state.markets.values())
    closed = _all_markets(gamma, closed="true")
    assert closed and all(m["closed"] for m in closed)
    target = markets[5]
    by_token = _page(gamma, "/markets/keyset", clob_token_ids=target.no_token)["markets"]
    by_cond = _page(gamma, "/markets/keyset", condition_ids=target.condition_id)["markets"]
    by_slug = _page(gamma, "/markets/keyset", slug=target.slug)["markets"]
    assert [m["conditionId"] for m in by_token + by_cond + by_slug] == [target.condition_id] * 3
    neg = _all_markets(gamma, neg_risk="true")
    assert neg and all(m["negRisk"] for m in neg)


def test_events_embed_their_markets(gamma: httpx.Client, served: RunningVenue) -> None:
    live = resource("ChloePike-go-polymarket__gamma_event_2890_2026-08-16.json")
    event = next(e for e in _page(gamma, "/events/keyset", limit=100)["events"] if e["negRisk"])
    sim_event = served.venue.state.events[event["id"]]
    assert [m["conditionId"] for m in event["markets"]] == sim_event.condition_ids
    assert set(live) - {"$schema", "series", "tags", "sortBy", "category", "published_at",
                        "closedTime", "eventMetadata", "liquidityAmm"} <= set(event)  # fmt: skip
    assert event["negRiskMarketID"] and all(m["negRisk"] for m in event["markets"])


def test_single_market_and_event_by_id(gamma: httpx.Client, served: RunningVenue) -> None:
    market = next(iter(served.venue.state.markets.values()))
    one = gamma.get(f"/markets/{market.market_id}").json()
    assert one["conditionId"] == market.condition_id and "$schema" in one
    event = gamma.get(f"/events/{market.event_id}").json()
    assert market.condition_id in [m["conditionId"] for m in event["markets"]]
    assert gamma.get("/markets/1").status_code == 404


def test_question_ids_filter_and_clob_market_agree(
    gamma: httpx.Client, clob: httpx.Client, served: RunningVenue
) -> None:
    market = next(m for m in served.venue.state.markets.values() if m.neg_risk)
    listed = _page(gamma, "/markets/keyset", condition_ids=market.condition_id)["markets"][0]
    found = _page(gamma, "/markets/keyset", question_ids=listed["questionID"])["markets"]
    assert [m["conditionId"] for m in found] == [market.condition_id]
    clob_view = clob.get(f"/markets/{market.condition_id}").json()
    assert clob_view["question_id"] == listed["questionID"]
    assert listed["questionID"][:-2] == listed["negRiskMarketID"][:-2]
