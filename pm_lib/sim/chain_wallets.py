"""Contract addresses of the chain side and the CREATE2 addresses of Polymarket smart wallets.

Every address is the Polygon mainnet one (the SDK's production environment, Polymarket's
contract docs): the emulator's chain uses the same contracts, so the SDK derives the same
proxy and Safe addresses against it as against Polygon, and a wallet that trades on the
emulated CLOB is the one that settles through the emulated relayer.

Derivation (EIP-1014: ``address = keccak256(0xff ++ deployer ++ salt ++ keccak256(init_code))``):

- POLY_PROXY (signature type 1): the deployer is Polymarket's proxy-wallet factory, the salt is
  ``keccak256(signer)`` over the 20 packed address bytes, and the init code is the factory's
  fixed clone creation code with the factory and the proxy implementation spliced in;
- POLY_GNOSIS_SAFE (type 2): the deployer is Polymarket's Safe proxy factory, the salt is
  ``keccak256(abi.encode(signer))`` (the address left-padded to 32 bytes) and the init-code hash
  is the factory's published constant;
- deposit wallet (POLY_1271, type 3): the deployer is the deposit-wallet factory; the wallet is
  an ERC-1967 beacon proxy (Solady's ``LibClone`` layout) whose immutable arguments are
  ``abi.encode(factory, bytes32(signer))``; the salt is ``keccak256`` of those arguments.
"""

from __future__ import annotations

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from pm_lib.sim.accounts import (
    COLLATERAL_ADAPTER,
    CONDITIONAL_TOKENS,
    NEG_RISK_ADAPTER,
    NEG_RISK_COLLATERAL_ADAPTER,
    PUSD,
)

__all__ = [
    "COLLATERAL_ADAPTER",
    "CONDITIONAL_TOKENS",
    "DEPOSIT_WALLET_BEACON",
    "DEPOSIT_WALLET_FACTORY",
    "NEG_RISK_ADAPTER",
    "NEG_RISK_COLLATERAL_ADAPTER",
    "POSITION_MANAGER",
    "PROXY_FACTORY",
    "PUSD",
    "RELAY_HUB",
    "SAFE_FACTORY",
    "SAFE_MULTISEND",
    "derive_deposit_wallet",
    "derive_proxy_wallet",
    "derive_safe_wallet",
    "same_address",
    "wallet_of",
]

PROXY_FACTORY = "0xaB45c5A4B0c941a2F231C04C3f49182e1A254052"
PROXY_IMPLEMENTATION = "0x44e999d5c2F66Ef0861317f9A4805AC2e90aEB4f"
RELAY_HUB = "0xD216153c06E857cD7f72665E0aF1d7D82172F494"
SAFE_FACTORY = "0xaacFeEa03eb1561C4e67d661e40682Bd20E3541b"
SAFE_INIT_CODE_HASH = "2bce2127ff07fb632d16c8347c4ebf501f4841168bed00d9e6ef715ddb6fcecf"
SAFE_MULTISEND = "0xA238CBeb142c10Ef7Ad8442C6D1f9E89e07e7761"
DEPOSIT_WALLET_FACTORY = "0x00000000000Fb5C9ADea0298D729A0CB3823Cc07"
DEPOSIT_WALLET_BEACON = "0x7A18EDfe055488A3128f01F563e5B479D92ffc3a"
# Polymarket V2's ERC-1155 position manager: approvals only (its positions are not emulated).
POSITION_MANAGER = "0x006F54F7f9A22e0000CC2AB60031000000ae9fEF"

# The proxy factory's clone creation code, in three pieces around the two addresses it embeds
# (the factory, then the implementation), followed by two ABI words (offset 0x20, length 0).
_PROXY_CODE_HEAD = "3d3d606380380380913d393d73"
_PROXY_CODE_MIDDLE = "5af4602a57600080fd5b602d8060366000396000f3363d3d373d3d3d363d73"
_PROXY_CODE_TAIL = "5af43d82803e903d91602b57fd5bf352e831dd" + f"{0x20:064x}" + f"{0:064x}"


def _raw(address: str) -> bytes:
    data = bytes.fromhex(address.removeprefix("0x").removeprefix("0X"))
    if len(data) != 20:
        raise ValueError(f"not a 20-byte address: {address!r}")
    return data


def _create2(deployer: str, salt: bytes, init_code_hash: bytes) -> str:
    digest = keccak(b"\xff" + _raw(deployer) + salt + init_code_hash)
    return str(to_checksum_address(digest[-20:]))


def derive_proxy_wallet(signer: str) -> str:
    """The POLY_PROXY wallet of ``signer`` (checksummed)."""
    code = bytes.fromhex(
        _PROXY_CODE_HEAD
        + _raw(PROXY_FACTORY).hex()
        + _PROXY_CODE_MIDDLE
        + _raw(PROXY_IMPLEMENTATION).hex()
        + _PROXY_CODE_TAIL
    )
    return _create2(PROXY_FACTORY, keccak(_raw(signer)), keccak(code))


def derive_safe_wallet(signer: str) -> str:
    """The Polymarket Gnosis Safe of ``signer`` (checksummed)."""
    salt = keccak(_raw(signer).rjust(32, b"\x00"))
    return _create2(SAFE_FACTORY, salt, bytes.fromhex(SAFE_INIT_CODE_HASH))


# Solady's ERC-1967 beacon proxy with immutable args: a PUSH2 of the runtime length (0x52 +
# the argument bytes), the deploy stub, the beacon address, then the runtime code.
_BEACON_DEPLOY_STUB = "3d8160233d3973"
_BEACON_RUNTIME = (
    "60195155f3363d3d373d3d363d602036600436635c60da"
    "1b60e01b36527fa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaee59ff6c"
    "b3582b35133d50545afa5036515af43d6000803e604d573d6000fd5b3d6000f3"
)


def derive_deposit_wallet(signer: str) -> str:
    """The deposit wallet (beacon proxy) of ``signer`` (checksummed)."""
    args = bytes(12) + _raw(DEPOSIT_WALLET_FACTORY) + _raw(signer).rjust(32, b"\x00")
    code = (
        b"\x61"
        + (0x52 + len(args)).to_bytes(2, "big")
        + bytes.fromhex(_BEACON_DEPLOY_STUB)
        + _raw(DEPOSIT_WALLET_BEACON)
        + bytes.fromhex(_BEACON_RUNTIME)
        + args
    )
    return _create2(DEPOSIT_WALLET_FACTORY, keccak(args), keccak(code))


def wallet_of(signer: str, signature_type: int) -> str | None:
    """The smart wallet ``signer`` controls with ``signature_type`` (1 proxy, 2 Safe,
    3 deposit wallet); None for an EOA (0)."""
    if signature_type == 1:
        return derive_proxy_wallet(signer)
    if signature_type == 2:
        return derive_safe_wallet(signer)
    if signature_type == 3:
        return derive_deposit_wallet(signer)
    return None


def same_address(a: str, b: str) -> bool:
    """Whether two hex addresses are equal, ignoring checksum case."""
    return a.lower() == b.lower()
