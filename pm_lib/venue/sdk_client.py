"""The one way pm-agent opens an authenticated client of Polymarket's unified SDK, and the only
place that reaches into the SDK's private parts for it.

``open_secure_client`` turns pm-agent's settings and live credentials into a
``polymarket.SecureClient`` on the venue the settings name (``sdk_environment``): the wallet is
the funder for signature types 1-3 and the signer's own address for type 0 (EOA), the CLOB API
credentials are passed when known (else the SDK derives them, as ``create_or_derive_api_key``
does), and a relayer API key, when configured, enables the gasless merge/redeem workflows for
proxy, Safe and deposit wallets. Everything that calls the SDK goes through here so a client is
always pointed at the same venue the rest of the run reads.

**The connection (``SdkHttp``).** polymarket-client 0.14.0 builds one ``httpx.Client`` per
``SyncTransport`` (CLOB, authenticated CLOB, relayer, RPC, ...) inside ``SecureClient.create``,
with its own timeouts and no way to pass a client or transport in. pm-agent needs its own:
``PM_HTTP_TIMEOUT_SECONDS`` per request, ``PM_HEARTBEAT_TIMEOUT_SECONDS`` per heartbeat, one
pool per adapter, and a test transport. ``install_sdk_transports`` replaces the name
``SyncTransport`` in ``polymarket.clients.secure`` (once, process-wide) by a subclass that, while
an ``SdkHttp`` is current in the calling context (``SdkHttp.active``), passes the SDK's own
public ``client=`` argument: an ``httpx.Client`` on that connection. Outside any connection it is
the SDK's transport unchanged. Client creation (the API-key probe or derivation, the relayer's
``/deployed`` for proxy/Safe/deposit wallets) therefore goes out on the connection too.

**The private surface, all here** (``tests/venue/test_sdk_client.py`` fails by name if an
upgrade moves any of it): the module attribute ``polymarket.clients.secure.SyncTransport``;
``SecureClient._ctx.secure_clob`` (the authenticated CLOB transport; pm-agent reads raw JSON
through it so ``pm_lib.venue.wire`` stays the one parser of venue answers);
``polymarket._internal.actions.orders.post.build_post_order_request`` (the body the SDK's own
``post_order`` sends); ``SecureClient._ctx.order_metadata`` (``resolve_market``: the neg-risk flag
the SDK signed with, so the order hash is computed for the right exchange; ``fetch_current_market``:
refresh a token's cached tick after the venue refused one).

**Retries.** The SDK retries nothing on the CLOB: ``polymarket._internal.retry`` only wraps
Data-API reads (rate limits), ``SyncTransport`` sends each request once, and httpx's transport
makes no retries. ``SecureClient.place_*_order`` re-posts after approving an allowance on a
"not enough allowance" refusal: pm-agent never calls them (it posts through
``post_order_raw``), so an order is sent exactly once.
"""

from __future__ import annotations

import inspect
import ssl
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

import httpx

from pm_lib.auth import Credentials
from pm_lib.settings import Settings
from pm_lib.venue.sdk_environment import sdk_environment, venue_endpoints

if TYPE_CHECKING:
    from polymarket import Environment, RelayerApiKey, SecureClient
    from polymarket.clients._transport import SyncTransport
    from polymarket.models.clob.orders import SignedOrder

__all__ = [
    "DEFAULT_HEARTBEAT_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "HEARTBEAT_PATHS",
    "SIGNATURE_TYPE_OF_WALLET",
    "SdkHttp",
    "authenticated_clob",
    "install_sdk_transports",
    "open_secure_client",
    "post_order_raw",
    "post_orders_raw",
    "refresh_market_metadata",
    "secure_client",
    "signed_for_neg_risk",
]

HEARTBEAT_PATHS = frozenset({"/v1/heartbeats", "/heartbeats"})
DEFAULT_HEARTBEAT_TIMEOUT = 2.5
"""Seconds one heartbeat may take (``PM_HEARTBEAT_TIMEOUT_SECONDS``): well under the venue's
10 s window, so one hung beat is cut in time for the next to arrive."""
DEFAULT_TIMEOUT = 5.0
"""Seconds per request of a connection built without settings."""

