"""V2 signed orders: parse the POST /order body, hash it, check who signed it.

The struct and domain are those of docs/VENUE.md 3.4:

    domain = {name: "Polymarket CTF Exchange", version: "2", chainId,
              verifyingContract: neg-risk ? NEG_RISK_EXCHANGE_V2 : EXCHANGE_V2}
    Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,
          uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,
          bytes32 metadata,bytes32 builder)

The order hash (= the venue's ``orderID``) is the EIP-712 digest, as the SDK's
``build_order_hash`` computes it. ``expiration`` travels in the JSON but is not signed.

Signature types follow the V2 exchange's rules (docs/VENUE.md 3.4): EOA (0) needs
``signer == maker``; POLY_PROXY (1) and POLY_GNOSIS_SAFE (2) need the maker to be the signer's
wallet: its CREATE2 proxy or Safe address (``pm_lib.sim.chain_wallets``, as the exchange
derives it), or the wallet a configured EOA -> wallet map names; POLY_1271 (3) carries an
ERC-7739 wrapped signature whose inner ECDSA we check against the EOA that owns the deposit
wallet (its CREATE2 beacon-proxy address, or the map's) instead of calling ERC-1271.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_keys.exceptions import BadSignature
from eth_utils.crypto import keccak

from pm_lib.sim.accounts import EXCHANGE_V2, NEG_RISK_EXCHANGE_V2
from pm_lib.sim.chain_wallets import derive_deposit_wallet, wallet_of

__all__ = [
    "INVALID_SIGNATURE",
    "OrderPayload",
    "OrderRejected",
    "SignedOrder",
    "exchange_for",
    "order_hash",
    "parse_order_payload",
    "verify_order_signature",
]

INVALID_SIGNATURE = "invalid signature"
ORDER_VERSION_MISMATCH = "order_version_mismatch"

_ORDER_TYPE = (
    "Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,"
    "uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,"
    "bytes32 builder)"
)
_ORDER_TYPE_HASH = keccak(text=_ORDER_TYPE)
_DOMAIN_TYPE_HASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_TYPED_DATA_SIGN_HASH = keccak(
    text="TypedDataSign(Order contents,string name,string version,uint256 chainId,"
    "address verifyingContract,bytes32 salt)" + _ORDER_TYPE
)
_V1_ONLY_FIELDS = ("taker", "nonce", "feeRateBps")
_V2_FIELDS = (
    "salt",
    "maker",
    "signer",
    "tokenId",
    "makerAmount",
    "takerAmount",
    "side",
    "signatureType",
    "timestamp",
    "metadata",
    "builder",
    "signature",
)


class OrderRejected(Exception):
    """The venue refuses an order; ``message`` is the live error text, ``status`` the HTTP code."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class SignedOrder:
    """The ``order`` object of a V2 POST /order body, typed."""

    salt: int
    maker: str
    signer: str
    token_id: str
    maker_amount: int
    taker_amount: int
    side: str  # "BUY" | "SELL"
    signature_type: int
    timestamp_ms: int
    metadata: str
    builder: str
    signature: str
    expiration: int


@dataclass(frozen=True)
class OrderPayload:
    """One POST /order body: the signed order plus the unsigned instructions around it."""

    order: SignedOrder
    owner: str
    order_type: str
    post_only: bool
    defer_exec: bool


def exchange_for(neg_risk: bool) -> str:
    """The V2 exchange whose domain a market's orders are signed for."""
    return NEG_RISK_EXCHANGE_V2 if neg_risk else EXCHANGE_V2


def _bytes32(value: str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError("bytes32 field must be 32 bytes")
    return raw


def parse_order_payload(body: Mapping[str, Any]) -> OrderPayload:
    """Parse one POST /order body; V1-shaped orders get the live ``order_version_mismatch``."""
    raw = body.get("order")
    if not isinstance(raw, Mapping):
        raise OrderRejected("Invalid order payload")
    if any(f in raw for f in _V1_ONLY_FIELDS) or "timestamp" not in raw:
        raise OrderRejected(ORDER_VERSION_MISMATCH)
    missing = [f for f in _V2_FIELDS if f not in raw]
    if missing:
        raise OrderRejected(f"Invalid order payload: missing {', '.join(missing)}")
    try:
        side = str(raw["side"]).upper()
        if side not in ("BUY", "SELL"):
            raise ValueError("side")
        order = SignedOrder(
            salt=int(raw["salt"]),
            maker=str(raw["maker"]),
            signer=str(raw["signer"]),
            token_id=str(int(raw["tokenId"])),
            maker_amount=int(raw["makerAmount"]),
            taker_amount=int(raw["takerAmount"]),
            side=side,
            signature_type=int(raw["signatureType"]),
            timestamp_ms=int(raw["timestamp"]),
            metadata=str(raw["metadata"]),
            builder=str(raw["builder"]),
            signature=str(raw["signature"]),
            expiration=int(raw.get("expiration") or 0),
        )
        _bytes32(order.metadata)
        _bytes32(order.builder)
    except (ValueError, TypeError) as e:
        raise OrderRejected(f"Invalid order payload: {e}") from None
    if order.maker_amount <= 0 or order.taker_amount <= 0:
        raise OrderRejected("Invalid order payload: amounts must be positive")
    return OrderPayload(
        order=order,
        owner=str(body.get("owner", "")),
        order_type=str(body.get("orderType", "GTC")).upper(),
        post_only=bool(body.get("postOnly", False)),
        defer_exec=bool(body.get("deferExec", False)),
    )


def _domain_separator(exchange: str, chain_id: int) -> bytes:
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                _DOMAIN_TYPE_HASH,
                keccak(text="Polymarket CTF Exchange"),
                keccak(text="2"),
                chain_id,
                exchange,
            ],
        )
    )


