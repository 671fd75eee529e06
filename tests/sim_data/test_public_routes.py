"""The emulator's public CLOB reads: live shapes of market parameters and price endpoints."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from pm_lib.sim.server import RunningVenue
from pm_lib.sim.state import SimMarket
from tests.sim_data.conftest import resource


def _kinds(obj: dict[str, Any]) -> dict[str, str]:
    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        return "number" if isinstance(v, int | float) else type(v).__name__

    return {k: kind(v) for k, v in obj.items()}


def _quoted(served: RunningVenue, neg_risk: bool | None = None) -> SimMarket:
    md = served.venue.market_data
    for m in served.venue.state.markets.values():
        top = md.top_of_book(m)
        ok = top is not None and top.bid is not None and top.ask is not None
        if ok and m.fees_enabled and (neg_risk is None or m.neg_risk == neg_risk):
            return m
    raise AssertionError("no quoted fee-enabled market")


def _top(clob: httpx.Client, token: str) -> tuple[Decimal, Decimal]:
    book = clob.get("/book", params={"token_id": token}).json()
    return Decimal(book["bids"][-1]["price"]), Decimal(book["asks"][-1]["price"])


def test_health_time_and_version(clob: httpx.Client, served: RunningVenue) -> None:
    assert clob.get("/ok").json() == "OK"
    assert clob.get("/time").json() == int(served.venue.state.clock.now())
    assert clob.get("/version").json() == {"version": 2}


def test_clob_market_info_has_the_live_shape_plus_nr_on_neg_risk(
    clob: httpx.Client, served: RunningVenue
) -> None:
    live = resource("ChloePike-go-polymarket__clob_clob-markets_info_559651_2026-08.json")
    market = _quoted(served, neg_risk=True)
    info = clob.get(f"/clob-markets/{market.condition_id}").json()
    delayed = {"itode": "bool"} if market.taker_delay_seconds else {}  # a taker-delay market
    assert _kinds(info) == {**_kinds(live), "nr": "bool", **delayed}
    assert info["t"] == [
        {"t": market.yes_token, "o": market.outcomes[0]},
        {"t": market.no_token, "o": market.outcomes[1]},
    ]
    assert Decimal(str(info["mts"])) == market.tick_size
    assert Decimal(str(info["fd"]["r"])) == market.fee_rate


def test_clob_market_has_the_live_keys_and_token_prices(
    clob: httpx.Client, served: RunningVenue
) -> None:
    live = resource("ChloePike-go-polymarket__clob_markets_by_condition_559651_2026-08.json")
    market = _quoted(served)
    body = clob.get(f"/markets/{market.condition_id}").json()
    assert set(body) == set(live)
    assert [t["token_id"] for t in body["tokens"]] == list(market.token_ids)
    assert sum(Decimal(str(t["price"])) for t in body["tokens"]) == 1


def test_markets_by_token_names_the_condition(clob: httpx.Client, served: RunningVenue) -> None:
    market = _quoted(served)
    assert clob.get(f"/markets-by-token/{market.no_token}").json()["condition_id"] == (
        market.condition_id
    )


def test_token_parameters(clob: httpx.Client, served: RunningVenue) -> None:
    market = _quoted(served)
    params = {"token_id": market.yes_token}
    assert clob.get("/tick-size", params=params).json() == {
        "minimum_tick_size": float(market.tick_size)
    }
    assert clob.get("/neg-risk", params=params).json() == {"neg_risk": market.neg_risk}
    assert clob.get("/fee-rate", params=params).json() == {
        "base_fee": int(market.fee_rate * 10_000)
    }


def test_midpoint_and_spread_match_the_book(clob: httpx.Client, served: RunningVenue) -> None:
    live = resource("ra1nty-polymarket-cli__midpoint.json")
    token = _quoted(served).no_token
    bid, ask = _top(clob, token)
    mid = clob.get("/midpoint", params={"token_id": token}).json()
    assert set(mid) == set(live) and Decimal(mid["mid"]) == (bid + ask) / 2
    spread = clob.get("/spread", params={"token_id": token}).json()
    assert Decimal(spread["spread"]) == ask - bid


def test_price_buy_is_the_best_bid_and_sell_the_best_ask(
    clob: httpx.Client, served: RunningVenue
) -> None:
    token = _quoted(served).yes_token
    bid, ask = _top(clob, token)
    buy = clob.get("/price", params={"token_id": token, "side": "BUY"}).json()
    sell = clob.get("/price", params={"token_id": token, "side": "SELL"}).json()
    assert (Decimal(buy["price"]), Decimal(sell["price"])) == (bid, ask)


def test_last_trade_price_has_the_live_shape(clob: httpx.Client, served: RunningVenue) -> None:
    live = resource("ra1nty-polymarket-cli__last_trade_price.json")
    body = clob.get("/last-trade-price", params={"token_id": _quoted(served).yes_token}).json()
    assert _kinds(body) == _kinds(live)


def test_batch_prices_follow_the_single_reads(clob: httpx.Client, served: RunningVenue) -> None:
    market = _quoted(served)
    ask_for = [{"token_id": market.yes_token, "side": "BUY"}, {"token_id": "42", "side": "BUY"}]
    prices = clob.post("/prices", json=ask_for).json()
    single = clob.get("/price", params={"token_id": market.yes_token, "side": "BUY"}).json()
    assert prices == {market.yes_token: {"BUY": single["price"]}}
    mids = clob.post("/midpoints", json=[{"token_id": market.yes_token}]).json()
    assert mids == {
        market.yes_token: clob.get("/midpoint", params={"token_id": market.yes_token}).json()["mid"]
    }
    spreads = clob.post("/spreads", json=[{"token_id": market.yes_token}]).json()
    assert list(spreads) == [market.yes_token]
    last = clob.post("/last-trades-prices", json=[{"token_id": market.no_token}]).json()
    assert [x["token_id"] for x in last] == [market.no_token]


def test_batch_reads_refuse_more_than_500_tokens(clob: httpx.Client) -> None:
    too_many = [{"token_id": str(i)} for i in range(501)]
    for path in ("/midpoints", "/prices", "/spreads", "/last-trades-prices"):
        assert clob.post(path, json=too_many).status_code == 400