SIGNATURE_TYPE_OF_WALLET = {"EOA": 0, "POLY_PROXY": 1, "GNOSIS_SAFE": 2, "DEPOSIT_WALLET": 3}
"""The order signature type of each wallet kind the SDK detects (``SecureClient.wallet_type``)."""

_SSL: list[ssl.SSLContext] = []


def _ssl_context() -> ssl.SSLContext:
    """One verifying SSL context per process (building one reads the CA bundle: ~60 ms)."""
    if not _SSL:
        _SSL.append(httpx.create_ssl_context())
    return _SSL[0]


class SdkHttp(httpx.BaseTransport):
    """The HTTP connection one adapter's SDK calls go out on: its own pool (or test transport)
    and its own timeouts, ``PM_HTTP_TIMEOUT_SECONDS`` per request and, for heartbeats,
    ``PM_HEARTBEAT_TIMEOUT_SECONDS``. An ``httpx`` transport itself: every ``httpx.Client`` the
    SDK is handed (``client``) sends through ``handle_request``."""

    def __init__(
        self,
        timeout_seconds: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        *,
        heartbeat_timeout_seconds: float = DEFAULT_HEARTBEAT_TIMEOUT,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.heartbeat_timeout_seconds = min(heartbeat_timeout_seconds, timeout_seconds)
        self._transport = (
            transport
            if transport is not None
            else httpx.HTTPTransport(http2=True, verify=_ssl_context())
        )
        self._timeout = httpx.Timeout(timeout_seconds).as_dict()
        self._heartbeat_timeout = httpx.Timeout(self.heartbeat_timeout_seconds).as_dict()

    @classmethod
    def from_settings(
        cls, settings: Settings, transport: httpx.BaseTransport | None = None
    ) -> SdkHttp:
        """``PM_HTTP_TIMEOUT_SECONDS`` per request, ``PM_HEARTBEAT_TIMEOUT_SECONDS`` per beat."""
        return cls(
            settings.http_timeout_seconds,
            transport,
            heartbeat_timeout_seconds=settings.heartbeat_timeout_seconds,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request with this connection's timeout (httpx's transports read it from
        the request's ``timeout`` extension)."""
        short = request.url.path in HEARTBEAT_PATHS
        timeout = self._heartbeat_timeout if short else self._timeout
        request.extensions = {**request.extensions, "timeout": timeout}
        return self._transport.handle_request(request)

    def client(self, base_url: str = "") -> httpx.Client:
        """An ``httpx.Client`` of ``base_url`` on this connection (closing it closes nothing
        the connection still needs: ``close`` does)."""
        return httpx.Client(
            base_url=base_url, transport=_Unclosed(self), timeout=self.timeout_seconds
        )

    @contextmanager
    def active(self) -> Iterator[None]:
        """SDK transports built in this block (in this context) go out on this connection."""
        install_sdk_transports()
        token = _CURRENT.set(self)
        try:
            yield
        finally:
            _CURRENT.reset(token)

    def close(self) -> None:
        """Close the pooled connections (a later request opens new ones)."""
        self._transport.close()


class _Unclosed(httpx.BaseTransport):
    """``http`` behind a client whose ``close`` must not close the shared pool."""

    def __init__(self, http: SdkHttp) -> None:
        self._http = http

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._http.handle_request(request)


_CURRENT: ContextVar[SdkHttp | None] = ContextVar("pm_sdk_http", default=None)
_install_lock = threading.Lock()
_installed: list[type] = []


def install_sdk_transports() -> type:
    """Make the SDK's secure client build its transports on the current ``SdkHttp`` (once,
    idempotent); the class installed. Raises if an SDK upgrade moved the seam."""
    from polymarket.clients import secure
    from polymarket.clients._transport import SyncTransport

    with _install_lock:
        current = getattr(secure, "SyncTransport", None)  # checked below
        if _installed and current is _installed[0]:
            return current
        if (
            current is not SyncTransport
            or "client" not in inspect.signature(SyncTransport.__init__).parameters
        ):
            raise RuntimeError(
                "polymarket.clients.secure no longer builds its transports from "
                "SyncTransport(client=...): update pm_lib.venue.sdk_client for this SDK version"
            )

        class OnConnection(SyncTransport):
            """The SDK's transport, on the ``SdkHttp`` current when it is built."""

            def __init__(
                self, *, base_url: str, client: httpx.Client | None = None, **options: Any
            ) -> None:
                http = _CURRENT.get()
                if client is None and http is not None:
                    client = http.client(base_url)
                super().__init__(base_url=base_url, client=client, **options)

        setattr(secure, "SyncTransport", OnConnection)  # noqa: B010 - the seam, by name
        _installed[:] = [OnConnection]
        return OnConnection


def secure_client(
    environment: Environment,
    credentials: Credentials,
    *,
    wallet: str | None = None,
    http: SdkHttp | None = None,
    relayer_api_key: RelayerApiKey | None = None,
) -> SecureClient:
    """An authenticated SDK client of ``environment`` for ``credentials``' wallet (``wallet``
    overrides it), its transports on ``http`` when given. The SDK checks known API credentials
    (``GET /auth/api-keys``) and derives them when absent or inactive."""
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

    def create() -> SecureClient:
        return SecureClient.create(
            private_key=credentials.private_key.get_secret_value(),
            wallet=wallet or credentials.funds_address,
            environment=environment,
            credentials=known,
            api_key=relayer_api_key,
        )

    if http is None:
        return create()
    with http.active():
        return create()


def open_secure_client(
    settings: Settings,
    credentials: Credentials,
    *,
    relayer_api_key: RelayerApiKey | None = None,
    http: SdkHttp | None = None,
) -> SecureClient:
    """An authenticated SDK client of ``settings``' venue for ``credentials``' wallet."""
    return secure_client(
        sdk_environment(venue_endpoints(settings)),
        credentials,
        http=http,
        relayer_api_key=relayer_api_key,
    )


def authenticated_clob(client: SecureClient) -> SyncTransport:
    """The SDK's L2-authenticated CLOB transport of ``client`` (private: ``_ctx.secure_clob``):
    every request it sends carries the HMAC headers of the client's API credentials."""
    transport: SyncTransport = client._ctx.secure_clob
    return transport


def post_order_raw(client: SecureClient, order: SignedOrder) -> Any:
    """POST /order of ``order`` exactly as ``SecureClient.post_order`` sends it (its private
    body builder), once; the venue's raw JSON answer (``pm_lib.venue.wire`` parses it)."""
    from polymarket._internal.actions.orders.post import build_post_order_request

    path, body = build_post_order_request(order, owner_api_key=client.credentials.key)
    return authenticated_clob(client).post_json(path, json=body)


def post_orders_raw(client: SecureClient, orders: Sequence[SignedOrder]) -> Any:
    """POST /orders of ``orders`` (at most 15) exactly as ``SecureClient.post_orders`` sends
    them (its private body builder), once; the venue's raw JSON answer, one entry per order."""
    from polymarket._internal.actions.orders.post import build_post_orders_request

    path, body = build_post_orders_request(orders, owner_api_key=client.credentials.key)
    return authenticated_clob(client).post_json(path, json=body)


def refresh_market_metadata(client: SecureClient, token_id: str) -> None:
    """Re-read the SDK's cached market metadata (tick, neg risk) of ``token_id`` now."""
    ctx = client._ctx
    ctx.order_metadata.fetch_current_market(ctx, token_id=cast(Any, token_id))


def signed_for_neg_risk(client: SecureClient, token_id: str) -> bool:
    """The neg-risk flag the SDK signs ``token_id``'s orders with (its cached market metadata,
    read once per token and client; private: ``_ctx.order_metadata.resolve_market``)."""
    ctx = client._ctx
    return bool(ctx.order_metadata.resolve_market(ctx, token_id=cast(Any, token_id)).neg_risk)
