"""Each TradingClient owns its HTTP connection; the unified SDK's private seams are checked here.

polymarket-client builds its own ``httpx.Client`` per transport inside ``SecureClient.create``;
pm-agent installs, once, a ``SyncTransport`` that is handed an ``httpx.Client`` on the adapter's
``SdkHttp`` (``pm_lib.venue.sdk_client``). If an SDK upgrade moves any private piece the adapter
reaches for, a test here fails by name.
"""

from __future__ import annotations

import inspect
import threading

import httpx
import pytest
from polymarket import SecureClient
from polymarket.clients import secure

from pm_lib.auth import Credentials
from pm_lib.errors import OutcomeUnknown, RejectedByVenue, RetryableError
from pm_lib.models import OrderType, Side
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.venue.sdk_client import install_sdk_transports, open_secure_client
from pm_lib.venue.sdk_environment import venue_contracts
from pm_lib.venue.trading import HEARTBEAT_PATHS, SdkHttp, TradingClient, venue_version
from tests.execution.builders import request
from tests.execution.emulator import COND, FEES, NEG_RISK, YES, control

NR_COND, NR_YES, _ = NEG_RISK[0]


class Recording(httpx.BaseTransport):
    """A real transport to the emulator that notes each request's path and read timeout, and
    can hold ``/balance-allowance`` requests at a barrier (to keep two clients' in flight)."""

    def __init__(self, gate: threading.Barrier | None = None) -> None:
        self._inner = httpx.HTTPTransport()
        self._gate = gate
        self.seen: list[tuple[str, float | None]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.url.path, request.extensions["timeout"]["read"]))
        if self._gate is not None and request.url.path == "/balance-allowance":
            self._gate.wait(timeout=10)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def test_the_private_seams_are_where_the_adapter_reaches_for_them() -> None:
    """Fails loudly if polymarket-client moves what ``pm_lib.venue.sdk_client`` uses."""
    from polymarket._internal.actions.orders.cache import SyncOrderMetadataCache
    from polymarket._internal.actions.orders.post import (
        build_post_order_request,
        build_post_orders_request,
    )
    from polymarket._internal.context import SyncSecureClientContext

    installed = install_sdk_transports()
    assert install_sdk_transports() is installed, "installed once"
    assert secure.SyncTransport is installed
    assert "client" in inspect.signature(installed.__init__).parameters
    fields = SyncSecureClientContext.__dataclass_fields__
    assert {"secure_clob", "order_metadata"} <= set(fields)
    assert callable(SyncOrderMetadataCache.fetch_current_market)
    assert callable(SyncOrderMetadataCache.resolve_market)
    assert callable(build_post_order_request)
    assert callable(build_post_orders_request)
    assert isinstance(inspect.getattr_static(SecureClient, "_ctx"), property)


def test_outside_any_connection_the_sdk_builds_its_own_clients() -> None:
    transport = install_sdk_transports()(base_url="http://venue.invalid")
    assert transport._owns_client  # the SDK's own httpx.Client, its own defaults
    transport.close()


def test_every_sdk_request_goes_out_on_the_adapters_connection(
    live_settings: Settings, credentials: Credentials
) -> None:
    """Opening the SDK client (API-key derivation and check), signing's metadata reads, the
    post, reads and heartbeats: all on the connection, with its timeouts."""
    seen = Recording()
    settings = live_settings.model_copy(
        update={"http_timeout_seconds": 4.0, "heartbeat_timeout_seconds": 1.5}
    )
    client = TradingClient.connect(settings, credentials, transport=seen)
    order = request("k1", Side.BUY, "10", "0.50", OrderType.GTC, token=YES, condition=COND)
    client.post(client.sign(order.model_copy(update={"fees": FEES})))
    client.collateral()
    client.heartbeat("")
    paths = [p for p, _ in seen.seen]
    for path in ("/auth/api-key", "/auth/api-keys", "/clob-markets/" + COND, "/order"):
        assert path in paths, path
    assert {t for p, t in seen.seen if p in HEARTBEAT_PATHS} == {1.5}
    assert {t for p, t in seen.seen if p not in HEARTBEAT_PATHS} == {4.0}


def test_a_public_read_goes_out_on_the_connection_given() -> None:
    seen: list[str] = []

    def venue(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"version": 2})

    assert venue_version("http://venue.invalid", SdkHttp(2.0, httpx.MockTransport(venue))) == 2
    assert seen == ["/version"]


