"""The unified SDK's private environment hook, isolated in pm_lib.venue.sdk_environment.

If a polymarket-client upgrade moves ``polymarket._internal.environment`` or changes what it
builds, these tests fail by name: pm-agent must never quietly fall back to the live hosts
when it was pointed at the emulator.
"""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

import pytest
from polymarket import PRODUCTION, PublicClient, SecureClient

from pm_lib.settings import Settings
from pm_lib.sim.server import running_venue
from pm_lib.venue.sdk_environment import (
    SDK_DISTRIBUTION,
    SDK_VERSION,
    sdk_environment,
    venue_endpoints,
)
from tests.sim_exchange.emulated_venue import KEY_A, YES, make_venue

ROOT = Path(__file__).resolve().parents[2]


def test_installed_sdk_is_the_pinned_one() -> None:
    assert version(SDK_DISTRIBUTION) == SDK_VERSION
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d for d in deps if re.match(rf"{SDK_DISTRIBUTION}\b", d)]
    assert pins == [f"{SDK_DISTRIBUTION}=={SDK_VERSION}"], "pin the SDK to exactly one version"


def test_private_hook_still_exists_where_the_adapter_reaches_for_it() -> None:
    from polymarket._internal import environment as hook

    assert callable(hook.create_environment)
    assert hook.PRODUCTION_CONFIG.clob_url == "https://clob.polymarket.com"
    for field in ("clob_url", "gamma_url", "relayer_url", "rpc_url", "clob_market_ws_url"):
        assert hasattr(hook.PRODUCTION_CONFIG, field), f"SDK config lost {field!r}"


def test_live_settings_give_the_sdk_production_environment() -> None:
    assert sdk_environment(venue_endpoints(Settings())) is PRODUCTION


def test_emulator_settings_point_every_sdk_host_at_the_emulator() -> None:
    from polymarket._internal.environment import PRODUCTION_CONFIG, get_environment_config

    settings = Settings(clob_url="http://127.0.0.1:9", gamma_url="http://127.0.0.1:9/gamma")
    config = get_environment_config(sdk_environment(venue_endpoints(settings)))
    assert config.clob_url == "http://127.0.0.1:9"
    assert config.gamma_url == "http://127.0.0.1:9/gamma"
    assert config.relayer_url == "http://127.0.0.1:9/relayer"
    assert config.rpc_url == "http://127.0.0.1:9/rpc"
    assert config.clob_market_ws_url == "ws://127.0.0.1:9/ws/market"
    assert config.clob_user_ws_url == "ws://127.0.0.1:9/ws/user"
    # Contracts and wallet derivation stay the production ones (the emulator uses them too).
    assert config.collateral_token == PRODUCTION_CONFIG.collateral_token
    assert config.wallet_derivation == PRODUCTION_CONFIG.wallet_derivation


@pytest.mark.timeout(60)
def test_unified_sdk_reads_the_emulator_and_derives_credentials() -> None:
    from eth_account import Account

    with running_venue(make_venue()) as running:
        settings = Settings(clob_url=running.clob_url, gamma_url=running.gamma_url)
        environment = sdk_environment(venue_endpoints(settings))
        with PublicClient(environment=environment) as public:
            book = public.get_order_book(token_id=YES)
        assert book.asks and book.bids
        assert min(Decimal(str(level.price)) for level in book.asks) == Decimal("0.55")
        eoa = Account.from_key(KEY_A).address
        with SecureClient.create(private_key=KEY_A, wallet=eoa, environment=environment) as client:
            assert client.credentials.key
            assert str(client.wallet).lower() == eoa.lower()


def test_live_sockets_are_on_the_venue_socket_host() -> None:
    from pm_lib.stream.market import market_ws_url

    live = Settings()
    assert market_ws_url(live) == "wss://ws-subscriptions-clob.polymarket.com/ws/market"
    assert market_ws_url(live, "user") == "wss://ws-subscriptions-clob.polymarket.com/ws/user"
    emulator = Settings(clob_url="http://127.0.0.1:9")
    assert market_ws_url(emulator) == "ws://127.0.0.1:9/ws/market"


@pytest.mark.timeout(60)
def test_open_secure_client_uses_known_api_credentials_on_the_settings_venue() -> None:
    from pm_lib.auth import ApiCredentials, Credentials
    from pm_lib.venue.sdk_client import open_secure_client

    with running_venue(make_venue()) as running:
        settings = Settings(clob_url=running.clob_url, gamma_url=running.gamma_url)
        derived = open_secure_client(settings, Credentials(private_key=KEY_A))
        with derived:
            creds = derived.credentials
        known = Credentials(
            private_key=KEY_A,
            api=ApiCredentials(api_key=creds.key, secret=creds.secret, passphrase=creds.passphrase),
        )
        with open_secure_client(settings, known) as client:
            assert client.credentials.key == creds.key
            assert client.get_order_book(token_id=YES).bids


@pytest.mark.slow  # a fresh interpreter importing the CLI (~5-10 s)
def test_nothing_that_ships_imports_the_deprecated_sdk() -> None:
    """py-clob-client-v2 is a dev dependency (the emulator's round-trip tests, the SDK bench):
    the adapter, the emulator (``pm-agent venue serve``) and the CLI must not need it."""
    import subprocess
    import sys

    code = (
        "import sys, pm_lib.cli, pm_lib.venue.trading, pm_lib.execution.live, pm_lib.sim.server;"
        "sys.exit('py_clob_client_v2' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0
