"""Live-trading credentials: loaded, validated and kept secret.

Sources, in the order ``load_credentials`` tries them:

1. the environment: ``POLYMARKET_PRIVATE_KEY`` (``0x`` + 64 hex), ``POLYMARKET_API_KEY``,
   ``POLYMARKET_SECRET``, ``POLYMARKET_PASSPHRASE`` (all three or none: when absent they are
   derived from the key through L1 ``create_or_derive_api_key``, see
   ``pm_lib.venue.trading.derive_api_credentials``), ``POLYMARKET_FUNDER`` (the address holding
   the funds; required for signature types 1-3) and ``POLYMARKET_SIGNATURE_TYPE`` (0 EOA,
   1 POLY_PROXY, 2 POLY_GNOSIS_SAFE, 3 POLY_1271 deposit wallet; default 0);
   ``POLYMARKET_RELAYER_API_KEY`` and ``POLYMARKET_RELAYER_API_KEY_ADDRESS`` (both or none:
   the relayer API key and the address it was issued to; live merge/redeem from a proxy, Safe
   or deposit wallet goes through the relayer and needs it, ``pm_lib.venue.chain``);
2. a Prefect ``Secret`` block holding the same names as one JSON object
   (``credentials_from_secret_block``).

Secrets are ``SecretStr`` and print as ``**********``. Validation messages name the variable and
the rule it broke, never the value; exceptions are raised ``from None`` so no chained pydantic or
eth-account error carries the value either. Nothing here logs.

A value with a control character (a newline, a tab, ...) is refused: the HTTP library would
refuse it as a header value and quote it in its error. Every credential value read here (refused
ones included) or built (derived API credentials) is remembered by ``pm_lib.redaction``, which
masks it in SDK/HTTP errors and in every log record of the process.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

from eth_account import Account
from pydantic import BaseModel, ConfigDict, SecretStr

from pm_lib.errors import ConfigurationError
from pm_lib.redaction import has_control_character, remember

__all__ = [
    "API_CREDENTIAL_VARIABLES",
    "CREDENTIAL_VARIABLES",
    "RELAYER_VARIABLES",
    "SIGNATURE_TYPE_NAMES",
    "ApiCredentials",
    "Credentials",
    "credentials_from_mapping",
    "credentials_from_secret_block",
    "load_credentials",
]

PRIVATE_KEY = "POLYMARKET_PRIVATE_KEY"
API_KEY = "POLYMARKET_API_KEY"
SECRET = "POLYMARKET_SECRET"
PASSPHRASE = "POLYMARKET_PASSPHRASE"
FUNDER = "POLYMARKET_FUNDER"
SIGNATURE_TYPE = "POLYMARKET_SIGNATURE_TYPE"
RELAYER_API_KEY = "POLYMARKET_RELAYER_API_KEY"
RELAYER_API_KEY_ADDRESS = "POLYMARKET_RELAYER_API_KEY_ADDRESS"

API_CREDENTIAL_VARIABLES = (API_KEY, SECRET, PASSPHRASE)
RELAYER_VARIABLES = (RELAYER_API_KEY, RELAYER_API_KEY_ADDRESS)
CREDENTIAL_VARIABLES = (
    PRIVATE_KEY,
    *API_CREDENTIAL_VARIABLES,
    FUNDER,
    SIGNATURE_TYPE,
    *RELAYER_VARIABLES,
)

SIGNATURE_TYPE_NAMES = {0: "EOA", 1: "POLY_PROXY", 2: "POLY_GNOSIS_SAFE", 3: "POLY_1271"}

_PRIVATE_KEY_RE = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS_RE = re.compile(r"0x[0-9a-fA-F]{40}")


class ApiCredentials(BaseModel):
    """The CLOB L2 API credentials (key, HMAC secret, passphrase)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: SecretStr
    secret: SecretStr
    passphrase: SecretStr

    def model_post_init(self, context: Any, /) -> None:
        remember(s.get_secret_value() for s in (self.api_key, self.secret, self.passphrase))

    def __str__(self) -> str:
        return "ApiCredentials(api_key=**********, secret=**********, passphrase=**********)"

    __repr__ = __str__