def test_two_clients_in_one_process_keep_their_own_timeouts_and_transports(
    live_settings: Settings, credentials: Credentials
) -> None:
    gate = threading.Barrier(2)  # both balance reads in flight at the same time
    first, second = Recording(gate), Recording(gate)
    fast = live_settings.model_copy(
        update={"http_timeout_seconds": 3.0, "heartbeat_timeout_seconds": 1.0}
    )
    slow = live_settings.model_copy(
        update={"http_timeout_seconds": 7.0, "heartbeat_timeout_seconds": 2.0}
    )
    a = TradingClient.connect(fast, credentials, transport=first)
    b = TradingClient.connect(slow, credentials, transport=second)
    a.heartbeat("")  # opens each SDK client before the barrier
    b.heartbeat("")
    balances: list[object] = []
    threads = [threading.Thread(target=lambda c=c: balances.append(c.collateral())) for c in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert len(balances) == 2, "both reads went through while the other was in flight"
    assert ("/balance-allowance", 3.0) in first.seen and ("/balance-allowance", 7.0) in second.seen
    assert {t for p, t in first.seen if p in HEARTBEAT_PATHS} == {1.0}
    assert {t for p, t in second.seen if p in HEARTBEAT_PATHS} == {2.0}
    assert {t for p, t in first.seen if p not in HEARTBEAT_PATHS} == {3.0}
    assert {t for p, t in second.seen if p not in HEARTBEAT_PATHS} == {7.0}
    for seen in (first.seen, second.seen):  # no request went out on the other's connection
        assert [p for p, _ in seen].count("/balance-allowance") == 1


def posts(running: RunningVenue) -> int:
    stats = control(running, "GET", "/stats")
    return int(stats["requests"].get("POST /order", 0))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"kind": "error", "status": 503}, OutcomeUnknown),
        ({"kind": "error", "status": 500}, OutcomeUnknown),
        ({"kind": "error", "status": 425}, RetryableError),
        ({"kind": "timeout", "delay_seconds": 2.0}, OutcomeUnknown),
        ({"kind": "malformed"}, OutcomeUnknown),
        ({"kind": "response_lost"}, OutcomeUnknown),
    ],
)
def test_the_sdk_sends_a_post_once_whatever_the_failure(
    running: RunningVenue,
    live_settings: Settings,
    credentials: Credentials,
    rule: dict[str, object],
    expected: type[Exception],
) -> None:
    """polymarket-client retries nothing on the CLOB (``_internal/retry.py`` wraps Data-API
    reads only, on a 429): a failed POST /order reaches the adapter after exactly one request,
    although a second one would have gone through (the fault fires once). A 429 is never
    retried either (``test_trading_errors``: ``RateLimited``, and the executor never resends)."""
    settings = live_settings.model_copy(update={"http_timeout_seconds": 1.0})
    client = TradingClient.connect(settings, credentials)
    order = request("k1", Side.BUY, "10", "0.50", OrderType.GTC, token=YES, condition=COND)
    signed = client.sign(order.model_copy(update={"fees": FEES}))
    before = posts(running)
    control(running, "POST", "/faults", {"path": "/order", "method": "POST", "count": 1, **rule})
    with pytest.raises(expected):
        client.post(signed)
    assert posts(running) == before + 1


def test_open_secure_client_opens_on_the_connection_given(
    live_settings: Settings, credentials: Credentials
) -> None:
    seen = Recording()
    with open_secure_client(
        live_settings, credentials, http=SdkHttp.from_settings(live_settings, seen)
    ) as client:
        assert client.wallet_type == "EOA"
    assert "/auth/api-key" in [p for p, _ in seen.seen]


def test_the_order_hash_is_what_the_sdk_signed_and_the_venues_order_id(
    live_settings: Settings, credentials: Credentials
) -> None:
    """Hash before post: the digest computed by the adapter recovers to the signer from the
    SDK's signature (so it is the digest the SDK signed), and the venue names the order by it."""
    from eth_account import Account
    from eth_account.messages import SignableMessage

    from pm_lib.venue.trading import _digest_parts

    client = TradingClient.connect(live_settings, credentials)
    for condition, token, neg_risk in ((COND, YES, False), (NR_COND, NR_YES, True)):
        order = request(
            "k", Side.BUY, "10", "0.20", OrderType.GTC, token=token, condition=condition
        )
        signed = client.sign(order.model_copy(update={"fees": FEES, "neg_risk": neg_risk}))
        exchange = venue_contracts().exchange_for(neg_risk)
        domain, struct = _digest_parts(signed.sdk_order, exchange, 137)
        message = SignableMessage(version=b"\x01", header=domain, body=struct)
        signer = Account.recover_message(message, signature=signed.sdk_order.signature)
        assert signer == credentials.address
        assert client.post(signed).order_id == signed.order_id


def test_a_token_the_sdk_would_sign_for_another_exchange_is_refused_unsent(
    running: RunningVenue, live_settings: Settings, credentials: Credentials
) -> None:
    client = TradingClient.connect(live_settings, credentials)
    before = posts(running)
    small = request("k", Side.BUY, "10", "0.20", OrderType.GTC, token="9001", condition=COND)
    with pytest.raises(RejectedByVenue, match="protocol-v2 position"):
        client.sign(small.model_copy(update={"fees": FEES}))
    wrong = request("k", Side.BUY, "10", "0.20", OrderType.GTC, token=YES, condition=COND)
    with pytest.raises(RejectedByVenue, match="neg-risk flag"):
        client.sign(wrong.model_copy(update={"fees": FEES, "neg_risk": True}))
    assert posts(running) == before


def test_configured_api_credentials_the_venue_refuses_are_not_replaced_silently(
    running: RunningVenue, live_settings: Settings, credentials: Credentials
) -> None:
    """The SDK derives the signer's own credentials when the configured ones are inactive; the
    adapter refuses instead (nothing signed, nothing posted), as it did before the SDK moved."""
    from pydantic import SecretStr

    from pm_lib.auth import ApiCredentials
    from pm_lib.errors import ConfigurationError
    from pm_lib.venue.trading import derive_api_credentials

    real = derive_api_credentials(live_settings.clob_url, live_settings.chain_id, credentials)
    for wrong in (
        ApiCredentials(
            api_key=SecretStr("marker-key"), secret=real.secret, passphrase=real.passphrase
        ),
        ApiCredentials(
            api_key=real.api_key, secret=SecretStr("c2VjcmV0"), passphrase=real.passphrase
        ),
    ):
        client = TradingClient.connect(live_settings, credentials.with_api(wrong))
        with pytest.raises(ConfigurationError, match="Unauthorized"):
            client.open_orders()
    assert posts(running) == 0
