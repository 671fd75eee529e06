"""Lost answers, reverts, hung transactions and RPC errors on the chain side, through the SDK."""

from __future__ import annotations

import httpx
import pytest
from eth_account import Account
from polymarket.errors import RateLimitError, TransactionFailedError, TransportError

from pm_lib.sim.server import RunningVenue
from tests.sim_chain.chain_helpers import (
    fund,
    inject,
    open_client,
    relayer_key,
    rpc,
    transactions,
    units,
)
from tests.sim_exchange.emulated_venue import COND, KEY_A, NO, YES

pytestmark = pytest.mark.timeout(60)
LOST_SUBMIT = {"kind": "response_lost", "path": "/rpc", "rpc_method": "eth_sendRawTransaction"}


def test_lost_eoa_submission_settles_once_and_the_chain_shows_it(running: RunningVenue) -> None:
    wallet = fund(running, KEY_A, 0, tokens={YES: "10", NO: "10"}, approve=True)
    before = units(running, wallet)
    inject(running, "/faults", count=1, **LOST_SUBMIT)
    with open_client(running, KEY_A, 0) as client, pytest.raises(TransportError):
        client.merge_positions(condition_id=COND, amount=4_000_000)

    assert units(running, wallet) == before + 4_000_000  # applied exactly once
    assert rpc(running, "eth_getTransactionCount", wallet, "latest")["result"] == "0x1"
    (tx,) = transactions(running)
    receipt = rpc(running, "eth_getTransactionReceipt", tx["hash"])["result"]
    assert receipt["status"] == "0x1"
    # Re-sending the very same signed transaction is refused and changes nothing.
    again = rpc(running, "eth_sendRawTransaction", tx["raw"])
    assert again["error"]["message"] == "nonce too low: next nonce 1, tx nonce 0"
    assert units(running, wallet) == before + 4_000_000


def test_resending_a_pending_transaction_is_already_known(running: RunningVenue) -> None:
    wallet = fund(running, KEY_A, 0, tokens={YES: "10", NO: "10"}, approve=True)
    before = units(running, wallet)
    inject(running, "/chain/faults", kind="pending", count=1)
    with open_client(running, KEY_A, 0) as client:
        handle = client.merge_positions(condition_id=COND, amount=1_000_000)
    assert rpc(running, "eth_getTransactionReceipt", handle.transaction_hash)["result"] is None
    (tx,) = transactions(running)
    assert rpc(running, "eth_sendRawTransaction", tx["raw"])["error"]["message"] == "already known"
    assert rpc(running, "eth_getTransactionCount", wallet, "latest")["result"] == "0x0"
    assert rpc(running, "eth_getTransactionCount", wallet, "pending")["result"] == "0x1"
    assert units(running, wallet) == before
    httpx.post(f"{running.clob_url}/_sim/chain/mine", json={"release": True}).raise_for_status()
    receipt = rpc(running, "eth_getTransactionReceipt", handle.transaction_hash)["result"]
    assert receipt["status"] == "0x1"
    assert units(running, wallet) == before + 1_000_000


def test_injected_revert_fails_the_eoa_transaction_and_spends_the_nonce(
    running: RunningVenue,
) -> None:
    wallet = fund(running, KEY_A, 0, tokens={YES: "10", NO: "10"}, approve=True)
    before = units(running, wallet)
    inject(running, "/chain/faults", kind="revert", count=1)
    with open_client(running, KEY_A, 0) as client:
        handle = client.merge_positions(condition_id=COND, amount=2_000_000)
        with pytest.raises(TransactionFailedError):
            handle.wait()
    receipt = rpc(running, "eth_getTransactionReceipt", handle.transaction_hash)["result"]
    assert receipt["status"] == "0x0"
    assert rpc(running, "eth_getTransactionCount", wallet, "latest")["result"] == "0x1"
    assert units(running, wallet) == before
    assert units(running, wallet, YES) == 10_000_000


def test_redeem_before_resolution_is_refused_by_gas_estimation(running: RunningVenue) -> None:
    wallet = fund(running, KEY_A, 0, tokens={YES: "10"}, approve=True)
    with open_client(running, KEY_A, 0) as client:
        # Gamma lists the market as open: the SDK's closed=True lookup finds nothing.
        from polymarket.errors import UserInputError

        with pytest.raises(UserInputError):
            client.redeem_positions(condition_id=COND)
    call = {"from": wallet, "to": "0xAdA100Db00Ca00073811820692005400218FcE1f", "data": _redeem()}
    error = rpc(running, "eth_estimateGas", call)["error"]
    assert error["code"] == 3
    assert error["message"] == "execution reverted: result for condition not received yet"


