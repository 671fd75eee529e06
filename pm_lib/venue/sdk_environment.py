"""Where pm-agent points Polymarket's unified SDK (``polymarket-client``) at a venue.

The SDK talks to the live venue through ``polymarket.PRODUCTION``. Any other venue (the
emulator, a staging host) needs an SDK ``Environment`` built from a copy of the production
configuration with other URLs, and polymarket-client 0.14.0 only offers that through a private
module, ``polymarket._internal.environment``. This module is the only place pm-agent touches
it: if an upgrade moves or renames the hook, ``tests/venue/test_sdk_environment.py`` fails
loudly instead of a live run quietly trading against the wrong host.

Contract addresses, chain id and wallet-derivation constants stay the production ones: the
emulator's chain side uses the same addresses, so the SDK derives the same proxy, Safe and
deposit-wallet addresses against it as against Polygon.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pm_lib.settings import REAL_CLOB_URL, REAL_GAMMA_URL, Settings

if TYPE_CHECKING:
    from polymarket import Environment

__all__ = [
    "REAL_RELAYER_URL",
    "REAL_RPC_URL",
    "REAL_WS_URL",
    "SDK_DISTRIBUTION",
    "SDK_VERSION",
    "VenueContracts",
    "VenueEndpoints",
    "sdk_environment",
    "venue_contracts",
    "venue_endpoints",
    "ws_base_url",
]

SDK_DISTRIBUTION = "polymarket-client"
SDK_VERSION = "0.14.0"  # pinned in pyproject.toml; the hook below is checked against it
REAL_RELAYER_URL = "https://relayer-v2.polymarket.com"
REAL_RPC_URL = "https://polygon.drpc.org"
REAL_WS_URL = "wss://ws-subscriptions-clob.polymarket.com"


@dataclass(frozen=True, slots=True)
class VenueEndpoints:
    """Every base URL the SDK may call, resolved from pm-agent's settings."""

    clob_url: str
    gamma_url: str
    relayer_url: str
    rpc_url: str
    market_ws_url: str
    user_ws_url: str
    data_url: str
    chain_id: int

    @property
    def is_live_venue(self) -> bool:
        return self.clob_url.rstrip("/") == REAL_CLOB_URL


@dataclass(frozen=True, slots=True)
class VenueContracts:
    """The contracts orders are signed for and the wallet's pUSD must be allowed to."""

    exchange: str
    neg_risk_exchange: str
    neg_risk_adapter: str
    collateral: str

    def exchange_for(self, neg_risk: bool) -> str:
        """The exchange whose EIP-712 domain a market's orders are signed for."""
        return self.neg_risk_exchange if neg_risk else self.exchange


def venue_contracts() -> VenueContracts:
    """The SDK's contract addresses (the production ones: ``sdk_environment`` changes URLs and
    chain id only, and the emulator uses the same addresses)."""
    from polymarket._internal.environment import PRODUCTION_CONFIG  # the private hook

    return VenueContracts(
        exchange=PRODUCTION_CONFIG.standard_exchange,
        neg_risk_exchange=PRODUCTION_CONFIG.neg_risk_exchange,
        neg_risk_adapter=PRODUCTION_CONFIG.neg_risk_adapter,
        collateral=PRODUCTION_CONFIG.collateral_token,
    )


def ws_base_url(settings: Settings) -> str:
    """The WebSocket host: PM_WS_URL, the live socket host with the live CLOB, else the
    CLOB URL as ws:// or wss:// (the emulator serves both on one port)."""
    if settings.ws_url:
        return settings.ws_url.rstrip("/")
    base = settings.clob_url.rstrip("/")
    if base == REAL_CLOB_URL:
        return REAL_WS_URL  # the live venue serves its sockets on their own host
    return base.replace("https://", "wss://", 1).replace("http://", "ws://", 1)


def venue_endpoints(settings: Settings) -> VenueEndpoints:
    """The URLs for ``settings``: the live defaults with the live CLOB, else beside PM_CLOB_URL."""
    clob = settings.clob_url.rstrip("/")
    live = clob == REAL_CLOB_URL
    ws = ws_base_url(settings)
    return VenueEndpoints(
        clob_url=clob,
        gamma_url=settings.gamma_url.rstrip("/") or REAL_GAMMA_URL,
        relayer_url=(
            settings.relayer_url or (REAL_RELAYER_URL if live else f"{clob}/relayer")
        ).rstrip("/"),
        rpc_url=(settings.rpc_url or (REAL_RPC_URL if live else f"{clob}/rpc")).rstrip("/"),
        market_ws_url=f"{ws}/ws/market",
        user_ws_url=f"{ws}/ws/user",
        data_url="https://data-api.polymarket.com" if live else f"{clob}/data",
        chain_id=settings.chain_id,
    )


def sdk_environment(endpoints: VenueEndpoints) -> Environment:
    """The SDK environment for ``endpoints``: ``PRODUCTION`` itself when nothing differs."""
    from polymarket import PRODUCTION
    from polymarket._internal.environment import (  # the private hook; see module docstring
        PRODUCTION_CONFIG,
        create_environment,
    )

    config = dataclasses.replace(
        PRODUCTION_CONFIG,
        chain_id=endpoints.chain_id,
        clob_url=endpoints.clob_url,
        gamma_url=endpoints.gamma_url,
        relayer_url=endpoints.relayer_url,
        rpc_url=endpoints.rpc_url,
        clob_market_ws_url=endpoints.market_ws_url,
        clob_user_ws_url=endpoints.user_ws_url,
        data_url=endpoints.data_url,
    )
    if config == PRODUCTION_CONFIG:
        return PRODUCTION
    return create_environment(name="pm-agent:" + endpoints.clob_url, config=config)