def _struct_hash(order: SignedOrder) -> bytes:
    return keccak(
        abi_encode(
            [
                "bytes32",
                "uint256",
                "address",
                "address",
                "uint256",
                "uint256",
                "uint256",
                "uint8",
                "uint8",
                "uint256",
                "bytes32",
                "bytes32",
            ],
            [
                _ORDER_TYPE_HASH,
                order.salt,
                order.maker,
                order.signer,
                int(order.token_id),
                order.maker_amount,
                order.taker_amount,
                0 if order.side == "BUY" else 1,
                order.signature_type,
                order.timestamp_ms,
                _bytes32(order.metadata),
                _bytes32(order.builder),
            ],
        )
    )


def order_hash(order: SignedOrder, exchange: str, chain_id: int) -> str:
    """The EIP-712 digest of ``order`` in ``exchange``'s domain, 0x-hex: the venue order id."""
    digest = keccak(b"\x19\x01" + _domain_separator(exchange, chain_id) + _struct_hash(order))
    return "0x" + digest.hex()


def _recover(digest: bytes, signature: bytes) -> str:
    try:
        return str(Account._recover_hash(digest, signature=signature))
    except (ValueError, TypeError, BadSignature) as e:
        raise OrderRejected(INVALID_SIGNATURE) from e


def _recover_1271_owner(order: SignedOrder, exchange: str, chain_id: int, sig: bytes) -> str:
    """The EOA behind a POLY_1271 (ERC-7739 TypedDataSign) signature."""
    # inner ECDSA (65) | app domain separator (32) | contents hash (32) | type string | len (2)
    if len(sig) < 65 + 64 + 2:
        raise OrderRejected(INVALID_SIGNATURE)
    inner, app_domain, contents = sig[:65], sig[65:97], sig[97:129]
    type_len = int.from_bytes(sig[-2:], "big")
    contents_type = sig[129:-2]
    domain = _domain_separator(exchange, chain_id)
    if (
        app_domain != domain
        or contents != _struct_hash(order)
        or len(contents_type) != type_len
        or contents_type != _ORDER_TYPE.encode()
    ):
        raise OrderRejected(INVALID_SIGNATURE)
    wrapped = keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "bytes32", "uint256", "address", "bytes32"],
            [
                _TYPED_DATA_SIGN_HASH,
                contents,
                keccak(text="DepositWallet"),
                keccak(text="1"),
                chain_id,
                order.signer,
                bytes(32),
            ],
        )
    )
    return _recover(keccak(b"\x19\x01" + domain + wrapped), inner)


def verify_order_signature(
    order: SignedOrder, exchange: str, chain_id: int, wallets: Mapping[str, str]
) -> str:
    """Check ``order``'s signature for ``exchange``; return the EOA that controls it.

    ``wallets`` maps a lower-case EOA to the lower-case wallet it trades through.
    """
    try:
        sig = bytes.fromhex(order.signature.removeprefix("0x"))
    except (ValueError, binascii.Error):
        raise OrderRejected(INVALID_SIGNATURE) from None
    maker, signer = order.maker.lower(), order.signer.lower()
    if order.signature_type == 3:
        if signer != maker:
            raise OrderRejected(INVALID_SIGNATURE)
        owner = _recover_1271_owner(order, exchange, chain_id, sig)
        if wallets.get(owner.lower()) != maker and derive_deposit_wallet(owner).lower() != maker:
            raise OrderRejected(INVALID_SIGNATURE)
        return owner
    if order.signature_type not in (0, 1, 2):
        raise OrderRejected(INVALID_SIGNATURE)
    digest = bytes.fromhex(order_hash(order, exchange, chain_id)[2:])
    recovered = _recover(digest, sig)
    if recovered.lower() != signer:
        raise OrderRejected(INVALID_SIGNATURE)
    if order.signature_type == 0 and maker != signer:
        raise OrderRejected(INVALID_SIGNATURE)
    if order.signature_type in (1, 2) and wallets.get(signer) != maker:
        derived = wallet_of(signer, order.signature_type)
        if derived is None or derived.lower() != maker:
            raise OrderRejected(INVALID_SIGNATURE)
    return recovered