class Credentials(BaseModel):
    """Everything live trading needs to sign and authenticate. Prints without secrets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    private_key: SecretStr
    api: ApiCredentials | None = None
    funder: str | None = None
    signature_type: int = 0
    relayer_api_key: SecretStr | None = None
    relayer_api_key_address: str | None = None

    def model_post_init(self, context: Any, /) -> None:
        remember([self.private_key.get_secret_value()])
        if self.relayer_api_key is not None:
            remember([self.relayer_api_key.get_secret_value()])

    @property
    def address(self) -> str:
        """The signer (EOA) address derived from the private key."""
        return str(Account.from_key(self.private_key.get_secret_value()).address)

    @property
    def funds_address(self) -> str:
        """The address holding pUSD: the funder when set, else the signer (as the SDK does)."""
        return self.funder or self.address

    def with_api(self, api: ApiCredentials) -> Credentials:
        """A copy with (derived) API credentials filled in."""
        return self.model_copy(update={"api": api})

    def __str__(self) -> str:
        return (
            f"Credentials(address={self.address}, funder={self.funder}, "
            f"signature_type={self.signature_type}, private_key=**********, "
            f"api={'set' if self.api else 'to derive'}, "
            f"relayer_api_key={'**********' if self.relayer_api_key else 'none'})"
        )

    __repr__ = __str__


def _text(source: Mapping[str, Any], name: str) -> str | None:
    value = source.get(name)
    if value is None:
        return None
    text = str(value).strip()
    if has_control_character(text):
        raise ConfigurationError(
            f"{name} contains a control character (a newline, tab or similar): "
            "set it to the one-line value alone"
        )
    return text or None


def _private_key(source: Mapping[str, Any]) -> SecretStr:
    key = _text(source, PRIVATE_KEY)
    if key is None:
        raise ConfigurationError(f"{PRIVATE_KEY} is not set")
    if not key.startswith("0x"):
        key = "0x" + key
    if not _PRIVATE_KEY_RE.fullmatch(key):
        raise ConfigurationError(f"{PRIVATE_KEY} is malformed: expected 0x followed by 64 hex")
    try:
        Account.from_key(key)
    except Exception:  # eth-account messages may quote the key; say only what is wrong.
        raise ConfigurationError(f"{PRIVATE_KEY} is not a valid secp256k1 key") from None
    return SecretStr(key)


def _api_credentials(source: Mapping[str, Any]) -> ApiCredentials | None:
    values = {name: _text(source, name) for name in API_CREDENTIAL_VARIABLES}
    present = [name for name, value in values.items() if value is not None]
    if not present:
        return None
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise ConfigurationError(
            f"{', '.join(missing)} not set while {', '.join(present)} is: "
            "give all three API credentials or none (then they are derived from the key)"
        )
    return ApiCredentials(
        api_key=SecretStr(values[API_KEY] or ""),
        secret=SecretStr(values[SECRET] or ""),
        passphrase=SecretStr(values[PASSPHRASE] or ""),
    )


def _signature_type(source: Mapping[str, Any]) -> int:
    text = _text(source, SIGNATURE_TYPE)
    if text is None:
        return 0
    if text not in {"0", "1", "2", "3"}:
        raise ConfigurationError(
            f"{SIGNATURE_TYPE} must be 0 (EOA), 1 (POLY_PROXY), 2 (POLY_GNOSIS_SAFE) "
            "or 3 (POLY_1271)"
        )
    return int(text)


def _funder(source: Mapping[str, Any], signature_type: int) -> str | None:
    funder = _text(source, FUNDER)
    if funder is None:
        if signature_type != 0:
            raise ConfigurationError(
                f"{FUNDER} is required for {SIGNATURE_TYPE}={signature_type} "
                f"({SIGNATURE_TYPE_NAMES[signature_type]}): it is the wallet holding the funds"
            )
        return None
    if not _ADDRESS_RE.fullmatch(funder):
        raise ConfigurationError(f"{FUNDER} is malformed: expected 0x followed by 40 hex")
    return funder


def _relayer_key(source: Mapping[str, Any]) -> tuple[SecretStr | None, str | None]:
    key, address = _text(source, RELAYER_API_KEY), _text(source, RELAYER_API_KEY_ADDRESS)
    if key is None and address is None:
        return None, None
    if key is None or address is None:
        missing = RELAYER_API_KEY if key is None else RELAYER_API_KEY_ADDRESS
        present = RELAYER_API_KEY_ADDRESS if key is None else RELAYER_API_KEY
        raise ConfigurationError(
            f"{missing} not set while {present} is: give the relayer API key and its address "
            "together, or neither"
        )
    if not _ADDRESS_RE.fullmatch(address):
        raise ConfigurationError(
            f"{RELAYER_API_KEY_ADDRESS} is malformed: expected 0x followed by 40 hex"
        )
    return SecretStr(key), address


def credentials_from_mapping(source: Mapping[str, Any]) -> Credentials:
    """Validate credentials from a mapping of the ``POLYMARKET_*`` names.

    Raises ``ConfigurationError`` naming the variable and the rule, never the value.
    """
    remember(
        str(source.get(name) or "")
        for name in (PRIVATE_KEY, *API_CREDENTIAL_VARIABLES, RELAYER_API_KEY)
    )
    private_key = _private_key(source)
    signature_type = _signature_type(source)
    relayer_key, relayer_address = _relayer_key(source)
    return Credentials(
        private_key=private_key,
        api=_api_credentials(source),
        funder=_funder(source, signature_type),
        signature_type=signature_type,
        relayer_api_key=relayer_key,
        relayer_api_key_address=relayer_address,
    )


def load_credentials(environ: Mapping[str, str] | None = None) -> Credentials:
    """Credentials from the environment (``os.environ`` unless ``environ`` is given)."""
    return credentials_from_mapping(os.environ if environ is None else environ)


def credentials_from_secret_block(block_name: str) -> Credentials:
    """Credentials from a Prefect ``Secret`` block whose value is a JSON object of the names.

    The block value is read here and never returned, logged or passed as a flow parameter.
    """
    from prefect.blocks.system import Secret  # slow import; only live runs that use a block

    try:
        # _sync: read the block synchronously even when called from an async flow.
        block: Any = Secret.load(block_name, _sync=True)  # type: ignore[call-arg]
        value = block.get()
    except Exception as e:
        raise ConfigurationError(f"cannot load Prefect Secret block {block_name!r}") from e
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ConfigurationError(
                f"Prefect Secret block {block_name!r} is not a JSON object"
            ) from None
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"Prefect Secret block {block_name!r} is not a JSON object")
    return credentials_from_mapping(value)
