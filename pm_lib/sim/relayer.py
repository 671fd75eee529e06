"""Polymarket's relayer, emulated: gasless transactions for proxy and Safe wallets.

What the SDK (polymarket-client 0.14.0, ``_internal/actions/relayer``) calls, and so what is
served under ``/relayer``:

- ``GET /deployed?address=&type=``: ``{"deployed": bool}``; a smart wallet is deployed once
  the emulator has seen it (funded, traded, or registered through ``POST /_sim/chain/wallets``);
- ``GET /relay-payload?address=<signer>&type=PROXY``: the relay address and the signer's
  proxy nonce, ``{"address": "0x...", "nonce": "N"}``;
- ``GET /v1/account/transactions/params?address=<signer>&type=SAFE``: the Safe's nonce;
- ``POST /submit``: a signed ``PROXY`` or ``SAFE`` transaction; answered
  ``{"transactionID", "transactionHash", "state": "STATE_NEW"}``;
- ``GET /v1/account/transactions/{id}``: ``{"transaction_id", "transaction_hash", "state",
  "error_msg", ...}``; states go ``STATE_NEW`` -> ``STATE_EXECUTED`` (sent, not mined) ->
  ``STATE_MINED`` -> ``STATE_CONFIRMED``, or ``STATE_FAILED`` when the transaction reverts;
- ``GET /transactions`` (with the relayer API key): the key owner's transactions, newest
  first, for finding a submission whose answer was lost; ``GET /transaction?id=`` (list form)
  and ``GET /nonce?address=&type=``.

Checked on submit: the relayer API key headers (``RELAYER_API_KEY`` and
``RELAYER_API_KEY_ADDRESS``, the key bound to the signer or its wallet; or the four
``POLY_BUILDER_*`` headers of a builder key, present), the wallet is the signer's CREATE2
wallet, the nonce is the current one (else ``batch nonce N does not match on-chain nonce M``),
the signature recovers the signer (proxy: ``personal_sign`` of the ``rlx:`` relay hash; Safe:
the EIP-712 ``SafeTx`` digest, eth_sign-packed with v + 4 or plain), the relay hub and relay
address, and the Safe operation (a delegatecall only to MultiSend). The calls then run as the
wallet on the emulated chain (``pm_lib.sim.chain_tx``), all or nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.address import is_hex_address, to_checksum_address
from eth_utils.crypto import keccak

from pm_lib.sim.chain_calls import selector
from pm_lib.sim.chain_tx import RELAY_ADDRESS, Chain, ChainTx, WalletCall
from pm_lib.sim.chain_wallets import (
    PROXY_FACTORY,
    RELAY_HUB,
    SAFE_MULTISEND,
    derive_proxy_wallet,
    derive_safe_wallet,
    same_address,
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
_PROXY_CALL = selector("proxy((uint8,address,uint256,bytes)[])")
_MULTISEND = selector("multiSend(bytes)")
_SAFE_TX_TYPEHASH = keccak(
    text="SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,"
    "uint256 baseGas,uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)"
)
_SAFE_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(uint256 chainId,address verifyingContract)")
_ZERO_ADDRESS = "0x" + "00" * 20
_BUILDER_HEADERS = (
    "poly_builder_api_key",
    "poly_builder_passphrase",
    "poly_builder_signature",
    "poly_builder_timestamp",
)


class RelayerError(Exception):
    """A refused relayer request: HTTP ``status`` and the ``{"error": message}`` body."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


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


