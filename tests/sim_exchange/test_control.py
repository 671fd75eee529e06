"""The exchange control API under /_sim, and funder wallets (signature types 1-3) end to end."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    BalanceAllowanceParams,
    MarketOrderArgs,
    OrderArgs,
    OrderType,
    PartialCreateOrderOptions,
)
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.signer import Signer

from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimConfig
from tests.sim_exchange.emulated_venue import KEY_A, YES, authed_client, make_venue

OPTS = PartialCreateOrderOptions(tick_size="0.01", neg_risk=False)
ADDRESS_A = Signer(KEY_A, 137).address()
DEPOSIT_WALLET = "0x" + "7a" * 20


@pytest.fixture
def unfunded() -> Iterator[RunningVenue]:
    with running_venue(make_venue(SimConfig(autofund=False))) as r:
        yield r


def _buy_now(client: ClobClient) -> dict[str, object]:
    args = MarketOrderArgs(token_id=YES, amount=5.5, side="BUY")
    result = client.create_and_post_market_order(args, OPTS, order_type=OrderType.FOK)
    assert isinstance(result, dict)
    return result


def _sim(running: RunningVenue, method: str, path: str, body: object = None) -> httpx.Response:
    return httpx.request(method, f"{running.clob_url}/_sim{path}", json=body)


def test_without_autofund_a_new_wallet_is_empty_and_cannot_buy(unfunded: RunningVenue) -> None:
    client = authed_client(unfunded)

    with pytest.raises(PolyApiException) as err:
        _buy_now(client)

    assert err.value.error_msg["error"] == "not enough balance / allowance"


def test_funding_credits_pusd_and_allowances(unfunded: RunningVenue) -> None:
    client = authed_client(unfunded)

    _sim(unfunded, "POST", f"/wallets/{ADDRESS_A}/fund", {"pusd": "100.25", "approve": True})
    balance = client.get_balance_allowance(BalanceAllowanceParams(asset_type="COLLATERAL"))

    assert balance["balance"] == "100250000"
    assert set(balance["allowances"].values()) == {str(2**256 - 1)}


def test_zero_allowance_refuses_orders_despite_the_balance(running: RunningVenue) -> None:
    client = authed_client(running)
    _sim(running, "POST", f"/wallets/{ADDRESS_A}/fund", {"allowance": "0"})

    with pytest.raises(PolyApiException) as err:
        _buy_now(client)

    assert err.value.error_msg["error"] == "not enough balance / allowance"


def test_funded_tokens_can_be_sold(running: RunningVenue) -> None:
    client = authed_client(running)
    _sim(running, "POST", f"/wallets/{ADDRESS_A}/fund", {"tokens": {YES: "20"}})

    response = client.create_and_post_order(
        OrderArgs(token_id=YES, price=0.50, size=20, side="SELL"), OPTS, order_type=OrderType.FOK
    )

    # 20 @ 0.50 = 10 pUSD, fee 20 * 0.04 * 0.25 = 0.2.
    assert response["takingAmount"] == "10"
    wallet = _sim(running, "GET", f"/wallets/{ADDRESS_A}").json()
    assert wallet["pusd"] == str(10_000_000_000 + 10_000_000 - 200_000)
    assert wallet["positions"] == {}


def test_wallet_inspection_lists_orders_trades_and_positions(running: RunningVenue) -> None:
    client = authed_client(running)
    placed = _buy_now(client)

    wallet = _sim(running, "GET", f"/wallets/{ADDRESS_A}").json()

    assert wallet["positions"] == {YES: "10000000"}
    assert [o["id"] for o in wallet["orders"]] == [placed["orderID"]]
    assert [t["id"] for t in wallet["trades"]] == placed["tradeIDs"]
    assert Decimal(wallet["trades"][0]["fee"]) == Decimal("0.099")


def test_ghost_fill_rate_applies_to_later_trades(running: RunningVenue) -> None:
    client = authed_client(running)

    answer = _sim(running, "POST", "/ghost-fill-rate", {"rate": 1})
    _buy_now(client)

    assert answer.json() == {"ghost_fill_rate": 1.0}
    assert _sim(running, "GET", "/trades").json()[0]["ghost"] is True


def test_forcing_failed_reverts_the_trade(running: RunningVenue) -> None:
    client = authed_client(running)
    trade_id = str(_buy_now(client)["tradeIDs"][0])  # type: ignore[index]

    forced = _sim(running, "POST", f"/trades/{trade_id}/status", {"status": "TRADE_STATUS_FAILED"})

    assert forced.json()["status"] == "TRADE_STATUS_FAILED"
    wallet = _sim(running, "GET", f"/wallets/{ADDRESS_A}").json()
    assert (wallet["pusd"], wallet["positions"]) == ("10000000000", {})


def test_a_forced_status_is_not_moved_by_the_clock(running: RunningVenue) -> None:
    client = authed_client(running)
    trade_id = str(_buy_now(client)["tradeIDs"][0])  # type: ignore[index]
    _sim(running, "POST", f"/trades/{trade_id}/status", {"status": "TRADE_STATUS_RETRYING"})

    running.venue.state.clock.advance(60)

    assert client.get_trades()[0]["status"] == "TRADE_STATUS_RETRYING"


def test_unknown_status_is_refused(running: RunningVenue) -> None:
    answer = _sim(running, "POST", "/trades/nope/status", {"status": "DONE"})

    assert answer.status_code == 400


def test_deposit_wallet_orders_trade_from_the_configured_wallet() -> None:
    config = SimConfig(funder_wallets={ADDRESS_A: DEPOSIT_WALLET})
    with running_venue(make_venue(config)) as running:
        eoa = authed_client(running)
        client = ClobClient(
            host=running.clob_url,
            chain_id=137,
            key=KEY_A,
            creds=eoa.creds,
            signature_type=3,
            funder=DEPOSIT_WALLET,
        )

        _buy_now(client)
        wallet = _sim(running, "GET", f"/wallets/{DEPOSIT_WALLET}").json()
        mine = client.get_balance_allowance(BalanceAllowanceParams(asset_type="COLLATERAL"))

    assert wallet["positions"] == {YES: "10000000"}
    assert mine["balance"] == wallet["pusd"] == str(10_000_000_000 - 5_500_000 - 99_000)


def test_venue_reset_forgets_orders_and_wallets_but_keeps_api_keys(running: RunningVenue) -> None:
    client = authed_client(running)
    _buy_now(client)
    client.create_and_post_order(OrderArgs(token_id=YES, price=0.45, size=10, side="BUY"), OPTS)

    running.venue.exchange.reset()  # what POST /_sim/reset calls on the exchange

    assert client.get_open_orders() == [] and client.get_trades() == []
    balance = client.get_balance_allowance(BalanceAllowanceParams(asset_type="COLLATERAL"))
    assert balance["balance"] == "10000000000"


def test_sim_reset_route_clears_the_exchange(running: RunningVenue) -> None:
    client = authed_client(running)
    client.create_and_post_order(OrderArgs(token_id=YES, price=0.45, size=10, side="BUY"), OPTS)

    answer = _sim(running, "POST", "/reset", {"markets": 5})

    assert answer.status_code == 200
    assert client.get_open_orders() == []


@pytest.mark.parametrize("body", [{}, {"rate": 2}, {"rate": "x"}, {"rate": 0.5, "answer": "500"}])
def test_filled_lookup_misses_setting_is_validated(running: RunningVenue, body: object) -> None:
    assert _sim(running, "POST", "/filled-lookup-misses", body).status_code == 400


@pytest.mark.parametrize(("answer", "status"), [("404", 404), ("empty", 200)])
def test_filled_fok_lookups_miss_as_configured_while_resting_orders_never_do(
    running: RunningVenue, answer: str, status: int
) -> None:
    client = authed_client(running)
    assert _sim(running, "POST", "/filled-lookup-misses", {"rate": 1, "answer": answer}).is_success
    filled = _buy_now(client)["orderID"]
    resting = client.create_and_post_order(
        OrderArgs(token_id=YES, price=0.30, size=10, side="BUY"), OPTS
    )
    if status == 404:
        with pytest.raises(PolyApiException) as err:
            client.get_order(filled)
        assert err.value.status_code == 404
    else:
        assert client.get_order(filled) == ""  # the SDK hands back the empty body as text
    assert client.get_order(resting["orderID"])["status"] == "ORDER_STATUS_LIVE"
    [trade] = client.get_trades()
    assert trade["taker_order_id"] == filled
