"""Polymarket's relayer, emulated: gasless transactions for proxy, Safe and deposit wallets.

What the SDK (polymarket-client 0.14.0, ``_internal/actions/relayer``) calls, and so what is
served under ``/relayer``:

- ``GET /deployed?address=&type=``: ``{"deployed": bool}``; a smart wallet is deployed once
  the emulator has seen it (funded, traded, or registered through ``POST /_sim/chain/wallets``);
- ``GET /relay-payload?address=<signer>&type=PROXY``: the relay address and the signer's
  proxy nonce, ``{"address": "0x...", "nonce": "N"}``;
- ``GET /v1/account/transactions/params?address=<signer>&type=SAFE|WALLET``: the Safe's or
  the deposit wallet's nonce;
- ``POST /submit``: a signed ``PROXY``, ``SAFE`` or ``WALLET`` (deposit-wallet batch)
  transaction, or a ``WALLET-CREATE`` (deploy the signer's deposit wallet); answered
  ``{"transactionID", "state": "STATE_NEW"}`` (no hash, as documented);
- ``GET /v1/account/transactions/{id}`` (what the SDK polls): ``{"transaction_id",
  "transaction_hash", "state", "error_msg", ...}``; ``GET /transaction?id=`` and
  ``GET /transactions`` list the documented camelCase rows; states go ``STATE_NEW`` ->
  ``STATE_EXECUTED`` (sent, not mined) -> ``STATE_MINED`` -> ``STATE_CONFIRMED``, or
  ``STATE_FAILED`` when the transaction reverts;
- ``GET /transactions`` (with the relayer API key): the key owner's transactions, newest
  first, for finding a submission whose answer was lost; ``GET /nonce?address=&type=``.

Checked on submit: the relayer API key headers (``RELAYER_API_KEY`` and
``RELAYER_API_KEY_ADDRESS``, the key bound to the signer or its wallet; or the four
``POLY_BUILDER_*`` headers of a builder key, present), the wallet is the signer's CREATE2
wallet, the nonce is the current one (else ``batch nonce N does not match on-chain nonce M``),
the signature recovers the signer (proxy: ``personal_sign`` of the ``rlx:`` relay hash; Safe:
the EIP-712 ``SafeTx`` digest, eth_sign-packed with v + 4 or plain; deposit wallet: the EIP-712
``Batch`` of domain "DepositWallet" v1, owner signatures only, deadline not past, wallet
deployed), the relay hub and relay address, and the Safe operation (a delegatecall only to
MultiSend). Safe and deposit-wallet nonces are spent when the transaction succeeds on chain,
and a wallet with a transaction in flight refuses another (``wallet has in-flight action``);
the proxy nonce is spent at submission (the relay hub counts it). The calls then run as the
wallet on the emulated chain (``pm_lib.sim.chain_tx``), all or nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import is_hex_address
from eth_utils.crypto import keccak

from pm_lib.sim.chain_tx import RELAY_ADDRESS, Chain, ChainTx, WalletCall
from pm_lib.sim.chain_wallets import (
    DEPOSIT_WALLET_FACTORY,
    PROXY_FACTORY,
    RELAY_HUB,
    SAFE_MULTISEND,
    derive_deposit_wallet,
    derive_proxy_wallet,
    derive_safe_wallet,
    same_address,
)
from pm_lib.sim.relayer_payloads import (
    RelayerError,
    deposit_wallet_batch,
    field_address,
    field_bytes,
    field_uint,
    multisend_calls,
    proxy_calls,
    recover_personal,
    recover_safe_signer,
    safe_tx_digest,
)

__all__ = [
    "STATE_CONFIRMED",
    "STATE_EXECUTED",
    "STATE_FAILED",
    "STATE_MINED",
    "STATE_NEW",
    "Relayer",
    "RelayerError",
    "relayer_api_key",
]

STATE_NEW = "STATE_NEW"
STATE_EXECUTED = "STATE_EXECUTED"
STATE_MINED = "STATE_MINED"
STATE_CONFIRMED = "STATE_CONFIRMED"
STATE_FAILED = "STATE_FAILED"
_BUILDER_HEADERS = (
    "poly_builder_api_key",
    "poly_builder_passphrase",
    "poly_builder_signature",
    "poly_builder_timestamp",
)


def _iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")


def relayer_api_key(seed: int, address: str) -> str:
    """The emulator's relayer API key of ``address`` (deterministic per venue seed)."""
    digest = hashlib.sha256(f"pm-sim-relayer:{seed}:{address.lower()}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16]))


@dataclass
class RelayedTx:
    """One submission the relayer accepted."""

    transaction_id: str
    tx_type: str
    signer: str
    wallet: str
    to: str
    data: str
    nonce: int
    signature: str
    metadata: str
    value: str
    chain_tx: ChainTx
    created_at: float


class Relayer:
    """The emulated relayer on top of ``chain``. Every method takes the venue lock."""

    def __init__(
        self,
        chain: Chain,
        seed: Callable[[], int],
        confirm_after_seconds: Callable[[], float],
    ) -> None:
        self.chain = chain
        self.seed = seed
        self.confirm_after_seconds = confirm_after_seconds
        self.lock = chain.lock
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.proxy_nonces: dict[str, int] = {}  # signer -> relay-hub nonce
            self.safe_nonces: dict[str, int] = {}  # Safe or deposit wallet -> nonce
            self.records: dict[str, RelayedTx] = {}
            self.deployed: set[str] = set()

    # -- reads -------------------------------------------------------------------------------

    def is_deployed(self, address: str) -> bool:
        key = address.lower()
        with self.lock:
            return key in self.deployed or key in self.chain.accounts.wallets

    def proxy_nonce(self, signer: str) -> int:
        return self.proxy_nonces.get(signer.lower(), 0)

    def safe_nonce(self, safe: str) -> int:
        return self.safe_nonces.get(safe.lower(), 0)

    def relay_payload(self, signer: str, tx_type: str) -> dict[str, str]:
        if tx_type != "PROXY":
            raise RelayerError(f"relay-payload serves type PROXY, not {tx_type}")
        with self.lock:
            return {"address": RELAY_ADDRESS, "nonce": str(self.proxy_nonce(signer))}

    def execute_params(self, signer: str, tx_type: str) -> dict[str, str]:
        if tx_type == "SAFE":
            wallet = derive_safe_wallet(signer)
        elif tx_type == "WALLET":
            wallet = derive_deposit_wallet(signer)
        else:
            raise RelayerError(f"pm-sim: transaction params for type {tx_type} are not emulated")
        with self.lock:
            return {"address": wallet, "nonce": str(self.safe_nonce(wallet))}

    def nonce(self, signer: str, tx_type: str) -> dict[str, str]:
        with self.lock:
            if tx_type == "SAFE":
                return {"nonce": str(self.safe_nonce(derive_safe_wallet(signer)))}
            if tx_type == "WALLET":
                return {"nonce": str(self.safe_nonce(derive_deposit_wallet(signer)))}
            return {"nonce": str(self.proxy_nonce(signer))}

    def state(self, record: RelayedTx) -> tuple[str, str | None]:
        tx = record.chain_tx
        if tx.pending:
            return STATE_EXECUTED, None
        if tx.status != 1:
            return STATE_FAILED, tx.revert_reason or "execution reverted"
        assert tx.mined_at is not None
        if self.chain.now() >= tx.mined_at + self.confirm_after_seconds():
            return STATE_CONFIRMED, None
        return STATE_MINED, None

    def as_json(self, record: RelayedTx) -> dict[str, Any]:
        """A transaction as ``GET /transaction`` and ``GET /transactions`` list it (camelCase,
        Polymarket's relayer API reference)."""
        state, error = self.state(record)
        tx = record.chain_tx
        updated = tx.mined_at if tx.mined_at is not None else record.created_at
        row: dict[str, Any] = {
            "transactionID": record.transaction_id,
            "transactionHash": tx.tx_hash,
            "from": record.signer.lower(),
            "to": record.to.lower(),
            "proxyAddress": record.wallet.lower(),
            "data": record.data,
            "nonce": str(record.nonce),
            "value": record.value,
            "signature": record.signature,
            "state": state,
            "type": record.tx_type,
            "owner": record.signer.lower(),
            "metadata": record.metadata,
            "createdAt": _iso(record.created_at),
            "updatedAt": _iso(updated),
        }
        if error is not None:
            row["errorMsg"] = error
        return row

    def as_account_json(self, record: RelayedTx) -> dict[str, Any]:
        """A transaction as ``GET /v1/account/transactions/{id}`` answers (the snake_case
        fields polymarket-client 0.14.0 parses: ``transaction_id``, ``transaction_hash``,
        ``state``, ``error_msg``)."""
        state, error = self.state(record)
        return {
            "transaction_id": record.transaction_id,
            "transaction_hash": record.chain_tx.tx_hash,
            "state": state,
            "error_msg": error,
            "type": record.tx_type,
            "from": record.signer.lower(),
            "proxy_address": record.wallet.lower(),
            "nonce": str(record.nonce),
            "metadata": record.metadata,
            "created_at": _iso(record.created_at),
        }

    def find(self, transaction_id: str) -> RelayedTx:
        """The record of ``transaction_id`` with its chain transaction brought up to date."""
        with self.lock:
            self.chain.advance()
            record = self.records.get(transaction_id)
            if record is None:
                raise RelayerError("transaction not found", 404)
            return record

    def list_for(self, address: str) -> list[dict[str, Any]]:
        with self.lock:
            self.chain.advance()
            rows = [
                r
                for r in self.records.values()
                if same_address(r.signer, address) or same_address(r.wallet, address)
            ]
            rows.sort(key=lambda r: r.created_at, reverse=True)
            return [self.as_json(r) for r in rows]

    # -- auth --------------------------------------------------------------------------------

    def authenticate(self, headers: Mapping[str, str], signer: str, wallet: str | None) -> None:
        """Check the relayer or builder API key headers of a submission."""
        lowered = {k.lower(): v for k, v in headers.items()}
        key, owner = lowered.get("relayer_api_key"), lowered.get("relayer_api_key_address")
        if key is not None or owner is not None:
            if not key or not owner or not is_hex_address(owner):
                raise RelayerError("invalid relayer api key", 401)
            if key != relayer_api_key(self.seed(), owner):
                raise RelayerError("invalid relayer api key", 401)
            if not same_address(owner, signer) and not (wallet and same_address(owner, wallet)):
                raise RelayerError("relayer api key does not belong to this signer", 401)
            return
        if all(lowered.get(h) for h in _BUILDER_HEADERS):
            return
        raise RelayerError("missing relayer api key", 401)

    def authenticated_owner(self, headers: Mapping[str, str]) -> str:
        """The address of a valid ``RELAYER_API_KEY`` pair (for listing transactions)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        key, owner = lowered.get("relayer_api_key"), lowered.get("relayer_api_key_address")
        if not key or not owner or not is_hex_address(owner):
            raise RelayerError("missing relayer api key", 401)
        if key != relayer_api_key(self.seed(), owner):
            raise RelayerError("invalid relayer api key", 401)
        return owner

    # -- submit ------------------------------------------------------------------------------

    def submit(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        tx_type = str(body.get("type", ""))
        signer = field_address(body, "from")
        wallet = body.get("proxyWallet")
        if tx_type in ("WALLET", "WALLET-CREATE"):
            wallet = derive_deposit_wallet(signer)
        self.authenticate(headers, signer, wallet if isinstance(wallet, str) else None)
        with self.lock:
            self.chain.advance()
            if tx_type == "PROXY":
                record = self._submit_proxy(body, signer)
            elif tx_type == "SAFE":
                record = self._submit_safe(body, signer)
            elif tx_type == "WALLET":
                record = self._submit_deposit_wallet(body, signer)
            elif tx_type == "WALLET-CREATE":
                record = self._create_deposit_wallet(body, signer)
            else:
                raise RelayerError(f"pm-sim: relayer transaction type {tx_type!r} is not emulated")
            self.records[record.transaction_id] = record
            self.deployed.add(record.wallet.lower())
            # As documented: the id and STATE_NEW, no hash (poll for it).
            return {"transactionID": record.transaction_id, "state": STATE_NEW}

    def _check_nonce(self, submitted: int, expected: int) -> None:
        if submitted != expected:
            raise RelayerError(
                f"batch nonce {submitted} does not match on-chain nonce {expected}", 400
            )

    def _new_id(self, signer: str, nonce: int, kind: str) -> str:
        material = f"pm-sim-relayer-tx:{kind}:{signer.lower()}:{nonce}:{len(self.records)}"
        return str(uuid.uuid5(uuid.NAMESPACE_URL, material))

    def _submit_proxy(self, body: Mapping[str, Any], signer: str) -> RelayedTx:
        wallet = field_address(body, "proxyWallet")
        if not same_address(wallet, derive_proxy_wallet(signer)):
            raise RelayerError("proxyWallet is not the proxy wallet of from")
        to = field_address(body, "to")
        if not same_address(to, PROXY_FACTORY):
            raise RelayerError("to must be the proxy wallet factory")
        params = body.get("signatureParams")
        if not isinstance(params, Mapping):
            raise RelayerError("invalid signatureParams")
        relay = field_address(params, "relay")
        hub = field_address(params, "relayHub")
        if not same_address(hub, RELAY_HUB) or not same_address(relay, RELAY_ADDRESS):
            raise RelayerError("invalid relay or relayHub")
        fee = field_uint(params.get("relayerFee"), "relayerFee")
        gas_price = field_uint(params.get("gasPrice"), "gasPrice")
        gas_limit = field_uint(params.get("gasLimit"), "gasLimit")
        nonce = field_uint(body.get("nonce"), "nonce")
        data = field_bytes(body.get("data"), "data")
        self._check_nonce(nonce, self.proxy_nonce(signer))
        message = (
            b"rlx:"
            + bytes.fromhex(signer[2:])
            + bytes.fromhex(to[2:])
            + data
            + fee.to_bytes(32, "big")
            + gas_price.to_bytes(32, "big")
            + gas_limit.to_bytes(32, "big")
            + nonce.to_bytes(32, "big")
            + bytes.fromhex(hub[2:])
            + bytes.fromhex(relay[2:])
        )
        signature = field_bytes(body.get("signature"), "signature")
        if not same_address(recover_personal(keccak(message), signature), signer):
            raise RelayerError("invalid signature")
        calls = proxy_calls(wallet, data)
        self.proxy_nonces[signer.lower()] = nonce + 1  # the relay hub counts it at once
        transaction_id = self._new_id(signer, nonce, "proxy")
        tx = self.chain.submit_relayed(calls, to=to, data=data, signer=signer, tag=transaction_id)
        return RelayedTx(
            transaction_id=transaction_id,
            tx_type="PROXY",
            signer=signer,
            wallet=wallet,
            to=to,
            data="0x" + data.hex(),
            nonce=nonce,
            signature="0x" + signature.hex(),
            metadata=str(body.get("metadata", "")),
            value="0",
            chain_tx=tx,
            created_at=self.chain.now(),
        )

    def _submit_safe(self, body: Mapping[str, Any], signer: str) -> RelayedTx:
        safe = field_address(body, "proxyWallet")
        if not same_address(safe, derive_safe_wallet(signer)):
            raise RelayerError("proxyWallet is not the Safe of from")
        to = field_address(body, "to")
        params = body.get("signatureParams")
        if not isinstance(params, Mapping):
            raise RelayerError("invalid signatureParams")
        operation = field_uint(params.get("operation"), "operation")
        for name in ("safeTxnGas", "baseGas", "gasPrice"):
            if field_uint(params.get(name, "0"), name) != 0:
                raise RelayerError(f"pm-sim: non-zero {name} is not emulated")
        value = field_uint(body.get("value", "0"), "value")
        nonce = field_uint(body.get("nonce"), "nonce")
        data = field_bytes(body.get("data"), "data")
        self._wallet_nonce_check(safe, nonce)
        digest = safe_tx_digest(safe, self.chain.chain_id, to, value, data, operation, nonce)
        signature = field_bytes(body.get("signature"), "signature")
        if not same_address(recover_safe_signer(digest, signature), signer):
            raise RelayerError("invalid signature")
        if operation == 0:
            calls = [WalletCall(safe, to, data, value)]
        elif operation == 1 and same_address(to, SAFE_MULTISEND):
            calls = multisend_calls(safe, data)
        else:
            raise RelayerError("invalid operation: delegatecall only to MultiSend")

        transaction_id = self._new_id(signer, nonce, "safe")
        tx = self.chain.submit_relayed(
            calls,
            to=safe,
            data=data,
            signer=signer,
            tag=transaction_id,
            on_mined=self._consume_on_success(safe, nonce),  # GS013: a revert keeps the nonce
        )
        return RelayedTx(
            transaction_id=transaction_id,
            tx_type="SAFE",
            signer=signer,
            wallet=safe,
            to=to,
            data="0x" + data.hex(),
            nonce=nonce,
            signature="0x" + signature.hex(),
            metadata=str(body.get("metadata", "")),
            value=str(value),
            chain_tx=tx,
            created_at=self.chain.now(),
        )

    def _wallet_nonce_check(self, wallet: str, nonce: int) -> None:
        """Safe and deposit-wallet rules: one action in flight, the current nonce."""
        if any(
            r.chain_tx.pending and same_address(r.wallet, wallet) for r in self.records.values()
        ):
            raise RelayerError("wallet has in-flight action")
        self._check_nonce(nonce, self.safe_nonce(wallet))

    def _consume_on_success(self, wallet: str, nonce: int) -> Callable[[ChainTx], None]:
        def consume(mined: ChainTx) -> None:
            if mined.status == 1:  # a reverted batch does not spend the wallet's nonce
                self.safe_nonces[wallet.lower()] = nonce + 1

        return consume

    def _submit_deposit_wallet(self, body: Mapping[str, Any], signer: str) -> RelayedTx:
        params = body.get("depositWalletParams")
        if not isinstance(params, Mapping):
            raise RelayerError("invalid depositWalletParams")
        wallet = field_address(params, "depositWallet")
        if not same_address(wallet, derive_deposit_wallet(signer)):
            raise RelayerError("depositWallet is not the deposit wallet of from")
        if not same_address(field_address(body, "to"), DEPOSIT_WALLET_FACTORY):
            raise RelayerError("to must be the deposit wallet factory")
        if not self.is_deployed(wallet):
            raise RelayerError("deposit wallet is not deployed")
        nonce = field_uint(body.get("nonce"), "nonce")
        deadline = field_uint(params.get("deadline"), "deadline")
        if deadline < int(self.chain.now()):
            raise RelayerError("deadline expired")
        raw_calls = params.get("calls")
        if not isinstance(raw_calls, list) or not raw_calls:
            raise RelayerError("invalid calls")
        calls = []
        for raw in raw_calls:
            if not isinstance(raw, Mapping):
                raise RelayerError("invalid calls")
            calls.append(
                WalletCall(
                    wallet,
                    field_address(raw, "target"),
                    field_bytes(raw.get("data"), "data"),
                    field_uint(raw.get("value", "0"), "value"),
                )
            )
        self._wallet_nonce_check(wallet, nonce)
        signature = field_bytes(body.get("signature"), "signature")
        digest_message = encode_typed_data(
            full_message=deposit_wallet_batch(wallet, self.chain.chain_id, nonce, deadline, calls)
        )
        try:
            recovered = str(Account.recover_message(digest_message, signature=signature))
        except Exception:
            raise RelayerError("invalid signature") from None
        if not same_address(recovered, signer):
            raise RelayerError("invalid signature")
        transaction_id = self._new_id(signer, nonce, "wallet")
        tx = self.chain.submit_relayed(
            calls,
            to=wallet,
            data=b"",
            signer=signer,
            tag=transaction_id,
            on_mined=self._consume_on_success(wallet, nonce),
        )
        return RelayedTx(
            transaction_id=transaction_id,
            tx_type="WALLET",
            signer=signer,
            wallet=wallet,
            to=DEPOSIT_WALLET_FACTORY,
            data="0x",
            nonce=nonce,
            signature="0x" + signature.hex(),
            metadata=str(body.get("metadata", "")),
            value="0",
            chain_tx=tx,
            created_at=self.chain.now(),
        )

    def _create_deposit_wallet(self, body: Mapping[str, Any], signer: str) -> RelayedTx:
        if not same_address(field_address(body, "to"), DEPOSIT_WALLET_FACTORY):
            raise RelayerError("to must be the deposit wallet factory")
        wallet = derive_deposit_wallet(signer)
        transaction_id = self._new_id(signer, 0, "wallet-create")

        def deployed(mined: ChainTx) -> None:
            if mined.status == 1:
                self.deployed.add(wallet.lower())

        tx = self.chain.submit_relayed(
            [],
            to=DEPOSIT_WALLET_FACTORY,
            data=b"",
            signer=signer,
            tag=transaction_id,
            on_mined=deployed,
        )
        return RelayedTx(
            transaction_id=transaction_id,
            tx_type="WALLET-CREATE",
            signer=signer,
            wallet=wallet,
            to=DEPOSIT_WALLET_FACTORY,
            data="0x",
            nonce=0,
            signature="",
            metadata=str(body.get("metadata", "")),
            value="0",
            chain_tx=tx,
            created_at=self.chain.now(),
        )
