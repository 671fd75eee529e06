"""Placing orders with the real SDK: resting, matching, fees, and every live rejection.

Book (YES terms, background liquidity): bids 0.50 x 100, 0.49 x 200; asks 0.55 x 100,
0.56 x 200. Market fee: rate 0.04, exponent 1. Wallets start with 10,000 pUSD (autofund).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    BalanceAllowanceParams,
    CreateOrderOptions,
    MarketOrderArgs,
    OrderArgs,
    OrderArgsV1,
    OrderType,
    PartialCreateOrderOptions,
    PostOrdersV2Args,
)
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.order_builder.builder import OrderBuilder
from py_clob_client_v2.signer import Signer

from pm_lib.sim.market_admin import set_book
from pm_lib.sim.server import RunningVenue
from pm_lib.sim.venue import SimVenue
from tests.sim_exchange.emulated_venue import (
    COND,
    KEY_A,
    KEY_B,
    NO,
    YES,
    authed_client,
    l2_request,
)

OPTS = PartialCreateOrderOptions(tick_size="0.01", neg_risk=False)
START = 10_000_000_000  # 10,000 pUSD in base units


def _collateral(client: ClobClient) -> int:
    return int(
        client.get_balance_allowance(BalanceAllowanceParams(asset_type="COLLATERAL"))["balance"]
    )


def _shares(client: ClobClient, token: str) -> int:
    params = BalanceAllowanceParams(asset_type="CONDITIONAL", token_id=token)
    return int(client.get_balance_allowance(params)["balance"])


def _rejection(call: object) -> tuple[int | None, object]:
    assert callable(call)
    with pytest.raises(PolyApiException) as err:
        call()
    return err.value.status_code, err.value.error_msg


def _limit(
    client: ClobClient,
    price: float,
    size: float,
    side: str = "BUY",
    token: str = YES,
    order_type: str = OrderType.GTC,
) -> dict[str, object]:
    args = OrderArgs(token_id=token, price=price, size=size, side=side)
    result = client.create_and_post_order(args, OPTS, order_type=order_type)
    assert isinstance(result, dict)
    return result


def test_gtc_below_the_ask_rests_on_the_book(client: ClobClient) -> None:
    response = _limit(client, 0.45, 10)

    order = client.get_order(response["orderID"])
    book = client.get_order_book(YES)
    assert response["status"] == "live" and response["success"] is True
    assert (order["status"], order["original_size"], order["price"]) == (
        "ORDER_STATUS_LIVE",
        "10",
        "0.45",
    )
    assert {"price": "0.45", "size": "10"} in book["bids"]
    assert _collateral(client) == START


def test_fok_market_buy_fills_and_charges_the_taker_fee(client: ClobClient) -> None:
    response = client.create_and_post_market_order(
        MarketOrderArgs(token_id=YES, amount=5.5, side="BUY"), OPTS, order_type=OrderType.FOK
    )

    # 10 shares at 0.55 = 5.50 pUSD; fee = 10 * 0.04 * 0.55 * 0.45 = 0.099 (floored to 5 dp).
    fee = Decimal(10) * Decimal("0.04") * Decimal("0.55") * Decimal("0.45")
    assert fee.quantize(Decimal("0.00001")) == Decimal("0.09900")
    assert (response["status"], response["makingAmount"], response["takingAmount"]) == (
        "matched",
        "5.5",
        "10",
    )
    assert response["transactionsHashes"] and response["tradeIDs"]
    assert _collateral(client) == START - 5_500_000 - 99_000
    assert _shares(client, YES) == 10_000_000


def test_fill_walks_levels_best_price_first_and_fees_each_fill(client: ClobClient) -> None:
    _limit(client, 0.56, 150, order_type=OrderType.FOK)

    trade = client.get_trades()[0]
    # 100 @ 0.55 + 50 @ 0.56 = 83.00; fees 100*0.04*0.2475 + 50*0.04*0.2464 = 0.99 + 0.4928.
    # As live, the row's price is the taker's limit; each maker entry has its own fill price.
    assert (trade["size"], trade["price"], trade["trader_side"]) == ("150", "0.56", "TAKER")
    assert [(m["matched_amount"], m["price"]) for m in trade["maker_orders"]] == [
        ("100", "0.55"),
        ("50", "0.56"),
    ]
    assert _collateral(client) == START - 83_000_000 - 990_000 - 492_800


def test_buying_no_crosses_a_resting_user_buy_of_yes_by_minting(running: RunningVenue) -> None:
    maker = authed_client(running, KEY_A)
    taker = authed_client(running, KEY_B)
    resting = _limit(maker, 0.52, 10)  # YES bid 0.52, best bid

    taker.create_and_post_market_order(
        MarketOrderArgs(token_id=NO, amount=4.8, side="BUY"), OPTS, order_type=OrderType.FOK
    )

    # NO at 1 - 0.52 = 0.48: the taker pays 4.80 (+ fee 10*0.04*0.48*0.52 = 0.09984), the maker
    # pays 5.20 for YES; together one pUSD per minted pair.
    assert maker.get_order(resting["orderID"])["status"] == "ORDER_STATUS_MATCHED"
    assert (_shares(maker, YES), _collateral(maker)) == (10_000_000, START - 5_200_000)
    assert (_shares(taker, NO), _collateral(taker)) == (10_000_000, START - 4_800_000 - 99_840)


def test_maker_sees_the_trade_as_maker(running: RunningVenue) -> None:
    maker = authed_client(running, KEY_A)
    taker = authed_client(running, KEY_B)
    resting = _limit(maker, 0.52, 10)
    taker.create_and_post_market_order(
        MarketOrderArgs(token_id=NO, amount=4.8, side="BUY"), OPTS, order_type=OrderType.FOK
    )

    trade = maker.get_trades()[0]

    assert trade["trader_side"] == "MAKER"
    assert trade["maker_orders"][0]["order_id"] == resting["orderID"]


def test_fok_that_cannot_fill_whole_is_killed(client: ClobClient) -> None:
    status, body = _rejection(lambda: _limit(client, 0.56, 400, order_type=OrderType.FOK))

    assert (status, body) == (
        400,
        {"error": "order couldn't be fully filled. FOK orders are fully filled or killed."},
    )
    assert _collateral(client) == START


def test_fak_fills_what_it_can(client: ClobClient) -> None:
    response = _limit(client, 0.56, 400, order_type=OrderType.FAK)

    assert (response["status"], response["takingAmount"]) == ("matched", "300")
    assert client.get_open_orders() == []


def test_fak_without_any_match_is_refused(client: ClobClient) -> None:
    status, body = _rejection(lambda: _limit(client, 0.40, 10, order_type=OrderType.FAK))

    assert status == 400
    assert isinstance(body, dict) and body["error"].startswith("no orders found to match with FAK")


def test_post_only_order_that_crosses_is_refused(client: ClobClient) -> None:
    args = OrderArgs(token_id=YES, price=0.55, size=10, side="BUY")

    status, body = _rejection(lambda: client.create_and_post_order(args, OPTS, post_only=True))

    assert (status, body) == (400, {"error": "invalid post-only order: order crosses book"})


def test_price_off_the_market_tick_is_refused(client: ClobClient) -> None:
    order = OrderBuilder(Signer(KEY_A, 137)).build_order(
        OrderArgs(token_id=YES, price=0.453, size=10, side="BUY"),
        CreateOrderOptions(tick_size="0.001", neg_risk=False),
    )

    status, body = _rejection(lambda: client.post_order(order))

    assert status == 400
    assert isinstance(body, dict)
    assert body["error"].endswith("is invalid. Price (0.453) breaks minimum tick size rule: 0.01")


def test_limit_order_below_the_minimum_size_is_refused(client: ClobClient) -> None:
    status, body = _rejection(lambda: _limit(client, 0.45, 2))

    assert status == 400
    assert isinstance(body, dict) and body["error"].endswith("Size (2) lower than the minimum: 5")


def test_marketable_order_under_one_dollar_is_refused(client: ClobClient) -> None:
    args = MarketOrderArgs(token_id=YES, amount=0.5, side="BUY")

    status, body = _rejection(lambda: client.create_and_post_market_order(args, OPTS))

    assert (status, body) == (
        400,
        {"error": "invalid amount for a marketable BUY order ($0.5), min size: $1"},
    )


def test_the_dollar_minimum_is_on_the_executed_notional_not_size_times_limit(
    client: ClobClient, venue: SimVenue
) -> None:
    # Issue 16.5: FOK BUY 10 @ 0.11 signs 1.10 pUSD but executes 8 @ 0.05 + 2 @ 0.11 = 0.62
    set_book(venue.market_data, YES, bids=[["0.04", "100"]], asks=[["0.05", "8"], ["0.11", "100"]])

    status, body = _rejection(lambda: _limit(client, 0.11, 10, order_type=OrderType.FOK))

    assert (status, body) == (
        400,
        {"error": "invalid amount for a marketable BUY order ($0.62), min size: $1"},
    )
    assert _collateral(client) == START and _shares(client, YES) == 0
    # 20 shares execute 8 @ 0.05 + 12 @ 0.11 = 1.72: accepted
    assert _limit(client, 0.11, 20, order_type=OrderType.FOK)["status"] == "matched"


def test_a_marketable_sell_under_one_dollar_is_refused(client: ClobClient, venue: SimVenue) -> None:
    _limit(client, 0.55, 20, order_type=OrderType.FOK)  # hold 20 YES
    set_book(venue.market_data, YES, bids=[["0.05", "100"]], asks=[["0.55", "100"]])

    status, body = _rejection(lambda: _limit(client, 0.05, 10, "SELL", order_type=OrderType.FOK))

    assert (status, body) == (
        400,
        {"error": "invalid amount for a marketable SELL order ($0.5), min size: $1"},
    )
    assert _shares(client, YES) == 20_000_000


def test_buy_beyond_the_balance_is_refused(client: ClobClient) -> None:
    status, body = _rejection(lambda: _limit(client, 0.45, 30_000))

    assert (status, body) == (
        400,
        {"error": "not enough balance / allowance", "code": "INVALID_ORDER_NOT_ENOUGH_BALANCE"},
    )


def test_open_orders_reserve_collateral(client: ClobClient) -> None:
    _limit(client, 0.45, 12_000)  # reserves 5,400 pUSD

    status, _ = _rejection(lambda: _limit(client, 0.45, 12_000))

    assert status == 400


def test_sell_without_tokens_is_refused(client: ClobClient) -> None:
    status, body = _rejection(lambda: _limit(client, 0.60, 10, side="SELL"))

    assert status == 400 and isinstance(body, dict)
    assert body["error"] == "not enough balance / allowance"


def test_the_same_signed_order_twice_is_a_duplicate(client: ClobClient) -> None:
    order = client.create_order(OrderArgs(token_id=YES, price=0.45, size=10, side="BUY"), OPTS)
    client.post_order(order)

    status, body = _rejection(lambda: client.post_order(order))

    assert status == 400 and isinstance(body, dict)
    assert body["code"] == "INVALID_ORDER_DUPLICATED"
    assert "Duplicated" in body["error"]


def test_tampered_order_signature_is_refused(client: ClobClient) -> None:
    order = client.create_order(OrderArgs(token_id=YES, price=0.45, size=10, side="BUY"), OPTS)
    flipped = "0" if order.signature[10] != "0" else "1"
    tampered = dataclasses.replace(
        order, signature=order.signature[:10] + flipped + order.signature[11:]
    )

    status, body = _rejection(lambda: client.post_order(tampered))

    assert (status, body) == (400, {"error": "invalid signature"})


def test_order_signed_for_the_neg_risk_exchange_is_refused_on_a_plain_market(
    client: ClobClient,
) -> None:
    wrong = PartialCreateOrderOptions(tick_size="0.01", neg_risk=True)
    order = client.create_order(OrderArgs(token_id=YES, price=0.45, size=10, side="BUY"), wrong)

    status, body = _rejection(lambda: client.post_order(order))

    assert (status, body) == (400, {"error": "invalid signature"})


def test_order_signed_by_another_key_is_refused(client: ClobClient) -> None:
    order = OrderBuilder(Signer(KEY_B, 137)).build_order(
        OrderArgs(token_id=YES, price=0.45, size=10, side="BUY"),
        CreateOrderOptions(tick_size="0.01", neg_risk=False),
    )

    status, body = _rejection(lambda: client.post_order(order))

    assert (status, body) == (
        400,
        {"error": "the order signer address has to be the address of the API KEY"},
    )


def test_order_owned_by_another_api_key_is_refused(
    running: RunningVenue, client: ClobClient
) -> None:
    order = client.create_order(OrderArgs(token_id=YES, price=0.45, size=10, side="BUY"), OPTS)
    body = {"order": dataclasses.asdict(order), "owner": "someone-else", "orderType": "GTC"}
    body["order"]["side"] = "BUY"
    body["order"]["salt"] = int(order.salt)
    body["order"]["signatureType"] = int(order.signatureType)

    response = l2_request(running, client, "POST", "/order", body)

    assert (response.status_code, response.json()) == (
        400,
        {"error": "the order owner has to be the owner of the API KEY"},
    )


def test_v1_signed_order_is_an_order_version_mismatch(client: ClobClient) -> None:
    assert client.signer is not None
    v1 = OrderBuilder(client.signer).build_order(
        OrderArgsV1(token_id=YES, price=0.45, size=10, side="BUY"),
        CreateOrderOptions(tick_size="0.01", neg_risk=False),
        version=1,
        fee_rate_bps=0,
    )

    status, body = _rejection(lambda: client.post_order(v1))

    assert (status, body) == (400, {"error": "order_version_mismatch"})


def test_batch_answers_each_order_separately(client: ClobClient) -> None:
    good = client.create_order(OrderArgs(token_id=YES, price=0.45, size=10, side="BUY"), OPTS)
    small = client.create_order(OrderArgs(token_id=YES, price=0.45, size=2, side="BUY"), OPTS)

    answers = client.post_orders([PostOrdersV2Args(order=good), PostOrdersV2Args(order=small)])

    assert [a["success"] for a in answers] == [True, False]
    assert answers[1]["errorMsg"].endswith("lower than the minimum: 5")


def test_batch_of_more_than_fifteen_is_refused(client: ClobClient) -> None:
    args = OrderArgs(token_id=YES, price=0.45, size=10, side="BUY")
    batch = [PostOrdersV2Args(order=client.create_order(args, OPTS)) for _ in range(16)]

    status, _ = _rejection(lambda: client.post_orders(batch))

    assert status == 400


def test_market_not_found_for_unknown_token(venue: SimVenue, client: ClobClient) -> None:
    order = OrderBuilder(Signer(KEY_A, 137)).build_order(
        OrderArgs(token_id="12345", price=0.45, size=10, side="BUY"),
        CreateOrderOptions(tick_size="0.01", neg_risk=False),
    )

    status, body = _rejection(lambda: client.post_order(order))

    assert (status, body) == (400, {"error": "Invalid token id"})
    assert COND in venue.state.markets