def _address(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not is_hex_address(value):
        raise RelayerError(f"invalid {name}")
    return str(to_checksum_address(value))


def _uint(value: Any, name: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise RelayerError(f"invalid {name}") from None
    if number < 0:
        raise RelayerError(f"invalid {name}")
    return number


def _bytes(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise RelayerError(f"invalid {name}")
    try:
        return bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise RelayerError(f"invalid {name}") from None


def _recover(digest: bytes, signature: bytes) -> str:
    try:
        return str(Account._recover_hash(digest, signature=signature))
    except Exception:
        raise RelayerError("invalid signature") from None


def _recover_personal(message_hash: bytes, signature: bytes) -> str:
    try:
        signable = encode_defunct(primitive=message_hash)
        return str(Account.recover_message(signable, signature=signature))
    except Exception:
        raise RelayerError("invalid signature") from None


def proxy_calls(wallet: str, data: bytes) -> list[WalletCall]:
    """The calls a proxy-factory ``proxy(...)`` payload makes, run as ``wallet``."""
    if data[:4] != _PROXY_CALL:
        raise RelayerError("invalid data: not a proxy((uint8,address,uint256,bytes)[]) call")
    try:
        (entries,) = abi_decode(["(uint8,address,uint256,bytes)[]"], data[4:])
    except Exception:
        raise RelayerError("invalid data") from None
    calls = []
    for type_code, to, value, inner in entries:
        if type_code != 1:
            raise RelayerError(f"pm-sim: proxy call type {type_code} is not emulated (only CALL)")
        calls.append(WalletCall(wallet, str(to), bytes(inner), int(value)))
    if not calls:
        raise RelayerError("invalid data: no calls")
    return calls


def multisend_calls(wallet: str, data: bytes) -> list[WalletCall]:
    """The calls a Safe MultiSend ``multiSend(bytes)`` payload makes, run as ``wallet``."""
    if data[:4] != _MULTISEND:
        raise RelayerError("invalid data: a delegatecall must be multiSend(bytes)")
    try:
        (packed,) = abi_decode(["bytes"], data[4:])
    except Exception:
        raise RelayerError("invalid data") from None
    calls, at = [], 0
    while at < len(packed):
        if len(packed) - at < 85:
            raise RelayerError("invalid data: truncated multiSend entry")
        operation = packed[at]
        to = to_checksum_address(packed[at + 1 : at + 21])
        value = int.from_bytes(packed[at + 21 : at + 53], "big")
        length = int.from_bytes(packed[at + 53 : at + 85], "big")
        inner = bytes(packed[at + 85 : at + 85 + length])
        if operation != 0 or len(inner) != length:
            raise RelayerError("invalid data: multiSend entries must be plain calls")
        calls.append(WalletCall(wallet, str(to), inner, value))
        at += 85 + length
    if not calls:
        raise RelayerError("invalid data: no calls")
    return calls


def safe_tx_digest(
    safe: str, chain_id: int, to: str, value: int, data: bytes, operation: int, nonce: int
) -> bytes:
    """The EIP-712 digest a Safe owner signs (zero gas parameters, no refund)."""
    domain = keccak(
        abi_encode(["bytes32", "uint256", "address"], [_SAFE_DOMAIN_TYPEHASH, chain_id, safe])
    )
    struct = keccak(
        abi_encode(
            [
                "bytes32",
                "address",
                "uint256",
                "bytes32",
                "uint8",
                "uint256",
                "uint256",
                "uint256",
                "address",
                "address",
                "uint256",
            ],
            [
                _SAFE_TX_TYPEHASH,
                to,
                value,
                keccak(data),
                operation,
                0,
                0,
                0,
                _ZERO_ADDRESS,
                _ZERO_ADDRESS,
                nonce,
            ],
        )
    )
    return keccak(b"\x19\x01" + domain + struct)


def recover_safe_signer(digest: bytes, signature: bytes) -> str:
    """The owner behind a Safe signature: v 31/32 is eth_sign of the digest, 27/28 plain."""
    if len(signature) != 65:
        raise RelayerError("invalid signature")
    v = signature[64]
    if v in (31, 32):
        return _recover_personal(digest, signature[:64] + bytes([v - 4]))
    if v in (27, 28):
        return _recover(digest, signature)
    raise RelayerError("invalid signature")


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
            self.safe_nonces: dict[str, int] = {}  # Safe -> nonce
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
        if tx_type != "SAFE":
            raise RelayerError(f"pm-sim: transaction params for type {tx_type} are not emulated")
        safe = derive_safe_wallet(signer)
        with self.lock:
            return {"address": safe, "nonce": str(self.safe_nonce(safe))}

    def nonce(self, signer: str, tx_type: str) -> dict[str, str]:
        with self.lock:
            if tx_type == "SAFE":
                return {"nonce": str(self.safe_nonce(derive_safe_wallet(signer)))}
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
        state, error = self.state(record)
        tx = record.chain_tx
        return {
            "transaction_id": record.transaction_id,
            "transaction_hash": tx.tx_hash,
            "from": record.signer,
            "to": record.to,
            "proxy_address": record.wallet,
            "data": record.data,
            "nonce": str(record.nonce),
            "value": record.value,
            "signature": record.signature,
            "state": state,
            "type": record.tx_type,
            "owner": record.signer,
            "metadata": record.metadata,
            "error_msg": error,
            "block_number": tx.block_number,
            "created_at": record.created_at,
        }

    def lookup(self, transaction_id: str) -> dict[str, Any]:
        with self.lock:
            self.chain.advance()
            record = self.records.get(transaction_id)
            if record is None:
                raise RelayerError("transaction not found", 404)
            return self.as_json(record)

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
        signer = _address(body, "from")
        wallet = body.get("proxyWallet")
        self.authenticate(headers, signer, wallet if isinstance(wallet, str) else None)
        with self.lock:
            self.chain.advance()
            if tx_type == "PROXY":
                record = self._submit_proxy(body, signer)
            elif tx_type == "SAFE":
                record = self._submit_safe(body, signer)
            else:
                raise RelayerError(f"pm-sim: relayer transaction type {tx_type!r} is not emulated")
            self.records[record.transaction_id] = record
            self.deployed.add(record.wallet.lower())
            return {
                "transactionID": record.transaction_id,
                "transactionHash": record.chain_tx.tx_hash,
                "state": STATE_NEW,
            }

    def _check_nonce(self, submitted: int, expected: int) -> None:
        if submitted != expected:
            raise RelayerError(
                f"batch nonce {submitted} does not match on-chain nonce {expected}", 400
            )

    def _new_id(self, signer: str, nonce: int, kind: str) -> str:
        material = f"pm-sim-relayer-tx:{kind}:{signer.lower()}:{nonce}:{len(self.records)}"
        return str(uuid.uuid5(uuid.NAMESPACE_URL, material))

    def _submit_proxy(self, body: Mapping[str, Any], signer: str) -> RelayedTx:
        wallet = _address(body, "proxyWallet")
        if not same_address(wallet, derive_proxy_wallet(signer)):
            raise RelayerError("proxyWallet is not the proxy wallet of from")
        to = _address(body, "to")
        if not same_address(to, PROXY_FACTORY):
            raise RelayerError("to must be the proxy wallet factory")
        params = body.get("signatureParams")
        if not isinstance(params, Mapping):
            raise RelayerError("invalid signatureParams")
        relay = _address(params, "relay")
        hub = _address(params, "relayHub")
        if not same_address(hub, RELAY_HUB) or not same_address(relay, RELAY_ADDRESS):
            raise RelayerError("invalid relay or relayHub")
        fee = _uint(params.get("relayerFee"), "relayerFee")
        gas_price = _uint(params.get("gasPrice"), "gasPrice")
        gas_limit = _uint(params.get("gasLimit"), "gasLimit")
        nonce = _uint(body.get("nonce"), "nonce")
        data = _bytes(body.get("data"), "data")
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
        signature = _bytes(body.get("signature"), "signature")
        if not same_address(_recover_personal(keccak(message), signature), signer):
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
        safe = _address(body, "proxyWallet")
        if not same_address(safe, derive_safe_wallet(signer)):
            raise RelayerError("proxyWallet is not the Safe of from")
        to = _address(body, "to")
        params = body.get("signatureParams")
        if not isinstance(params, Mapping):
            raise RelayerError("invalid signatureParams")
        operation = _uint(params.get("operation"), "operation")
        for name in ("safeTxnGas", "baseGas", "gasPrice"):
            if _uint(params.get(name, "0"), name) != 0:
                raise RelayerError(f"pm-sim: non-zero {name} is not emulated")
        value = _uint(body.get("value", "0"), "value")
        nonce = _uint(body.get("nonce"), "nonce")
        data = _bytes(body.get("data"), "data")
        if any(r.chain_tx.pending and same_address(r.wallet, safe) for r in self.records.values()):
            raise RelayerError("wallet has in-flight action")
        self._check_nonce(nonce, self.safe_nonce(safe))
        digest = safe_tx_digest(safe, self.chain.chain_id, to, value, data, operation, nonce)
        signature = _bytes(body.get("signature"), "signature")
        if not same_address(recover_safe_signer(digest, signature), signer):
            raise RelayerError("invalid signature")
        if operation == 0:
            calls = [WalletCall(safe, to, data, value)]
        elif operation == 1 and same_address(to, SAFE_MULTISEND):
            calls = multisend_calls(safe, data)
        else:
            raise RelayerError("invalid operation: delegatecall only to MultiSend")

        def consume_nonce(mined: ChainTx) -> None:
            if mined.status == 1:  # a reverted execTransaction does not spend the Safe nonce
                self.safe_nonces[safe.lower()] = nonce + 1

        transaction_id = self._new_id(signer, nonce, "safe")
        tx = self.chain.submit_relayed(
            calls, to=safe, data=data, signer=signer, tag=transaction_id, on_mined=consume_nonce
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
