"""What the emulated chain and relayer refuse, over HTTP with eth-account-signed payloads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.crypto import keccak

from pm_lib.sim.chain_calls import selector
from pm_lib.sim.chain_tx import RELAY_ADDRESS
from pm_lib.sim.chain_wallets import (
    COLLATERAL_ADAPTER,
    NEG_RISK_COLLATERAL_ADAPTER,
    PROXY_FACTORY,
    PUSD,
    RELAY_HUB,
    derive_proxy_wallet,
)
from pm_lib.sim.relayer import relayer_api_key
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimConfig
from tests.sim_chain.chain_helpers import fund, rpc, units
from tests.sim_exchange.emulated_venue import COND, KEY_A, KEY_B, NO, YES, make_venue

pytestmark = pytest.mark.timeout(30)
SIGNER = Account.from_key(KEY_A)
GWEI = 10**9


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningVenue]:
    with running_venue(make_venue()) as r:
        yield r


def _merge_data(amount: int) -> str:
    args = encode(
        ["address", "bytes32", "bytes32", "uint256[]", "uint256"],
        [PUSD, bytes(32), bytes.fromhex(COND[2:]), [1, 2], amount],
    )
    return (
        "0x" + (selector("mergePositions(address,bytes32,bytes32,uint256[],uint256)") + args).hex()
    )


def _signed(nonce: int, *, chain_id: int = 137, gas_price: int = 30 * GWEI, **tx: Any) -> str:
    body = {
        "to": COLLATERAL_ADAPTER,
        "value": 0,
        "data": _merge_data(1_000_000),
        "gas": 300_000,
        "gasPrice": gas_price,
        "nonce": nonce,
        "chainId": chain_id,
        **tx,
    }
    return "0x" + SIGNER.sign_transaction(body).raw_transaction.hex()


def _error(running: RunningVenue, raw: str) -> str:
    answer = rpc(running, "eth_sendRawTransaction", raw)
    assert "error" in answer, answer
    return str(answer["error"]["message"])


def test_raw_transactions_are_admitted_as_geth_admits_them() -> None:
    with running_venue(make_venue()) as running:
        wallet = fund(running, KEY_A, 0, tokens={YES: "5", NO: "5"}, approve=True)
        before = units(running, wallet)
        assert _error(running, _signed(0, chain_id=80002)) == "invalid chain id for signer"
        assert _error(running, _signed(0, gas_price=GWEI)) == "transaction underpriced"
        assert _error(running, _signed(0, gas=20_000)) == "intrinsic gas too low"
        # A nonce gap is queued (hash returned, nothing mined) until the gap fills.
        gap = rpc(running, "eth_sendRawTransaction", _signed(1))["result"]
        assert rpc(running, "eth_getTransactionReceipt", gap)["result"] is None
        first = rpc(running, "eth_sendRawTransaction", _signed(0))["result"]
        assert rpc(running, "eth_getTransactionReceipt", first)["result"]["status"] == "0x1"
        assert rpc(running, "eth_getTransactionReceipt", gap)["result"]["status"] == "0x1"
        assert units(running, wallet) == before + 2_000_000
        assert _error(running, _signed(0)).startswith("nonce too low")
        # More than held: gas estimation refuses it, and a forced send mines a status-0 receipt.
        too_much = {"from": wallet, "to": COLLATERAL_ADAPTER, "data": _merge_data(10**9)}
        assert rpc(running, "eth_estimateGas", too_much)["error"]["code"] == 3
        failed = rpc(running, "eth_sendRawTransaction", _signed(2, data=_merge_data(10**9)))[
            "result"
        ]
        assert rpc(running, "eth_getTransactionReceipt", failed)["result"]["status"] == "0x0"
        assert units(running, wallet) == before + 2_000_000
        tx = rpc(running, "eth_getTransactionByHash", failed)["result"]
        assert tx["from"] == wallet.lower() and tx["nonce"] == "0x2"


def test_batched_eth_calls_answer_by_id(shared: RunningVenue) -> None:
    owner = fund(shared, KEY_B, 0, pusd="1", tokens={YES: "2"})
    balance = "0x" + (selector("balanceOf(address)") + encode(["address"], [owner])).hex()
    batch = [
        {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "eth_call",
            "params": [{"to": PUSD, "data": balance}],
        },
        {"jsonrpc": "2.0", "id": 8, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 9, "method": "eth_nope", "params": []},
    ]
    answer = httpx.post(f"{shared.clob_url}/rpc", json=batch).json()
    by_id = {a["id"]: a for a in answer}
    assert int(by_id[7]["result"], 16) == units(shared, owner)
    assert by_id[8]["result"] == "0x89"
    assert by_id[9]["error"]["code"] == -32601


def _proxy_payload(nonce: int, key: str = KEY_A) -> dict[str, Any]:
    signer = Account.from_key(key)
    inner = bytes.fromhex(_merge_data(1_000_000)[2:])
    data = selector("proxy((uint8,address,uint256,bytes)[])") + encode(
        ["(uint8,address,uint256,bytes)[]"], [[(1, COLLATERAL_ADAPTER, 0, inner)]]
    )
    message = (
        b"rlx:"
        + bytes.fromhex(signer.address[2:])
        + bytes.fromhex(PROXY_FACTORY[2:])
        + data
        + (0).to_bytes(32, "big") * 2
        + (200_000).to_bytes(32, "big")
        + nonce.to_bytes(32, "big")
        + bytes.fromhex(RELAY_HUB[2:])
        + bytes.fromhex(RELAY_ADDRESS[2:])
    )
    signature = signer.sign_message(encode_defunct(primitive=keccak(message))).signature
    return {
        "type": "PROXY",
        "from": signer.address,
        "to": PROXY_FACTORY,
        "proxyWallet": derive_proxy_wallet(signer.address),
        "data": "0x" + data.hex(),
        "nonce": str(nonce),
        "signature": "0x" + signature.hex(),
        "metadata": "",
        "signatureParams": {
            "gasLimit": "200000",
            "gasPrice": "0",
            "relay": RELAY_ADDRESS,
            "relayHub": RELAY_HUB,
            "relayerFee": "0",
        },
    }


def test_relayer_checks_key_nonce_and_signature(shared: RunningVenue) -> None:
    wallet = fund(shared, KEY_A, 1, tokens={YES: "5", NO: "5"}, approve=True)
    url = f"{shared.clob_url}/relayer/submit"
    key = {
        "RELAYER_API_KEY": relayer_api_key(7, SIGNER.address),
        "RELAYER_API_KEY_ADDRESS": SIGNER.address,
    }
    assert httpx.post(url, json=_proxy_payload(0)).status_code == 401
    wrong_key = {**key, "RELAYER_API_KEY": relayer_api_key(7, wallet)}
    assert httpx.post(url, json=_proxy_payload(0), headers=wrong_key).status_code == 401
    stale = httpx.post(url, json=_proxy_payload(3), headers=key)
    assert stale.status_code == 400
    assert stale.json()["error"] == "batch nonce 3 does not match on-chain nonce 0"
    forged = {**_proxy_payload(0), "from": Account.from_key(KEY_B).address}
    forged["proxyWallet"] = derive_proxy_wallet(forged["from"])
    forged_key = {
        "RELAYER_API_KEY": relayer_api_key(7, forged["from"]),
        "RELAYER_API_KEY_ADDRESS": forged["from"],
    }
    assert httpx.post(url, json=forged, headers=forged_key).json() == {"error": "invalid signature"}
    before = units(shared, wallet)
    accepted = httpx.post(url, json=_proxy_payload(0), headers=key)
    assert accepted.status_code == 200 and accepted.json()["state"] == "STATE_NEW"
    assert units(shared, wallet) == before + 1_000_000
    replay = httpx.post(url, json=_proxy_payload(0), headers=key)
    assert replay.status_code == 400  # the nonce is spent: a replay never applies twice
    assert units(shared, wallet) == before + 1_000_000


def test_redeem_through_the_wrong_adapter_succeeds_and_pays_nothing() -> None:
    """The silent no-op of the CTF: the other adapter's position ids hold nothing."""
    with running_venue(make_venue()) as running:
        wallet = fund(running, KEY_A, 0, tokens={YES: "5"}, approve=True)
        httpx.post(
            f"{running.clob_url}/_sim/markets/{COND}/resolve", json={"outcome": "Yes"}
        ).raise_for_status()
        before = units(running, wallet)
        args = encode(
            ["address", "bytes32", "bytes32", "uint256[]"],
            [PUSD, bytes(32), bytes.fromhex(COND[2:]), [1, 2]],
        )
        data = selector("redeemPositions(address,bytes32,bytes32,uint256[])") + args
        raw = _signed(0, to=NEG_RISK_COLLATERAL_ADAPTER, data="0x" + data.hex())
        tx_hash = rpc(running, "eth_sendRawTransaction", raw)["result"]
        assert rpc(running, "eth_getTransactionReceipt", tx_hash)["result"]["status"] == "0x1"
        assert units(running, wallet) == before
        assert units(running, wallet, YES) == 5_000_000


