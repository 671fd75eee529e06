"""L1 (private key) and L2 (API key) authentication, verified as the live CLOB does.

L1 (docs/VENUE.md 3.1): ``POLY_ADDRESS``, ``POLY_SIGNATURE``, ``POLY_TIMESTAMP``, ``POLY_NONCE``;
the signature is EIP-712 over ``ClobAuth(address address,string timestamp,uint256 nonce,string
message)`` in the domain ``ClobAuthDomain`` version "1" with a chain id and no verifying
contract, and must recover to ``POLY_ADDRESS``.

L2 (docs/VENUE.md 3.2): ``POLY_ADDRESS``, ``POLY_SIGNATURE``, ``POLY_TIMESTAMP``,
``POLY_API_KEY``, ``POLY_PASSPHRASE``; the signature is the URL-safe base64 HMAC-SHA256, keyed
with the URL-safe-base64-decoded secret, of ``timestamp + METHOD + path + body``, where the path
has no query string and the body is the bytes as sent.

Both reject a timestamp further than ``window_seconds`` from the venue clock. Failures raise
``AuthError`` carrying the live status and text (401 ``Invalid L1 Request headers`` and 401
``Unauthorized/Invalid api key``, see py-clob-client issues #175/#187) and, for debugging, the
precise reason (served in the ``X-Sim-Reason`` header, never in the body).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_keys.exceptions import BadSignature
from eth_utils.crypto import keccak

from pm_lib.sim.accounts import Accounts, ApiKey

__all__ = [
    "CLOB_AUTH_MESSAGE",
    "L1_ERROR",
    "L2_ERROR",
    "AuthError",
    "clob_auth_digest",
    "hmac_signature",
    "verify_l1",
    "verify_l2",
]

CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"
L1_ERROR = "Invalid L1 Request headers"
L2_ERROR = "Unauthorized/Invalid api key"

_DOMAIN_TYPE_HASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId)")
_CLOB_AUTH_TYPE_HASH = keccak(
    text="ClobAuth(address address,string timestamp,uint256 nonce,string message)"
)


class AuthError(Exception):
    """A request failed authentication; ``message`` is the live error text."""

    def __init__(self, message: str, reason: str, status: int = 401) -> None:
        super().__init__(f"{message} ({reason})")
        self.message = message
        self.reason = reason
        self.status = status


def clob_auth_digest(address: str, timestamp: str, nonce: int, chain_id: int) -> bytes:
    """The EIP-712 digest an L1 header signature signs."""
    domain = keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256"],
            [_DOMAIN_TYPE_HASH, keccak(text="ClobAuthDomain"), keccak(text="1"), chain_id],
        )
    )
    struct = keccak(
        abi_encode(
            ["bytes32", "address", "bytes32", "uint256", "bytes32"],
            [
                _CLOB_AUTH_TYPE_HASH,
                address,
                keccak(text=timestamp),
                nonce,
                keccak(text=CLOB_AUTH_MESSAGE),
            ],
        )
    )
    return keccak(b"\x19\x01" + domain + struct)


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str) -> str:
    """The L2 ``POLY_SIGNATURE`` for one request."""
    key = base64.urlsafe_b64decode(secret)
    digest = hmac.new(key, f"{timestamp}{method}{path}{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _header(headers: Mapping[str, str], name: str, error: str) -> str:
    value = headers.get(name)
    if not value:
        raise AuthError(error, f"missing {name}")
    return value


def _check_timestamp(raw: str, now: float, window_seconds: float, error: str) -> None:
    try:
        ts = int(raw)
    except ValueError:
        raise AuthError(error, "POLY_TIMESTAMP is not an integer") from None
    if abs(now - ts) > window_seconds:
        raise AuthError(error, f"stale POLY_TIMESTAMP {ts} (venue clock {int(now)})")


def verify_l1(
    headers: Mapping[str, str], *, chain_id: int, now: float, window_seconds: float
) -> tuple[str, int]:
    """Check L1 headers; return (checksummed address, nonce)."""
    address = _header(headers, "POLY_ADDRESS", L1_ERROR)
    signature = _header(headers, "POLY_SIGNATURE", L1_ERROR)
    timestamp = _header(headers, "POLY_TIMESTAMP", L1_ERROR)
    try:
        nonce = int(headers.get("POLY_NONCE") or "0")
        digest = clob_auth_digest(address, timestamp, nonce, chain_id)
        recovered = Account._recover_hash(digest, signature=bytes.fromhex(signature[2:]))
    except (ValueError, TypeError, binascii.Error, BadSignature) as e:
        raise AuthError(L1_ERROR, f"unreadable L1 headers: {e}") from None
    if recovered.lower() != address.lower():
        raise AuthError(L1_ERROR, f"ClobAuth signature recovers to {recovered}, not {address}")
    _check_timestamp(timestamp, now, window_seconds, L1_ERROR)
    return recovered, nonce


def verify_l2(
    headers: Mapping[str, str],
    *,
    method: str,
    path: str,
    body: bytes,
    accounts: Accounts,
    now: float,
    window_seconds: float,
) -> ApiKey:
    """Check L2 headers against the registered key; return that key."""
    address = _header(headers, "POLY_ADDRESS", L2_ERROR)
    signature = _header(headers, "POLY_SIGNATURE", L2_ERROR)
    timestamp = _header(headers, "POLY_TIMESTAMP", L2_ERROR)
    api_key = _header(headers, "POLY_API_KEY", L2_ERROR)
    passphrase = _header(headers, "POLY_PASSPHRASE", L2_ERROR)
    record = accounts.keys.get(api_key)
    if record is None:
        raise AuthError(L2_ERROR, "unknown POLY_API_KEY")
    if not hmac.compare_digest(record.passphrase, passphrase):
        raise AuthError(L2_ERROR, "wrong POLY_PASSPHRASE")
    if record.address.lower() != address.lower():
        raise AuthError(L2_ERROR, "POLY_ADDRESS is not the address of the API key")
    _check_timestamp(timestamp, now, window_seconds, L2_ERROR)
    text = body.decode("utf-8", errors="replace")
    # The SDKs sign str(body).replace("'", '"') but send the body unchanged (a V1 leftover,
    # py_clob_client_v2/signing/hmac.py), so a body holding a quote needs the second form.
    candidates = {text, text.replace("'", '"')}
    expected = [hmac_signature(record.secret, timestamp, method, path, c) for c in candidates]
    if not any(hmac.compare_digest(e, signature) for e in expected):
        raise AuthError(L2_ERROR, f"HMAC mismatch for {method} {path}")
    return record
