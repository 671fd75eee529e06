"""After placement, with the real SDK: settlement states on the venue clock, ghost fills,
cancels, cursor paging, heartbeats, GTD expiry and balances."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    BalanceAllowanceParams,
    MarketOrderArgs,
    OpenOrderParams,
    OrderArgs,
    OrderMarketCancelParams,
    OrderPayload,
    OrderType,
    PartialCreateOrderOptions,
    TradeParams,
)
from py_clob_client_v2.exceptions import PolyApiException

from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimConfig, SimVenue
from tests.sim_exchange.emulated_venue import (
    KEY_A,
    KEY_B,
    NO,
    YES,
    authed_client,
    l2_request,
    make_venue,
)

OPTS = PartialCreateOrderOptions(tick_size="0.01", neg_risk=False)
START = 10_000_000_000


@pytest.fixture
def ghostly() -> Iterator[RunningVenue]:
    with running_venue(make_venue(SimConfig(ghost_fill_rate=1.0))) as r:
        yield r


def _rest(client: ClobClient, price: float = 0.45, size: float = 10, token: str = YES) -> str:
    args = OrderArgs(token_id=token, price=price, size=size, side="BUY")
    response = client.create_and_post_order(args, OPTS)
    return str(response["orderID"])


def _buy_now(client: ClobClient, amount: float = 5.5) -> dict[str, object]:
    args = MarketOrderArgs(token_id=YES, amount=amount, side="BUY")
    result = client.create_and_post_market_order(args, OPTS, order_type=OrderType.FOK)
    assert isinstance(result, dict)
    return result


def _collateral(client: ClobClient) -> int:
    params = BalanceAllowanceParams(asset_type="COLLATERAL")
    return int(client.get_balance_allowance(params)["balance"])


def test_trade_goes_matched_mined_confirmed_as_the_clock_advances(
    client: ClobClient, venue: SimVenue
) -> None:
    _buy_now(client)
    seen = [client.get_trades()[0]["status"]]

    venue.state.clock.advance(venue.config.mined_after_seconds)
    seen.append(client.get_trades()[0]["status"])
    venue.state.clock.advance(venue.config.confirmed_after_seconds)
    seen.append(client.get_trades()[0]["status"])

    assert seen == ["TRADE_STATUS_MATCHED", "TRADE_STATUS_MINED", "TRADE_STATUS_CONFIRMED"]


def test_ghost_fill_fails_and_its_balance_effects_are_undone(ghostly: RunningVenue) -> None:
    client = authed_client(ghostly)
    _buy_now(client)
    paid = _collateral(client)

    ghostly.venue.state.clock.advance(ghostly.venue.config.confirmed_after_seconds + 1)
    trade = client.get_trades()[0]

    assert paid < START
    assert trade["status"] == "TRADE_STATUS_FAILED"
    assert _collateral(client) == START
    params = BalanceAllowanceParams(asset_type="CONDITIONAL", token_id=YES)
    assert client.get_balance_allowance(params)["balance"] == "0"


def test_trades_can_be_looked_up_by_id(client: ClobClient) -> None:
    first = _buy_now(client)
    _buy_now(client, 1.1)

    trades = client.get_trades(TradeParams(id=first["tradeIDs"][0]))  # type: ignore[index]

    assert [t["taker_order_id"] for t in trades] == [first["orderID"]]


def test_cancel_takes_the_order_off_the_book(client: ClobClient) -> None:
    order_id = _rest(client)

    answer = client.cancel_order(OrderPayload(orderID=order_id))

    assert answer == {"canceled": [order_id], "not_canceled": {}}
    assert client.get_order(order_id)["status"] == "ORDER_STATUS_CANCELED"
    assert {"price": "0.45", "size": "10"} not in client.get_order_book(YES)["bids"]


def test_cancelling_twice_reports_not_canceled(client: ClobClient) -> None:
    order_id = _rest(client)
    client.cancel_order(OrderPayload(orderID=order_id))

    answer = client.cancel_order(OrderPayload(orderID=order_id))

    assert answer["canceled"] == [] and order_id in answer["not_canceled"]


def test_cancel_releases_the_reservation(client: ClobClient) -> None:
    order_id = _rest(client, 0.45, 12_000)  # reserves 5,400 of 10,000 pUSD
    client.cancel_order(OrderPayload(orderID=order_id))

    second = _rest(client, 0.45, 12_000)

    assert client.get_order(second)["status"] == "ORDER_STATUS_LIVE"


def test_cancel_orders_by_ids(client: ClobClient) -> None:
    ids = [_rest(client, 0.45), _rest(client, 0.44)]

    answer = client.cancel_orders(ids)

    assert sorted(answer["canceled"]) == sorted(ids)


def test_cancel_market_orders_only_touches_that_token(client: ClobClient) -> None:
    on_yes = _rest(client, 0.45, token=YES)
    on_no = _rest(client, 0.40, token=NO)

    answer = client.cancel_market_orders(OrderMarketCancelParams(asset_id=YES))

    assert answer["canceled"] == [on_yes]
    assert [o["id"] for o in client.get_open_orders()] == [on_no]


def test_cancel_all_empties_the_open_orders(client: ClobClient) -> None:
    _rest(client, 0.45)
    _rest(client, 0.44)

    answer = client.cancel_all()

    assert len(answer["canceled"]) == 2
    assert client.get_open_orders() == []


def test_open_orders_are_paged_with_base64_offsets(running: RunningVenue) -> None:
    running.venue.config.data_page_limit = 2
    client = authed_client(running)
    ids = [_rest(client, p) for p in (0.41, 0.42, 0.43, 0.44, 0.45)]

    first = l2_request(running, client, "GET", "/data/orders").json()
    everything = client.get_open_orders()

    assert (first["next_cursor"], first["count"], first["limit"]) == ("Mg==", 2, 2)
    assert [o["id"] for o in everything] == ids


def test_open_orders_filter_by_market_and_id(client: ClobClient) -> None:
    wanted = _rest(client, 0.45)
    _rest(client, 0.44)

    found = client.get_open_orders(OpenOrderParams(id=wanted))

    assert [o["id"] for o in found] == [wanted]


def test_partially_filled_maker_stays_live_with_size_matched(running: RunningVenue) -> None:
    maker = authed_client(running, KEY_A)
    taker = authed_client(running, KEY_B)
    order_id = _rest(maker, 0.52, 20)

    taker.create_and_post_market_order(
        MarketOrderArgs(token_id=NO, amount=4.8, side="BUY"), OPTS, order_type=OrderType.FOK
    )
    order = maker.get_order(order_id)

    assert (order["status"], order["size_matched"], order["original_size"]) == (
        "ORDER_STATUS_LIVE",
        "10",
        "20",
    )
    assert len(order["associate_trades"]) == 1


def test_unknown_order_is_not_found(client: ClobClient) -> None:
    with pytest.raises(PolyApiException) as err:
        client.get_order("0x" + "00" * 32)

    assert err.value.status_code == 404


def test_heartbeat_chain_hands_out_the_next_id(client: ClobClient) -> None:
    first = client.post_heartbeat("")["heartbeat_id"]

    second = client.post_heartbeat(first)["heartbeat_id"]

    assert first and second and first != second


def test_stale_heartbeat_id_is_refused_with_the_expected_one(client: ClobClient) -> None:
    first = client.post_heartbeat("")["heartbeat_id"]
    second = client.post_heartbeat(first)["heartbeat_id"]

    with pytest.raises(PolyApiException) as err:
        client.post_heartbeat(first)

    assert (err.value.status_code, err.value.error_msg) == (
        400,
        {"error_msg": "Invalid Heartbeat ID", "heartbeat_id": second},
    )


def test_silence_after_heartbeats_started_cancels_resting_orders(
    client: ClobClient, venue: SimVenue
) -> None:
    order_id = _rest(client)
    client.post_heartbeat("")

    venue.state.clock.advance(venue.config.heartbeat_timeout_seconds + 1)

    assert client.get_order(order_id)["status"] == "ORDER_STATUS_CANCELED"
    assert client.get_open_orders() == []


def test_without_heartbeats_resting_orders_survive(client: ClobClient, venue: SimVenue) -> None:
    order_id = _rest(client)

    venue.state.clock.advance(60)

    assert client.get_order(order_id)["status"] == "ORDER_STATUS_LIVE"


def test_gtd_expiring_too_soon_is_refused(client: ClobClient) -> None:
    args = OrderArgs(
        token_id=YES, price=0.45, size=10, side="BUY", expiration=int(time.time()) + 30
    )

    with pytest.raises(PolyApiException) as err:
        client.create_and_post_order(args, OPTS, order_type=OrderType.GTD)

    assert err.value.status_code == 400
    assert err.value.error_msg["code"] == "INVALID_ORDER_EXPIRATION"


def test_gtd_order_is_cancelled_at_its_expiration(client: ClobClient, venue: SimVenue) -> None:
    expiration = int(venue.state.clock.now()) + 120
    args = OrderArgs(token_id=YES, price=0.45, size=10, side="BUY", expiration=expiration)
    order_id = client.create_and_post_order(args, OPTS, order_type=OrderType.GTD)["orderID"]

    venue.state.clock.advance(121)

    assert client.get_order(order_id)["status"] == "ORDER_STATUS_CANCELED"


def test_balance_allowance_reports_base_units_and_spenders(client: ClobClient) -> None:
    answer = client.get_balance_allowance(BalanceAllowanceParams(asset_type="COLLATERAL"))

    assert answer["balance"] == str(START)
    assert set(answer["allowances"]) == {
        "0xE111180000d2663C0091e4f400237545B87B996B",
        "0xe2222d279d744050d28e00520010520000310F59",
        "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296",
    }


def test_balance_allowance_update_answers_empty(client: ClobClient) -> None:
    assert client.update_balance_allowance(BalanceAllowanceParams(asset_type="COLLATERAL")) == ""


def test_gtd_order_expires_one_minute_before_its_stated_expiration(
    client: ClobClient, venue: SimVenue
) -> None:
    # Live docs: "GTD orders expire one minute before their stated expiration as a security
    # threshold. To set an effective lifetime of N seconds, use now + 60 + N."
    expiration = int(venue.state.clock.now()) + 60 + 90
    args = OrderArgs(token_id=YES, price=0.45, size=10, side="BUY", expiration=expiration)
    order_id = client.create_and_post_order(args, OPTS, order_type=OrderType.GTD)["orderID"]

    venue.state.clock.advance(89)
    assert client.get_order(order_id)["status"] == "ORDER_STATUS_LIVE"
    venue.state.clock.advance(1)
    assert client.get_order(order_id)["status"] == "ORDER_STATUS_CANCELED"