def _clock(running: RunningVenue, **move: Any) -> None:
    httpx.post(f"{running.clob_url}/_sim/clock", json=move).raise_for_status()


def test_transactions_stay_pending_for_the_configured_mining_delay() -> None:
    config = SimConfig(chain_mine_after_seconds=5, relayer_confirm_after_seconds=10)
    with running_venue(make_venue(config)) as running:
        _clock(running, freeze=True)
        wallet = fund(running, KEY_A, 0, tokens={YES: "5", NO: "5"}, approve=True)
        tx_hash = rpc(running, "eth_sendRawTransaction", _signed(0))["result"]
        assert rpc(running, "eth_getTransactionReceipt", tx_hash)["result"] is None
        assert rpc(running, "eth_getTransactionByHash", tx_hash)["result"]["blockNumber"] is None
        assert rpc(running, "eth_getTransactionCount", wallet, "pending")["result"] == "0x1"
        assert rpc(running, "eth_getTransactionCount", wallet, "latest")["result"] == "0x0"
        _clock(running, advance=6)
        assert rpc(running, "eth_getTransactionReceipt", tx_hash)["result"]["status"] == "0x1"

        # A relayed transaction: EXECUTED while pending, MINED, then CONFIRMED.
        fund(running, KEY_A, 1, tokens={YES: "5", NO: "5"}, approve=True)
        key = {
            "RELAYER_API_KEY": relayer_api_key(7, SIGNER.address),
            "RELAYER_API_KEY_ADDRESS": SIGNER.address,
        }
        submitted = httpx.post(
            f"{running.clob_url}/relayer/submit", json=_proxy_payload(0), headers=key
        ).json()
        url = f"{running.clob_url}/relayer/v1/account/transactions/{submitted['transactionID']}"
        assert httpx.get(url).json()["state"] == "STATE_EXECUTED"
        _clock(running, advance=6)
        assert httpx.get(url).json()["state"] == "STATE_MINED"
        _clock(running, advance=10)
        assert httpx.get(url).json()["state"] == "STATE_CONFIRMED"


