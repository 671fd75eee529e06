"""Helpers: open the real polymarket SDK on the emulator for an EOA, proxy or Safe wallet."""

from __future__ import annotations

from typing import Any

import httpx
from eth_account import Account
from polymarket import RelayerApiKey, SecureClient

from pm_lib.settings import Settings
from pm_lib.sim.chain_wallets import wallet_of
from pm_lib.sim.server import RunningVenue
from pm_lib.venue.sdk_environment import sdk_environment, venue_endpoints

KINDS = {0: "eoa", 1: "proxy", 2: "safe", 3: "deposit"}


def environment(running: RunningVenue) -> Any:
    settings = Settings(clob_url=running.clob_url, gamma_url=running.gamma_url)
    return sdk_environment(venue_endpoints(settings))


def wallet_address(key: str, signature_type: int) -> str:
    signer = str(Account.from_key(key).address)
    return wallet_of(signer, signature_type) or signer


def relayer_key(running: RunningVenue, address: str) -> RelayerApiKey:
    answer = httpx.get(f"{running.clob_url}/_sim/relayer/api-key", params={"address": address})
    return RelayerApiKey(key=answer.json()["key"], address=address)


def fund(running: RunningVenue, key: str, signature_type: int, **body: Any) -> str:
    """Fund (and, for smart wallets, register as deployed) the wallet of ``key``; its address."""
    signer = str(Account.from_key(key).address)
    if signature_type == 0:
        answer = httpx.post(f"{running.clob_url}/_sim/wallets/{signer}/fund", json=body)
        answer.raise_for_status()
        return signer
    kind = KINDS[signature_type]
    answer = httpx.post(
        f"{running.clob_url}/_sim/chain/wallets", json={"signer": signer, "type": kind, **body}
    )
    answer.raise_for_status()
    return str(answer.json()["wallet"])


def open_client(running: RunningVenue, key: str, signature_type: int) -> SecureClient:
    signer = str(Account.from_key(key).address)
    wallet = wallet_address(key, signature_type)
    return SecureClient.create(
        private_key=key,
        wallet=wallet,
        environment=environment(running),
        api_key=relayer_key(running, signer) if signature_type else None,
    )


def chain_wallet(running: RunningVenue, address: str) -> dict[str, Any]:
    answer = httpx.get(f"{running.clob_url}/_sim/chain/wallets/{address}")
    answer.raise_for_status()
    return dict(answer.json())


def units(running: RunningVenue, address: str, token: str | None = None) -> int:
    """pUSD (``token`` None) or a token balance of ``address``, integer units."""
    wallet = chain_wallet(running, address)
    if token is None:
        return int(wallet["pusd"])
    return int(wallet["positions"].get(token, "0"))


def resolve(running: RunningVenue, condition_id: str, outcome: str) -> None:
    answer = httpx.post(
        f"{running.clob_url}/_sim/markets/{condition_id}/resolve", json={"outcome": outcome}
    )
    answer.raise_for_status()


def rpc(running: RunningVenue, method: str, *params: Any) -> dict[str, Any]:
    """One raw JSON-RPC call; the whole response object (``result`` or ``error``)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    answer = httpx.post(f"{running.clob_url}/rpc", json=body)
    answer.raise_for_status()
    return dict(answer.json())


def transactions(running: RunningVenue) -> list[dict[str, Any]]:
    answer = httpx.get(f"{running.clob_url}/_sim/chain/transactions")
    answer.raise_for_status()
    return list(answer.json())


def inject(running: RunningVenue, control: str, **rule: Any) -> None:
    """Add an HTTP fault (``/_sim/faults``) or a chain fault (``/_sim/chain/faults``)."""
    httpx.post(f"{running.clob_url}/_sim{control}", json=rule).raise_for_status()