def _redeem() -> str:
    from eth_abi.abi import encode

    from pm_lib.sim.chain_calls import selector
    from pm_lib.sim.chain_wallets import PUSD

    args = encode(
        ["address", "bytes32", "bytes32", "uint256[]"],
        [PUSD, bytes(32), bytes.fromhex(COND[2:]), [1, 2]],
    )
    return "0x" + (selector("redeemPositions(address,bytes32,bytes32,uint256[])") + args).hex()


def test_rpc_rate_limit_reaches_the_sdk_as_a_rate_limit(running: RunningVenue) -> None:
    fund(running, KEY_A, 0, tokens={YES: "10", NO: "10"}, approve=True)
    inject(running, "/faults", kind="error", status=429, path="/rpc", count=1)
    with open_client(running, KEY_A, 0) as client, pytest.raises(RateLimitError):
        client.merge_positions(condition_id=COND, amount=1_000_000)


@pytest.mark.parametrize("sig", [1, 2])
def test_lost_relayer_answer_settles_once_and_the_relayer_lists_it(
    running: RunningVenue, sig: int
) -> None:
    wallet = fund(running, KEY_A, sig, tokens={YES: "10", NO: "10"}, approve=True)
    before = units(running, wallet)
    inject(running, "/faults", kind="response_lost", path="/relayer/submit", count=1)
    with open_client(running, KEY_A, sig) as client, pytest.raises(TransportError):
        client.merge_positions(condition_id=COND, amount=3_000_000)

    assert units(running, wallet) == before + 3_000_000
    signer = str(Account.from_key(KEY_A).address)
    key = relayer_key(running, signer)
    headers = {"RELAYER_API_KEY": key.key, "RELAYER_API_KEY_ADDRESS": signer}
    listed = httpx.get(f"{running.clob_url}/relayer/transactions", headers=headers).json()
    assert [t["state"] for t in listed] == ["STATE_CONFIRMED"]
    by_id = httpx.get(
        f"{running.clob_url}/relayer/v1/account/transactions/{listed[0]['transactionID']}"
    ).json()
    assert by_id["transaction_hash"] == listed[0]["transactionHash"]
    assert by_id["state"] == "STATE_CONFIRMED"
    receipt = rpc(running, "eth_getTransactionReceipt", by_id["transaction_hash"])["result"]
    assert receipt["status"] == "0x1"
    nonce = httpx.get(
        f"{running.clob_url}/relayer/nonce",
        params={"address": signer, "type": "PROXY" if sig == 1 else "SAFE"},
    ).json()
    assert nonce == {"nonce": "1"}


@pytest.mark.parametrize("sig", [1, 2])
def test_relayed_revert_ends_state_failed(running: RunningVenue, sig: int) -> None:
    wallet = fund(running, KEY_A, sig, tokens={YES: "10", NO: "10"}, approve=True)
    before = units(running, wallet)
    inject(running, "/chain/faults", kind="revert", count=1, reason="boom")
    with open_client(running, KEY_A, sig) as client:
        handle = client.merge_positions(condition_id=COND, amount=3_000_000)
        with pytest.raises(TransactionFailedError, match="boom"):
            handle.wait()
    assert units(running, wallet) == before


@pytest.mark.parametrize("sig", [0, 2])
def test_gateway_error_after_the_transaction_was_applied(running: RunningVenue, sig: int) -> None:
    """A 502 whose request went through: the SDK raises, the chain has the effect once."""
    from polymarket.errors import RequestRejectedError

    wallet = fund(running, KEY_A, sig, tokens={YES: "10", NO: "10"}, approve=True)
    before = units(running, wallet)
    rule: dict[str, object] = {"kind": "error_after_apply", "status": 502, "count": 1}
    if sig == 0:
        rule |= {"path": "/rpc", "rpc_method": "eth_sendRawTransaction"}
    else:
        rule |= {"path": "/relayer/submit"}
    inject(running, "/faults", **rule)
    with open_client(running, KEY_A, sig) as client, pytest.raises(RequestRejectedError) as e:
        client.merge_positions(condition_id=COND, amount=2_000_000)
    assert e.value.status == 502
    assert units(running, wallet) == before + 2_000_000
    assert [t["status"] for t in transactions(running)] == [1]


def test_a_relayed_transaction_held_for_one_wallet_does_not_hold_others(
    running: RunningVenue,
) -> None:
    from tests.sim_exchange.emulated_venue import KEY_B

    held = fund(running, KEY_A, 1, tokens={YES: "10", NO: "10"}, approve=True)
    other = fund(running, KEY_B, 2, tokens={YES: "10", NO: "10"}, approve=True)
    inject(running, "/chain/faults", kind="pending", sender=held)
    with open_client(running, KEY_A, 1) as client:
        client.merge_positions(condition_id=COND, amount=1_000_000)  # submitted, never mined
    with open_client(running, KEY_B, 2) as client:
        client.merge_positions(condition_id=COND, amount=2_000_000).wait()
    assert units(running, other, YES) == 8_000_000
    assert units(running, held, YES) == 10_000_000
