"""Wallets and API keys of the emulated venue.

Amounts are integer base units (pUSD and conditional tokens both have 6 decimals), as the
live ``/balance-allowance`` reports them (docs/VENUE.md 2.4). A wallet holds pUSD, one
allowance per spender contract for pUSD and for conditional tokens, and a position per token.

API keys are derived deterministically from ``(address, nonce)`` and the venue seed, so a
client that loses its credentials gets the same ones back from ``GET /auth/derive-api-key``,
as on the live venue. The shape follows the live one: a UUID-like key, a URL-safe base64
secret and a 64-hex passphrase (see py-clob-client issue #190 for a live example).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "COLLATERAL",
    "COLLATERAL_ADAPTER",
    "CONDITIONAL_TOKENS",
    "EXCHANGE_V2",
    "MAX_ALLOWANCE",
    "NEG_RISK_ADAPTER",
    "NEG_RISK_COLLATERAL_ADAPTER",
    "NEG_RISK_EXCHANGE_V2",
    "PUSD",
    "SETTLEMENT_SPENDERS",
    "SPENDERS",
    "Accounts",
    "ApiKey",
    "Wallet",
    "to_units",
    "units_to_decimal",
]

# Polygon addresses (docs/VENUE.md 1.2 and 3.4).
EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
NEG_RISK_ADAPTER = "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296"
PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"
CONDITIONAL_TOKENS = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"
SPENDERS = (EXCHANGE_V2, NEG_RISK_EXCHANGE_V2, NEG_RISK_ADAPTER)
# The collateral adapters the SDK's split/merge/redeem go through (Polymarket's
# "setup trading approvals" grants them pUSD allowance and CTF operator rights).
COLLATERAL_ADAPTER = "0xAdA100Db00Ca00073811820692005400218FcE1f"
NEG_RISK_COLLATERAL_ADAPTER = "0xadA2005600Dec949baf300f4C6120000bDB6eAab"
SETTLEMENT_SPENDERS = (COLLATERAL_ADAPTER, NEG_RISK_COLLATERAL_ADAPTER)
MAX_ALLOWANCE = 2**256 - 1  # what an "approve max" leaves on chain

COLLATERAL = "COLLATERAL"  # the asset key of pUSD in ledgers; tokens use their token id
UNIT = Decimal(1_000_000)


def to_units(amount: Decimal) -> int:
    """Decimal pUSD or shares -> integer base units (6 decimals); exact inputs only."""
    return int((amount * UNIT).to_integral_value())


def units_to_decimal(units: int) -> Decimal:
    """Integer base units -> Decimal pUSD or shares."""
    return Decimal(units) / UNIT


@dataclass
class Wallet:
    """One on-chain address as the venue sees it."""

    address: str
    pusd: int = 0
    pusd_allowances: dict[str, int] = field(default_factory=dict)  # spender -> units
    token_allowances: dict[str, int] = field(default_factory=dict)  # spender -> units
    positions: dict[str, int] = field(default_factory=dict)  # token id -> units

    def balance_of(self, asset: str) -> int:
        """Units of ``asset`` (``COLLATERAL`` or a token id) this wallet holds."""
        return self.pusd if asset == COLLATERAL else self.positions.get(asset, 0)

    def allowance_for(self, asset: str, spender: str) -> int:
        """Units of ``asset`` that ``spender`` may move."""
        book = self.pusd_allowances if asset == COLLATERAL else self.token_allowances
        return book.get(spender, 0)

    def credit(self, asset: str, units: int) -> None:
        """Add ``units`` (negative to debit) of ``asset``."""
        if asset == COLLATERAL:
            self.pusd += units
        else:
            self.positions[asset] = self.positions.get(asset, 0) + units

    def spend_allowance(self, asset: str, spender: str, units: int) -> None:
        """Consume allowance like ``transferFrom`` does; an unlimited approval never shrinks."""
        book = self.pusd_allowances if asset == COLLATERAL else self.token_allowances
        current = book.get(spender, 0)
        if current != MAX_ALLOWANCE:
            book[spender] = current - units


@dataclass(frozen=True)
class ApiKey:
    """L2 credentials bound to one address (the EOA that signed the L1 request)."""

    api_key: str
    secret: str
    passphrase: str
    address: str
    nonce: int

    def as_json(self) -> dict[str, str]:
        """The live ``/auth/api-key`` response body."""
        return {"apiKey": self.api_key, "secret": self.secret, "passphrase": self.passphrase}


class Accounts:
    """Every wallet and API key the venue knows. Callers hold the venue lock."""

    def __init__(self, seed: int, autofund: bool, autofund_pusd: Decimal) -> None:
        self.seed = seed
        self.autofund = autofund
        self.autofund_pusd = autofund_pusd
        self.wallets: dict[str, Wallet] = {}
        self.keys: dict[str, ApiKey] = {}  # api key -> record

    def wallet(self, address: str) -> Wallet:
        """The wallet at ``address``; first sight funds it when autofund is on."""
        key = address.lower()
        found = self.wallets.get(key)
        if found is None:
            found = Wallet(address=address)
            if self.autofund:
                self.fund(found, pusd=to_units(self.autofund_pusd), approve=True)
            self.wallets[key] = found
        return found

    def fund(
        self,
        wallet: Wallet,
        *,
        pusd: int = 0,
        approve: bool = False,
        tokens: dict[str, int] | None = None,
    ) -> None:
        """Credit pUSD and tokens; ``approve`` grants unlimited allowances to every spender
        (the exchanges, the neg-risk adapter and the collateral adapters)."""
        wallet.pusd += pusd
        for token, units in (tokens or {}).items():
            wallet.credit(token, units)
        if approve:
            for spender in SPENDERS + SETTLEMENT_SPENDERS:
                wallet.pusd_allowances[spender] = MAX_ALLOWANCE
                wallet.token_allowances[spender] = MAX_ALLOWANCE

    def derive_key(self, address: str, nonce: int) -> ApiKey:
        """The deterministic credentials of ``(address, nonce)`` (not registered)."""
        material = hashlib.sha256(f"pm-sim:{self.seed}:{address.lower()}:{nonce}".encode()).digest()
        secret_bytes = hashlib.sha256(b"secret" + material).digest()
        passphrase = hashlib.sha256(b"passphrase" + material).hexdigest()
        return ApiKey(
            api_key=str(uuid.UUID(bytes=material[:16])),
            secret=base64.urlsafe_b64encode(secret_bytes).decode(),
            passphrase=passphrase,
            address=address,
            nonce=nonce,
        )

    def create_key(self, address: str, nonce: int) -> ApiKey | None:
        """Register the key of ``(address, nonce)``; None when it already exists."""
        record = self.derive_key(address, nonce)
        if record.api_key in self.keys:
            return None
        self.keys[record.api_key] = record
        self.wallet(address)
        return record

    def existing_key(self, address: str, nonce: int) -> ApiKey | None:
        """The registered key of ``(address, nonce)``, if any."""
        return self.keys.get(self.derive_key(address, nonce).api_key)

    def keys_of(self, address: str) -> list[ApiKey]:
        """Every registered key of ``address``."""
        return [k for k in self.keys.values() if k.address.lower() == address.lower()]

    def delete_key(self, api_key: str) -> None:
        """Forget ``api_key``."""
        self.keys.pop(api_key, None)