def test_held_relayed_transaction_stays_executed_until_released() -> None:
    with running_venue(make_venue()) as running:
        wallet = fund(running, KEY_A, 1, tokens={YES: "5", NO: "5"}, approve=True)
        httpx.post(
            f"{running.clob_url}/_sim/chain/faults", json={"kind": "pending"}
        ).raise_for_status()
        key = {
            "RELAYER_API_KEY": relayer_api_key(7, SIGNER.address),
            "RELAYER_API_KEY_ADDRESS": SIGNER.address,
        }
        before = units(running, wallet)
        submitted = httpx.post(
            f"{running.clob_url}/relayer/submit", json=_proxy_payload(0), headers=key
        ).json()
        listed = httpx.get(
            f"{running.clob_url}/relayer/transaction", params={"id": submitted["transactionID"]}
        ).json()
        assert [row["state"] for row in listed] == ["STATE_EXECUTED"]
        assert units(running, wallet) == before
        httpx.post(f"{running.clob_url}/_sim/chain/mine", json={"release": True})
        listed = httpx.get(
            f"{running.clob_url}/relayer/transaction", params={"id": submitted["transactionID"]}
        ).json()
        assert [row["state"] for row in listed] == ["STATE_CONFIRMED"]
        assert units(running, wallet) == before + 1_000_000


def test_unprotected_replaced_and_forged_transactions_are_refused() -> None:
    with running_venue(make_venue(SimConfig(chain_mine_after_seconds=60))) as running:
        fund(running, KEY_A, 0, tokens={YES: "5", NO: "5"}, approve=True)
        unprotected = {
            "to": COLLATERAL_ADAPTER,
            "value": 0,
            "data": _merge_data(1),
            "gas": 300_000,
            "gasPrice": 30 * GWEI,
            "nonce": 0,
        }
        raw = "0x" + SIGNER.sign_transaction(unprotected).raw_transaction.hex()
        assert _error(running, raw).startswith("only replay-protected")
        assert "result" in rpc(running, "eth_sendRawTransaction", _signed(0))
        assert _error(running, _signed(0, gas=250_000)) == "replacement transaction underpriced"
        assert _error(running, "0x02c0").startswith("rlp")
