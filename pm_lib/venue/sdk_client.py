"""The one way pm-agent opens an authenticated client of Polymarket's unified SDK.

``open_secure_client`` turns pm-agent's settings and live credentials into a
``polymarket.SecureClient`` on the venue the settings name (``sdk_environment``): the wallet is
the funder for signature types 1-3 and the signer's own address for type 0 (EOA), the CLOB API
credentials are passed when known (else the SDK derives them, as ``create_or_derive_api_key``
does), and a relayer API key, when configured, enables the gasless merge/redeem workflows for
proxy, Safe and deposit wallets. Everything that calls the SDK goes through here so a client is
always pointed at the same venue the rest of the run reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pm_lib.auth import Credentials
from pm_lib.settings import Settings
from pm_lib.venue.sdk_environment import sdk_environment, venue_endpoints

if TYPE_CHECKING:
    from polymarket import RelayerApiKey, SecureClient

__all__ = ["open_secure_client"]


def open_secure_client(
    settings: Settings,
    credentials: Credentials,
    *,
    relayer_api_key: RelayerApiKey | None = None,
) -> SecureClient:
    """An authenticated SDK client of ``settings``' venue for ``credentials``' wallet."""
    from polymarket import SecureClient
    from polymarket.models import ApiKeyCreds

    api = credentials.api
    known = (
        ApiKeyCreds.model_validate(
            {
                "apiKey": api.api_key.get_secret_value(),
                "secret": api.secret.get_secret_value(),
                "passphrase": api.passphrase.get_secret_value(),
            }
        )
        if api is not None
        else None
    )
    return SecureClient.create(
        private_key=credentials.private_key.get_secret_value(),
        wallet=credentials.funds_address,
        environment=sdk_environment(venue_endpoints(settings)),
        credentials=known,
        api_key=relayer_api_key,
    )
