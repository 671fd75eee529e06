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


def test_neg_risk_basket_pays_exactly_the_winning_leg() -> None:
    """A basket of YES on every leg of a generated neg-risk event: one leg resolves Yes, its
    siblings No; redeeming every leg through the relayer pays exactly the winner's shares."""
    from pm_lib.sim.server import running_venue
    from pm_lib.sim.venue import SimConfig, SimVenue

    venue = SimVenue(SimConfig(markets=80, seed=5, book_epoch_seconds=0))
    markets = venue.state.markets
    event = next(
        e
        for e in venue.state.events.values()
        if e.neg_risk
        and len(e.condition_ids) >= 3
        and not any(markets[c].closed for c in e.condition_ids)
    )
    legs = [markets[c] for c in event.condition_ids]
    tokens = {leg.yes_token: "10" for leg in legs}
    tokens[legs[1].no_token] = "3"  # a NO on a losing leg pays too
    with running_venue(venue) as running:
        wallet = fund(running, KEY_A, 1, tokens=tokens, approve=True)
        resolve(running, legs[0].condition_id, "Yes")
        before = units(running, wallet)
        with open_client(running, KEY_A, 1) as client:
            for leg in legs:
                client.redeem_positions(condition_id=leg.condition_id).wait()
        assert units(running, wallet) == before + 13_000_000
        for leg in legs:
            assert (
                units(running, wallet, leg.yes_token) == units(running, wallet, leg.no_token) == 0
            )


@pytest.mark.parametrize("sig", SIG_TYPES)
def test_setup_trading_approvals_then_split(sig: int) -> None:
    """A wallet with no approvals: the SDK grants what it checks (17 approvals: one batch
    through the relayer, or one transaction each for an EOA), then a split goes through."""
    from pm_lib.sim.accounts import NEG_RISK_ADAPTER
    from pm_lib.sim.server import running_venue
    from pm_lib.sim.venue import SimConfig
    from tests.sim_exchange.emulated_venue import make_venue

    with running_venue(make_venue(SimConfig(autofund=False))) as running:
        wallet = fund(running, KEY_A, sig, pusd="10")
        assert not any(chain_wallet(running, wallet)["operators"].values())
        with open_client(running, KEY_A, sig) as client:
            client.setup_trading_approvals()
            client.split_position(condition_id=COND, amount=4_000_000).wait()
        state = chain_wallet(running, wallet)
        operators = state["operators"]
        operators.pop(NEG_RISK_ADAPTER)  # not among the SDK's approvals in V2
        assert all(operators.values())
        assert int(state["pusd"]) == 6_000_000
        assert units(running, wallet, YES) == units(running, wallet, NO) == 4_000_000


def test_clob_trades_have_receipts_once_mined_and_ghost_fills_revert(
    running: RunningVenue,
) -> None:
    """A trade's transaction_hash is a transaction on the emulated chain: no receipt while
    MATCHED, status 1 once MINED, status 0 for a ghost fill that ends FAILED."""
    import httpx

    from tests.sim_chain.chain_helpers import rpc

    base = running.clob_url
    httpx.post(f"{base}/_sim/ghost-fills", json={"token_id": NO, "count": 1}).raise_for_status()
    httpx.post(f"{base}/_sim/clock", json={"freeze": True}).raise_for_status()
    fund(running, KEY_A, 0, pusd="50", approve=True)
    with open_client(running, KEY_A, 0) as client:
        client.place_limit_order(token_id=YES, price="0.55", size="10", side="BUY")
        client.place_limit_order(token_id=NO, price="0.50", size="10", side="BUY")
    trades = {t["asset_id"]: t["transaction_hash"] for t in httpx.get(f"{base}/_sim/trades").json()}
    assert rpc(running, "eth_getTransactionReceipt", trades[YES])["result"] is None
    httpx.post(f"{base}/_sim/clock", json={"advance": 60}).raise_for_status()
    assert rpc(running, "eth_getTransactionReceipt", trades[YES])["result"]["status"] == "0x1"
    assert rpc(running, "eth_getTransactionReceipt", trades[NO])["result"]["status"] == "0x0"


def test_pm_agent_open_secure_client_settles_a_proxy_wallet(running: RunningVenue) -> None:
    """pm-agent's one way to open the SDK (settings + credentials + relayer key) merges here."""
    from eth_account import Account

    from pm_lib.auth import Credentials
    from pm_lib.settings import Settings
    from pm_lib.venue.sdk_client import open_secure_client
    from tests.sim_chain.chain_helpers import relayer_key, wallet_address

    proxy = wallet_address(KEY_A, 1)
    fund(running, KEY_A, 1, tokens={YES: "3", NO: "3"}, approve=True)
    settings = Settings(clob_url=running.clob_url, gamma_url=running.gamma_url)
    credentials = Credentials(private_key=KEY_A, funder=proxy, signature_type=1)
    signer = str(Account.from_key(KEY_A).address)
    before = units(running, proxy)
    with open_secure_client(
        settings, credentials, relayer_api_key=relayer_key(running, signer)
    ) as client:
        assert client.wallet_type == "POLY_PROXY"
        client.merge_positions(condition_id=COND, amount="max").wait()
    assert units(running, proxy) == before + 3_000_000


@pytest.mark.parametrize("sig", SIG_TYPES)
def test_merge_multiple_positions_in_one_batch(running: RunningVenue, sig: int) -> None:
    tokens = {YES: "5", NO: "4", NR_YES: "2", NR_NO: "7"}
    wallet = fund(running, KEY_A, sig, tokens=tokens, approve=True)
    before = units(running, wallet)
    with open_client(running, KEY_A, sig) as client:
        client.merge_multiple_positions(
            positions=[{"condition_id": COND}, {"condition_id": NR_COND, "amount": 1_500_000}]
        ).wait()
    assert units(running, wallet) == before + 4_000_000 + 1_500_000
    assert [units(running, wallet, t) for t in (YES, NO, NR_YES, NR_NO)] == [
        1_000_000,
        0,
        500_000,
        5_500_000,
    ]
