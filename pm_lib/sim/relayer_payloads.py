"""Signed relayer payloads: decoding their calls and recovering who signed them.

The formats are those polymarket-client 0.14.0 builds (``_internal/actions/relayer/``):

- PROXY: the proxy factory's ``proxy((uint8,address,uint256,bytes)[])`` calls, signed with
  ``personal_sign`` over keccak(``"rlx:"`` ++ from ++ to ++ data ++ relayer fee ++ gas price ++
  gas limit ++ nonce ++ relay hub ++ relay), as the GSN relay hub checks it;
- SAFE: a Gnosis Safe ``SafeTx`` (EIP-712, domain = chain id and the Safe), signed plainly
  (v 27/28) or eth_sign style (v + 4, over the digest as a personal message); several calls go
  through MultiSend's packed ``multiSend(bytes)`` as a delegatecall;
- WALLET: a deposit wallet's EIP-712 ``Batch(address wallet,uint256 nonce,uint256 deadline,
  Call[] calls)`` with ``Call(address target,uint256 value,bytes data)``, domain
  "DepositWallet" version 1, verifying contract the wallet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.address import is_hex_address, to_checksum_address
from eth_utils.crypto import keccak

from pm_lib.sim.chain_calls import selector
from pm_lib.sim.chain_tx import WalletCall

__all__ = [
    "RelayerError",
    "deposit_wallet_batch",
    "field_address",
    "field_bytes",
    "field_uint",
    "multisend_calls",
    "proxy_calls",
    "recover_personal",
    "recover_safe_signer",
    "safe_tx_digest",
]

_PROXY_CALL = selector("proxy((uint8,address,uint256,bytes)[])")
_MULTISEND = selector("multiSend(bytes)")
_SAFE_TX_TYPEHASH = keccak(
    text="SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,"
    "uint256 baseGas,uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)"
)
_SAFE_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(uint256 chainId,address verifyingContract)")
_ZERO_ADDRESS = "0x" + "00" * 20


class RelayerError(Exception):
    """A refused relayer request: HTTP ``status`` and the ``{"error": message}`` body."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def field_address(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not is_hex_address(value):
        raise RelayerError(f"invalid {name}")
    return str(to_checksum_address(value))


def field_uint(value: Any, name: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise RelayerError(f"invalid {name}") from None
    if number < 0:
        raise RelayerError(f"invalid {name}")
    return number


def field_bytes(value: Any, name: str) -> bytes:
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


def recover_personal(message_hash: bytes, signature: bytes) -> str:
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
        return recover_personal(digest, signature[:64] + bytes([v - 4]))
    if v in (27, 28):
        return _recover(digest, signature)
    raise RelayerError("invalid signature")


def deposit_wallet_batch(
    wallet: str, chain_id: int, nonce: int, deadline: int, calls: list[WalletCall]
) -> dict[str, Any]:
    """The EIP-712 ``Batch`` a deposit wallet's owner signs (domain "DepositWallet" v1)."""
    return {
        "domain": {
            "name": "DepositWallet",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": wallet,
        },
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Batch": [
                {"name": "wallet", "type": "address"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
                {"name": "calls", "type": "Call[]"},
            ],
            "Call": [
                {"name": "target", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "data", "type": "bytes"},
            ],
        },
        "primaryType": "Batch",
        "message": {
            "wallet": wallet,
            "nonce": nonce,
            "deadline": deadline,
            "calls": [{"target": c.to, "value": c.value, "data": c.data} for c in calls],
        },
    }
