"""Merge and redeem through the real polymarket SDK (0.14.0) over HTTP, per signature type."""

from __future__ import annotations

import pytest

from pm_lib.sim.server import RunningVenue
from tests.sim_chain.chain_helpers import chain_wallet, fund, open_client, resolve, units
from tests.sim_exchange.emulated_venue import COND, KEY_A, KEY_B, NO, NR_COND, NR_NO, NR_YES, YES

pytestmark = pytest.mark.timeout(60)
SIG_TYPES = [0, 1, 2, 3]


@pytest.mark.parametrize("sig", SIG_TYPES)
def test_merge_returns_exactly_n_pusd(running: RunningVenue, sig: int) -> None:
    wallet = fund(running, KEY_A, sig, pusd="100", tokens={YES: "12.5", NO: "10"}, approve=True)
    pusd_before = units(running, wallet)
    with open_client(running, KEY_A, sig) as client:
        client.merge_positions(condition_id=COND, amount=7_250_000).wait()
    assert units(running, wallet) == pusd_before + 7_250_000
    assert units(running, wallet, YES) == 12_500_000 - 7_250_000
    assert units(running, wallet, NO) == 10_000_000 - 7_250_000


@pytest.mark.parametrize("sig", SIG_TYPES)
def test_redeem_pays_the_winning_side_and_clears_both(running: RunningVenue, sig: int) -> None:
    wallet = fund(running, KEY_A, sig, pusd="5", tokens={YES: "30", NO: "4"}, approve=True)
    resolve(running, COND, "Yes")
    pusd_before = units(running, wallet)
    with open_client(running, KEY_A, sig) as client:
        client.redeem_positions(condition_id=COND).wait()
    assert units(running, wallet) == pusd_before + 30_000_000
    assert units(running, wallet, YES) == 0
    assert units(running, wallet, NO) == 0


@pytest.mark.parametrize("sig", SIG_TYPES)
def test_neg_risk_redeem_goes_through_the_neg_risk_adapter(running: RunningVenue, sig: int) -> None:
    wallet = fund(running, KEY_A, sig, tokens={NR_YES: "3", NR_NO: "8.5"}, approve=True)
    resolve(running, NR_COND, "No")
    pusd_before = units(running, wallet)
    with open_client(running, KEY_A, sig) as client:
        client.redeem_positions(condition_id=NR_COND).wait()
    assert units(running, wallet) == pusd_before + 8_500_000
    assert units(running, wallet, NR_YES) == units(running, wallet, NR_NO) == 0


@pytest.mark.parametrize("sig", SIG_TYPES)
def test_pairs_bought_on_the_clob_merge_back_from_the_same_wallet(
    running: RunningVenue, sig: int
) -> None:
    """The wallet the SDK derives trades on the CLOB and settles on the chain side."""
    wallet = fund(running, KEY_A, sig, pusd="50", approve=True)
    with open_client(running, KEY_A, sig) as client:
        yes = client.place_limit_order(token_id=YES, price="0.55", size="10", side="BUY")
        no = client.place_limit_order(token_id=NO, price="0.50", size="10", side="BUY")
        assert yes.status == no.status == "matched"
        assert units(running, wallet, YES) == units(running, wallet, NO) == 10_000_000
        held = client.get_balance_allowance(asset_type="CONDITIONAL", token_id=YES)
        assert held.balance == 10_000_000
        after_buys = units(running, wallet)
        client.merge_positions(condition_id=COND, amount="max").wait()
    assert units(running, wallet) == after_buys + 10_000_000
    assert units(running, wallet, YES) == units(running, wallet, NO) == 0


@pytest.mark.parametrize("sig", SIG_TYPES)
def test_split_takes_n_pusd_and_gives_n_of_each(running: RunningVenue, sig: int) -> None:
    wallet = fund(running, KEY_A, sig, pusd="20", approve=True)
    before = units(running, wallet)
    with open_client(running, KEY_A, sig) as client:
        client.split_position(condition_id=NR_COND, amount=6_000_001).wait()
    assert units(running, wallet) == before - 6_000_001
    assert units(running, wallet, NR_YES) == units(running, wallet, NR_NO) == 6_000_001


def test_deposit_wallet_is_created_through_the_relayer_then_settles(
    running: RunningVenue,
) -> None:
    """The SDK's default flow (no wallet given): WALLET-CREATE, then WALLET batches."""
    import httpx
    from eth_account import Account
    from polymarket import SecureClient

    from tests.sim_chain.chain_helpers import environment, relayer_key, wallet_address

    signer = str(Account.from_key(KEY_B).address)
    wallet = wallet_address(KEY_B, 3)
    assert not chain_wallet(running, wallet)["deployed"]
    with SecureClient.create(
        private_key=KEY_B, environment=environment(running), api_key=relayer_key(running, signer)
    ) as client:
        assert str(client.wallet) == wallet and client.wallet_type == "DEPOSIT_WALLET"
        assert chain_wallet(running, wallet)["deployed"]
        fund_url = f"{running.clob_url}/_sim/wallets/{wallet}/fund"
        httpx.post(
            fund_url, json={"tokens": {YES: "4", NO: "6"}, "approve": True}
        ).raise_for_status()
        before = units(running, wallet)
        client.merge_positions(condition_id=COND, amount="max").wait()
        assert units(running, wallet) == before + 4_000_000
        resolve(running, COND, "No")
        client.redeem_positions(condition_id=COND).wait()
    assert units(running, wallet) == before + 6_000_000
    assert units(running, wallet, YES) == units(running, wallet, NO) == 0
