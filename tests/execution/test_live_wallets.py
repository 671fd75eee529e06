"""Proxy, Safe and deposit wallets (signature types 1-3) through the adapter, on the unified SDK.

The SDK classifies the wallet from the signer (CREATE2 addresses from the production factory
constants) and asks the relayer whether it is deployed as it opens; the emulator's chain side
derives the same addresses and serves ``/relayer/deployed``. Orders are signed by the signer
for the wallet (the maker) and fill into the wallet.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from eth_account import Account

from pm_lib.auth import Credentials, credentials_from_mapping
from pm_lib.errors import ConfigurationError
from pm_lib.models import OrderType, Side
from pm_lib.settings import Settings
from pm_lib.sim.chain_wallets import wallet_of
from pm_lib.sim.server import RunningVenue
from pm_lib.venue.trading import TradingClient
from tests.execution.builders import request
from tests.execution.emulator import COND, FEES, KEY, YES, venue_orders

KINDS = {1: "proxy", 2: "safe", 3: "deposit"}
SIGNER = str(Account.from_key(KEY).address)


def smart_wallet(running: RunningVenue, signature_type: int) -> str:
    """The signer's wallet of ``signature_type``, registered deployed and funded."""
    body = {"signer": SIGNER, "type": KINDS[signature_type], "pusd": "100", "approve": True}
    answer = httpx.post(f"{running.clob_url}/_sim/chain/wallets", json=body, timeout=10)
    answer.raise_for_status()
    wallet = str(answer.json()["wallet"])
    assert wallet == wallet_of(SIGNER, signature_type)
    return wallet


def chain_pusd(running: RunningVenue, wallet: str) -> int:
    answer = httpx.get(f"{running.clob_url}/_sim/chain/wallets/{wallet}", timeout=10)
    answer.raise_for_status()
    return int(answer.json()["pusd"])


def keys(wallet: str, signature_type: int) -> Credentials:
    return credentials_from_mapping(
        {
            "POLYMARKET_PRIVATE_KEY": KEY,
            "POLYMARKET_FUNDER": wallet,
            "POLYMARKET_SIGNATURE_TYPE": str(signature_type),
        }
    )


@pytest.mark.parametrize("signature_type", [1, 2, 3])
def test_a_smart_wallet_trades_through_the_adapter(
    running: RunningVenue, live_settings: Settings, signature_type: int
) -> None:
    wallet = smart_wallet(running, signature_type)
    client = TradingClient.connect(live_settings, keys(wallet, signature_type))
    balance, _ = client.collateral()
    assert balance * 10**6 == chain_pusd(running, wallet) > 0  # the wallet's, not the signer's

    buy = request("k1", Side.BUY, "10", "0.55", OrderType.FOK, token=YES, condition=COND)
    signed = client.sign(buy.model_copy(update={"fees": FEES}))
    assert signed.sdk_order.maker == wallet and signed.sdk_order.signature_type == signature_type
    ack = client.post(signed)
    assert ack.order_id == signed.order_id  # hash before post, for the wallet's order too
    assert client.shares(YES) == Decimal(10)
    [fill] = client.trades(trade_id=ack.trade_ids[0], fees_for=lambda c: FEES)
    assert fill.size == Decimal(10) and fill.is_taker

    rest = request("k2", Side.BUY, "10", "0.20", OrderType.GTC, token=YES, condition=COND)
    resting = client.post(client.sign(rest.model_copy(update={"fees": FEES})))
    assert [o.order_id for o in client.open_orders()] == [resting.order_id]
    assert resting.order_id in str(venue_orders(running, wallet))  # the wallet is the maker
    assert client.cancel_all().canceled == (resting.order_id,)
    client.close()


def test_a_funder_the_sdk_reads_as_another_wallet_kind_is_refused(
    running: RunningVenue, live_settings: Settings
) -> None:
    """The proxy wallet configured as a Safe: the SDK detects POLY_PROXY, the adapter refuses
    before any order (its signatures would carry the wrong type)."""
    wallet = smart_wallet(running, 1)
    client = TradingClient.connect(live_settings, keys(wallet, 2))
    with pytest.raises(ConfigurationError, match="POLY_PROXY"):
        client.collateral()
