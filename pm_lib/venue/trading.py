"""The single adapter around py-clob-client-v2: sign, post, cancel, orders, trades, balance.

Nothing else in pm-agent imports ``py_clob_client_v2``; a later move to the unified SDK touches
this module only. Every SDK or httpx error is mapped here to the ``pm_lib.errors`` tree
(``raise ... from e``), and every venue answer is parsed here by ``pm_lib.venue.wire``.

Error mapping (docs/VENUE.md 2.4):

    no HTTP status (timeout, dropped connection)  write -> OutcomeUnknown   read -> RetryableError
    5xx                                            write -> OutcomeUnknown   read -> RetryableError
    429                                            RateLimited (never resent for a write)
    425 (matching engine restarting)               RetryableError (the write was not taken)
    503 code post_only_mode (after a restart)      RetryableError (the write was not taken)
    4xx "not enough balance / allowance"           InsufficientFunds
    other 4xx, SDK-side validation                 RejectedByVenue

The SDK's HTTP client is one module-level, synchronous ``httpx.Client(http2=True)`` built with
httpx's default 5 s timeout (``py_clob_client_v2/http_helpers/helpers.py``). Each
``TradingClient`` owns its own connection instead (``SdkHttp``: ``PM_HTTP_TIMEOUT_SECONDS``,
heartbeats ``PM_HEARTBEAT_TIMEOUT_SECONDS``, and for tests a transport): one routing client,
installed once into the SDK (``install_sdk_router``), sends each request on the connection of the
adapter that made it, so two clients in one process never share timeouts or transports.
Reads are retried under the one read policy (``pm_lib.venue.http.RetryPolicy``,
``PM_HTTP_MAX_RETRIES``); writes are never retried (``retry_on_error=False`` for the SDK too),
and posts use ``defer_exec=True`` so the SDK does not poll trades for up to 30 s after a match
(docs/VENUE.md 2.1); ``post_many`` sends up to 15 signed orders in one ``POST /orders``.
Callers on an event loop run these methods in a thread (``execution.base.run_off_loop``).
"""

from __future__ import annotations

import logging
import math
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Self, TypeVar

import httpx
from py_clob_client_v2 import client as sdk_client
from py_clob_client_v2.clob_types import (
    ApiCreds,
    AssetType,
    BalanceAllowanceParams,
    OpenOrderParams,
    OrderArgsV2,
    OrderPayload,
    PartialCreateOrderOptions,
    PostOrdersV2Args,
    TradeParams,
)
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.exceptions import PolyApiException, PolyException
from py_clob_client_v2.http_helpers import helpers as sdk_http
from py_clob_client_v2.order_builder.builder import ROUNDING_CONFIG
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
from py_clob_client_v2.order_utils.model.order_data_v2 import SignedOrderV2
from pydantic import SecretStr

from pm_lib.auth import ApiCredentials, Credentials
from pm_lib.book_math import (
    is_valid_price,
    order_amounts,
    precision_problem,
    taker_fee,
    to_micro_units,
)
from pm_lib.errors import (
    BadVenueData,
    InsufficientFunds,
    OutcomeUnknown,
    RateLimited,
    RejectedByVenue,
    RetryableError,
    VenueError,
)
from pm_lib.models import ONE, ZERO, FeeSchedule, Fill, OrderRequest, OrderType
from pm_lib.redaction import redact_exception
from pm_lib.settings import Settings
from pm_lib.venue.http import RetryPolicy
from pm_lib.venue.wire import (
    CancelResult,
    ClobMarketInfo,
    PostOrderAck,
    VenueOrder,
    parse_balance_allowance,
    parse_cancel_response,
    parse_clob_market_info,
    parse_open_order,
    parse_post_order_response,
    parse_trade,
    to_decimal,
)

__all__ = [
    "MAX_BATCH_ORDERS",
    "SdkHttp",
    "SignedOrder",
    "TradingClient",
    "collateral_spenders",
    "derive_api_credentials",
    "install_sdk_router",
    "map_sdk_error",
    "trade_row_fills",
    "venue_time",
    "venue_version",
]

_FUNDS_MARKERS = ("not enough balance", "allowance", "insufficient")

MAX_BATCH_ORDERS = 15
"""Orders one ``POST /orders`` takes (docs/VENUE.md 3.3)."""

T = TypeVar("T")


HEARTBEAT_PATHS = frozenset({"/v1/heartbeats", "/heartbeats"})
DEFAULT_HEARTBEAT_TIMEOUT = 2.5
"""Seconds one heartbeat may take (``PM_HEARTBEAT_TIMEOUT_SECONDS``): well under the venue's
10 s window, so one hung beat is cut in time for the next to arrive."""
DEFAULT_TIMEOUT = 5.0
"""Seconds per request of an adapter built without settings: httpx's default, the SDK's own."""

log = logging.getLogger(__name__)


class SdkHttp:
    """The HTTP connection one adapter's SDK calls go out on: its own pool (or test transport)
    and its own timeouts, ``PM_HTTP_TIMEOUT_SECONDS`` per request and, for heartbeats,
    ``PM_HEARTBEAT_TIMEOUT_SECONDS``.

    The SDK sends every request through one module-level ``httpx.Client``. Rather than replace
    that client per adapter (process-wide: two executors would fight over timeouts and
    transports), one routing client is installed once (``install_sdk_router``) and each request
    goes to the ``SdkHttp`` made current by ``active()`` in the calling thread (a context
    variable: ``asyncio.to_thread`` copies it; the adapter sets it around every SDK call anyway).
    A request made outside any adapter (the bare SDK) keeps the SDK's defaults.
    """

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
        """Send one SDK request with this connection's timeout (httpx's transports read it from
        the request's ``timeout`` extension)."""
        short = request.url.path in HEARTBEAT_PATHS
        timeout = self._heartbeat_timeout if short else self._timeout
        request.extensions = {**request.extensions, "timeout": timeout}
        return self._transport.handle_request(request)

    @contextmanager
    def active(self) -> Iterator[None]:
        """SDK requests made in this block (in this thread) go out on this connection."""
        install_sdk_router()
        token = _CURRENT.set(self)
        try:
            yield
        finally:
            _CURRENT.reset(token)

    def close(self) -> None:
        """Close the pooled connections (a later request opens new ones)."""
        self._transport.close()


_CURRENT: ContextVar[SdkHttp | None] = ContextVar("pm_sdk_http", default=None)


class _RouteToAdapter(httpx.BaseTransport):
    """The transport of the one client installed in the SDK: each request goes to the calling
    adapter's ``SdkHttp``, or, outside any adapter, to the SDK's default transport."""

    def __init__(self) -> None:
        self._default = httpx.HTTPTransport(http2=True)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        http = _CURRENT.get()
        if http is None:
            return self._default.handle_request(request)
        return http.handle_request(request)

    def close(self) -> None:
        self._default.close()


_router_lock = threading.Lock()
_router: httpx.Client | None = None


def install_sdk_router() -> httpx.Client:
    """Install the routing client into the SDK once (idempotent); the client installed.

    The single place that touches the SDK's private HTTP seam: py-clob-client-v2 1.x sends every
    request through ``py_clob_client_v2.http_helpers.helpers._http_client``. If an SDK upgrade
    moves it, this raises (and ``tests/execution/test_sdk_http.py`` fails) instead of letting the
    SDK's own client, with its own timeouts, carry our orders.
    """
    global _router
    with _router_lock:
        current = getattr(sdk_http, "_http_client", None)
        if not isinstance(current, httpx.Client) or not callable(getattr(sdk_http, "request", 0)):
            raise RuntimeError(
                "py_clob_client_v2 no longer sends through http_helpers.helpers._http_client: "
                "update pm_lib.venue.trading.install_sdk_router for this SDK version"
            )
        if current is _router:
            return current
        _router = httpx.Client(transport=_RouteToAdapter())
        sdk_http._http_client = _router
        current.close()
        return _router


_SSL: list[ssl.SSLContext] = []


def _ssl_context() -> ssl.SSLContext:
    """One verifying SSL context per process (building one reads the CA bundle: ~60 ms)."""
    if not _SSL:
        _SSL.append(httpx.create_ssl_context())
    return _SSL[0]


def _error_text(e: PolyApiException) -> str:
    msg = e.error_msg
    if isinstance(msg, dict):
        text = msg.get("error") or msg.get("errorMsg") or msg.get("error_msg") or msg
        return str(text)
    return str(msg)


def _retry_after(e: PolyApiException) -> float | None:
    msg = e.error_msg
    if isinstance(msg, dict):
        value = msg.get("retry_after_seconds")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


_NOT_TAKEN_CODES = frozenset({"post_only_mode", "cancel_only_mode", "trading_disabled"})
"""503 codes that refuse a write outright (after a matching-engine restart, docs/VENUE.md 2.4)."""


def _error_code(e: PolyApiException) -> str | None:
    msg = e.error_msg
    code = msg.get("code") if isinstance(msg, dict) else None
    return code if isinstance(code, str) else None


def map_sdk_error(e: Exception, *, action: str, write: bool) -> VenueError:
    """The ``pm_lib.errors`` exception for an SDK/httpx failure of ``action``.

    ``e`` and every exception chained under it are scrubbed of credentials first (the HTTP
    library quotes an illegal header value): the message built here, and any traceback of the
    error raised ``from e``, never carry one (``pm_lib.redaction``).
    """
    redact_exception(e)
    if isinstance(e, PolyApiException):
        status = e.status_code
        text = _error_text(e)
        if status == 503 and _error_code(e) in _NOT_TAKEN_CODES:
            return RetryableError(f"{action}: not taken now ({text})", status_code=status)
        if status is None or status >= 500:
            where = f"HTTP {status}" if status else "no response"
            if write:
                return OutcomeUnknown(f"{action}: {where} ({text})", status_code=status)
            return RetryableError(f"{action}: {where} ({text})", status_code=status)
        if status == 429:
            return RateLimited(f"{action}: rate limited ({text})", retry_after=_retry_after(e))
        if status == 425:
            return RetryableError(f"{action}: matching engine restarting ({text})", status_code=425)
        if any(marker in text.lower() for marker in _FUNDS_MARKERS):
            return InsufficientFunds(f"{action}: {text}", status_code=status)
        return RejectedByVenue(f"{action}: {text}", status_code=status)
    if isinstance(e, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError):
        if write:
            return OutcomeUnknown(f"{action}: {type(e).__name__}")
        return RetryableError(f"{action}: {type(e).__name__}")
    if isinstance(e, PolyException | ValueError):
        # Raised by the SDK before anything was sent (bad tick, price out of range, ...).
        return RejectedByVenue(f"{action}: refused by the SDK before sending: {e}")
    if not write and isinstance(e, TypeError | KeyError | AttributeError):
        # The SDK walking pages of an answer it could not decode (it returns the raw text).
        return RetryableError(f"{action}: unreadable answer ({type(e).__name__}: {e})")
    if write:
        return OutcomeUnknown(f"{action}: unexpected {type(e).__name__}")
    return RetryableError(f"{action}: unexpected {type(e).__name__}")


@dataclass(frozen=True)
class SignedOrder:
    """An order signed once; ``order_id`` is its EIP-712 hash (= the venue's order id)."""

    order_id: str
    request: OrderRequest
    maker_amount: int
    taker_amount: int
    sdk_order: SignedOrderV2


_TICK_REFUSAL = "invalid tick size"  # the SDK: "invalid tick size (0.001), minimum for ... is 0.01"
_VENUE_TICK_REFUSAL = "minimum tick size"  # the venue: "... breaks minimum tick size rule: 0.01"


class _TickRefused(Exception):
    """The SDK refused the request's tick as finer than the tick it cached for the token."""


def _amounts(request: OrderRequest) -> tuple[int, int]:
    """(maker, taker) amounts of ``request`` in micro-units, exact."""
    maker, taker = order_amounts(request.side, request.size, request.price)
    return to_micro_units(maker), to_micro_units(taker)


def _tick_text(tick: Decimal) -> str:
    text = format(tick.normalize(), "f")
    if text not in ROUNDING_CONFIG:
        raise RejectedByVenue(f"tick size {tick} is not one of the venue's {list(ROUNDING_CONFIG)}")
    return text


class TradingClient:
    """One authenticated (L2) client of the CLOB for one wallet; answers parsed by ``wire``.

    It owns its HTTP connection (``SdkHttp``: pool, timeouts, test transport) and retries its
    reads under ``retry`` (the one read policy, ``RetryPolicy``); writes are sent once. Built
    without settings it uses the SDK's 5 s timeout and does not retry: use ``connect``.
    """

    def __init__(
        self,
        host: str,
        chain_id: int,
        credentials: Credentials,
        *,
        http: SdkHttp | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if credentials.api is None:
            raise ValueError("derive the API credentials first (derive_api_credentials)")
        api = credentials.api
        self._http = http if http is not None else SdkHttp()
        self._retry = retry or RetryPolicy(
            max_retries=0, timeout_seconds=self._http.timeout_seconds
        )
        self._sleep = sleep
        self._jitter = jitter
        self._chain_id = chain_id
        self._owner = api.api_key.get_secret_value()
        self._addresses = tuple({credentials.address, credentials.funds_address})
        self._client = sdk_client.ClobClient(
            host=host,
            chain_id=chain_id,
            key=credentials.private_key.get_secret_value(),
            creds=ApiCreds(
                api_key=self._owner,
                api_secret=api.secret.get_secret_value(),
                api_passphrase=api.passphrase.get_secret_value(),
            ),
            signature_type=credentials.signature_type,
            funder=credentials.funder,
            retry_on_error=False,  # writes are never resent blindly
        )
        # The SDK hands its signer's key to eth_account as hex text on every signature, which
        # re-derives the public key each time (a pure-Python curve multiplication, ~2 ms an
        # order); the parsed key object it accepts as well is derived once, here.
        signer = getattr(self._client, "signer", None)
        parsed = getattr(getattr(signer, "account", None), "_key_obj", None)
        if signer is not None and parsed is not None:
            signer.private_key = parsed

    @classmethod
    def connect(
        cls,
        settings: Settings,
        credentials: Credentials,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> Self:
        """A client of ``settings.clob_url`` on its own connection (``PM_HTTP_TIMEOUT_SECONDS``,
        ``PM_HEARTBEAT_TIMEOUT_SECONDS``; ``transport`` is the test seam) retrying reads by
        ``PM_HTTP_MAX_RETRIES``; the API credentials are derived first when absent."""
        http = SdkHttp.from_settings(settings, transport)
        if credentials.api is None:
            api = derive_api_credentials(
                settings.clob_url, settings.chain_id, credentials, http=http
            )
            credentials = credentials.with_api(api)
        retry = RetryPolicy.from_settings(settings)
        return cls(settings.clob_url, settings.chain_id, credentials, http=http, retry=retry)

    def __repr__(self) -> str:
        return f"TradingClient(host={self._client.host!r}, address={self.address})"

    def close(self) -> None:
        """Close this client's pooled connections (a later call opens new ones)."""
        self._http.close()

    @property
    def address(self) -> str:
        """The signer address."""
        return str(self._client.get_address())

    def _call(self, action: str, write: bool, fn: Callable[[], T]) -> T:
        """One SDK call on this client's connection, its failure mapped; never retried."""
        with self._http.active():
            try:
                return fn()
            except Exception as e:
                raise map_sdk_error(e, action=action, write=write) from e

    def _read(self, action: str, fn: Callable[[], T]) -> T:
        """An SDK read, retried under the read policy."""
        return self._retrying(action, lambda: self._call(action, False, fn))

    def _retrying(self, action: str, attempt: Callable[[], T]) -> T:
        """``attempt`` (reads only: nothing it does changes the venue) retried on
        ``RetryableError`` by ``RetryPolicy``, after the venue's Retry-After on a 429. Any other
        error (``RejectedByVenue``, ``BadVenueData``, ``ConfigurationError``) goes up at once."""
        retry = 0
        while True:
            try:
                return attempt()
            except RetryableError as e:
                delay = self._retry.delay_before_retry(retry, e, self._jitter())
                if delay is None:
                    raise
                log.info("retrying %s in %.2fs: %s", action, delay, e)
                self._sleep(delay)
                retry += 1

    # --- orders --------------------------------------------------------------------------
    def sign(self, request: OrderRequest) -> SignedOrder:
        """Sign ``request`` once as a limit-priced order of its type (no post).

        Only cached reads happen (GET /tick-size and /version, once per token and client). The
        amounts are checked to the micro-unit against exact Decimal arithmetic, because the SDK
        rounds through floats (``pm_lib.book_math`` module docstring, "SDK quirk").

        Tick changes inside a run (the venue moves a market to 0.001 near 0.04/0.96): the SDK
        caches a token's tick per client and refuses a finer one, so on that refusal the cached
        tick is dropped and read again. If the venue's tick is now coarser than the request's,
        an order whose price is still on the venue's grid is signed at the venue's tick; any
        other is refused before sending, with both ticks in the reason.
        """
        tick = _tick_text(request.tick_size)
        try:
            order = self._signed(request, tick)
        except _TickRefused:
            self._forget_tick(request.token_id)
            venue = self._read(
                "tick size", lambda: Decimal(self._client.get_tick_size(request.token_id))
            )
            if venue <= request.tick_size:  # the cache was stale: the request's tick is fine
                order = self._signed(request, tick)
            else:
                problem = (
                    f"price {request.price} is off the market's new grid"
                    if not is_valid_price(request.price, venue)
                    else precision_problem(
                        request.side, request.size, request.price, venue, request.order_type
                    )
                )
                if problem is not None:
                    raise RejectedByVenue(
                        f"sign order: the market's tick size is now {venue} (the order was "
                        f"priced for {request.tick_size}): {problem}; not sent"
                    ) from None
                order = self._signed(request, _tick_text(venue))
        return SignedOrder(
            self._order_hash(order, request.neg_risk), request, *_amounts(request), order
        )

    def _signed(self, request: OrderRequest, tick: str) -> SignedOrderV2:
        """``_create_order``, retried under the read policy: signing only reads (tick, fee,
        neg risk), so a read that failed in between can be signed again; nothing was sent."""
        return self._retrying("sign order", lambda: self._create_order(request, tick))

    def _create_order(self, request: OrderRequest, tick: str) -> SignedOrderV2:
        """The SDK's signed order at ``tick``, its amounts checked; ``_TickRefused`` when the
        SDK's cached tick for the token is coarser than ``tick``."""
        want = _amounts(request)
        args = OrderArgsV2(
            token_id=request.token_id,
            price=float(request.price),
            size=self._float_size(request, tick, want),
            side=request.side.value,
            expiration=int(request.expiration.timestamp()) if request.expiration else 0,
        )
        options = PartialCreateOrderOptions(tick_size=tick, neg_risk=request.neg_risk)
        try:
            with self._http.active():
                order = self._client.create_order(args, options)
        except PolyException as e:
            if _TICK_REFUSAL in str(e):
                raise _TickRefused(str(e)) from e
            raise map_sdk_error(e, action="sign order", write=False) from e
        except Exception as e:
            raise map_sdk_error(e, action="sign order", write=False) from e
        got = (int(order.makerAmount), int(order.takerAmount))
        if got != want:
            raise RejectedByVenue(f"SDK signed amounts {got}, expected {want}: not posting it")
        return order

    def _forget_tick(self, token_id: str) -> None:
        """Drop the SDK's cached tick of ``token_id`` so the next read asks the venue.

        The SDK (py-clob-client-v2 1.x) keeps it in the private ``ClobClient.__tick_sizes``
        dict with no way to refresh it; this adapter is the one place that knows.
        """
        cache = getattr(self._client, "_ClobClient__tick_sizes", None)
        if isinstance(cache, dict):
            cache.pop(token_id, None)

    def _float_size(self, request: OrderRequest, tick: str, want: tuple[int, int]) -> float:
        """The float size for which the SDK's float rounding yields exactly ``want``."""
        size = float(request.size)
        for _ in range(8):  # step up by ulps past the floor(x * 100) artefact
            _, maker, taker = self._client.builder.get_order_amounts(
                request.side.value, size, float(request.price), ROUNDING_CONFIG[tick]
            )
            if (maker, taker) == want:
                return size
            size = math.nextafter(size, math.inf)
        return float(request.size)  # the check after signing refuses it

    def _order_hash(self, order: SignedOrderV2, neg_risk: bool) -> str:
        config = get_contract_config(self._chain_id)
        exchange = config.neg_risk_exchange_v2 if neg_risk else config.exchange_v2
        builder = ExchangeOrderBuilderV2(exchange, self._chain_id, self._client.signer)
        return str(builder.build_order_hash(builder.build_order_typed_data(order)))

    def post(self, signed: SignedOrder) -> PostOrderAck:
        """POST /order once with ``defer_exec=True``. Never retried: see the module docstring.

        An answer that cannot be read is as ambiguous as none: ``OutcomeUnknown``.
        """
        req = signed.request
        post_only = req.post_only and req.order_type in (OrderType.GTC, OrderType.GTD)
        answer = self._call("post order", True, lambda: self._post_once(signed, post_only))
        try:
            ack = parse_post_order_response(answer)
        except BadVenueData as e:
            raise OutcomeUnknown(f"post order: unreadable answer ({e.reason})") from e
        if not ack.success:
            raise RejectedByVenue(f"post order: {ack.error_msg or 'success=false'}")
        return ack

    def post_many(self, signed: Sequence[SignedOrder]) -> list[PostOrderAck | VenueError]:
        """POST /orders once for up to ``MAX_BATCH_ORDERS`` orders (``defer_exec=True``), never
        retried. One outcome per order, in order: its ack, ``RejectedByVenue`` for an entry the
        venue refused, ``OutcomeUnknown`` for an entry that is missing or cannot be read.

        The request as a whole fails as ``post`` does: ``OutcomeUnknown`` when ambiguous (no
        answer, 5xx, an unreadable body: any order may have been placed), ``RejectedByVenue``,
        ``RateLimited`` or ``RetryableError`` when the venue took none of them.
        """
        if not 0 < len(signed) <= MAX_BATCH_ORDERS:
            raise ValueError(f"POST /orders takes 1 to {MAX_BATCH_ORDERS} orders")
        args = [
            PostOrdersV2Args(order=s.sdk_order, orderType=s.request.order_type.value)
            for s in signed
        ]
        answer = self._call(
            "post orders", True, lambda: self._client.post_orders(args, defer_exec=True)
        )
        if not isinstance(answer, list):
            raise OutcomeUnknown(f"post orders: unreadable answer {str(answer)[:40]!r}")
        outcomes: list[PostOrderAck | VenueError] = []
        for index, one in enumerate(signed):
            if index >= len(answer):
                outcomes.append(OutcomeUnknown("post orders: no answer for this order"))
                continue
            try:
                ack = parse_post_order_response(answer[index])
            except BadVenueData as e:
                outcomes.append(OutcomeUnknown(f"post orders: unreadable answer ({e.reason})"))
                continue
            if ack.success:
                outcomes.append(ack)
                continue
            text = ack.error_msg or "success=false"
            if _VENUE_TICK_REFUSAL in text:
                self._forget_tick(one.request.token_id)
            outcomes.append(RejectedByVenue(f"post order: {text}"))
        return outcomes

    def _post_once(self, signed: SignedOrder, post_only: bool) -> Any:
        try:
            return self._client.post_order(
                signed.sdk_order,
                signed.request.order_type.value,
                post_only=post_only,
                defer_exec=True,
            )
        except PolyApiException as e:
            if e.status_code == 400 and _VENUE_TICK_REFUSAL in _error_text(e):
                self._forget_tick(signed.request.token_id)  # the next sign reads the new tick
            raise

    def get_order(self, order_id: str) -> VenueOrder | None:
        """GET /data/order/{id}; None only on the venue's clear "not found" (404 or empty body).

        A fully filled FOK/FAK order may be missing here: look in trades (docs/VENUE.md 2.4). An
        answer that cannot be read (the SDK hands back the raw text of a garbled 200) is not a
        "not found": ``BadVenueData``, so nobody concludes the venue never had the order.
        """

        def lookup() -> Any:
            try:
                return self._client.get_order(order_id)
            except PolyApiException as e:
                if e.status_code == 404:
                    return None
                raise

        answer = self._read("get order", lookup)
        if answer is None or answer == "" or answer == {}:
            return None
        if not isinstance(answer, dict):
            raise BadVenueData("order", order_id, f"unreadable answer {str(answer)[:40]!r}")
        return parse_open_order(answer)

    def open_orders(self, order_id: str | None = None) -> list[VenueOrder]:
        """Every resting order of the account (all pages), or only ``order_id`` if it rests."""
        params = OpenOrderParams(id=order_id) if order_id else None
        rows = self._read("open orders", lambda: self._client.get_open_orders(params))
        if not isinstance(rows, list):
            raise BadVenueData("open orders", order_id or "", "unreadable answer")
        return [parse_open_order(row) for row in rows]

    def trades(
        self,
        *,
        after: datetime | None = None,
        trade_id: str | None = None,
        fees_for: Callable[[str], FeeSchedule | None] = lambda condition_id: None,
    ) -> list[Fill]:
        """Our fills in the account's trades (all pages), after a time or for one trade id.

        Trade rows carry no fee, so taker fills get the market's taker fee (``fees_for`` a
        condition id) charged per maker order matched, as the venue charges it
        (``pm_lib.book_math`` module docstring); maker fills pay none.
        """
        params = TradeParams(after=int(after.timestamp()) if after else None, id=trade_id)
        rows = self._read("trades", lambda: self._client.get_trades(params))
        fills: list[Fill] = []
        for row in rows:
            fills.extend(trade_row_fills(row, self._owner, self._addresses, fees_for))
        return fills

    @property
    def owner(self) -> str:
        """Our API key (the ``owner`` of our orders and trades)."""
        return self._owner

    @property
    def addresses(self) -> tuple[str, ...]:
        """Our signer and funder addresses."""
        return self._addresses

    def cancel(self, order_id: str) -> CancelResult:
        """DELETE /order for one id."""
        payload = OrderPayload(orderID=order_id)
        answer = self._call("cancel order", True, lambda: self._client.cancel_order(payload))
        return parse_cancel_response(answer)

    def cancel_all(self) -> CancelResult:
        """DELETE /cancel-all."""
        return parse_cancel_response(self._call("cancel all", True, self._client.cancel_all))

    def collateral(self) -> tuple[Decimal, dict[str, Decimal]]:
        """pUSD balance and allowances by spender, in pUSD (base units / 1e6)."""
        params = BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)
        answer = self._read("balance", lambda: self._client.get_balance_allowance(params))
        return parse_balance_allowance(answer)

    def heartbeat(self, heartbeat_id: str) -> str:
        """POST /v1/heartbeats; the id to send next.

        A stale id is refused with 400 and the id the venue expects (docs/VENUE.md 2.4); that id
        is returned so the chain resumes instead of failing.
        """
        try:
            with self._http.active():
                answer = self._client.post_heartbeat(heartbeat_id)
        except PolyApiException as e:
            expected = e.error_msg.get("heartbeat_id") if isinstance(e.error_msg, dict) else None
            if e.status_code == 400 and isinstance(expected, str):
                return expected
            raise map_sdk_error(e, action="heartbeat", write=True) from e
        except Exception as e:
            raise map_sdk_error(e, action="heartbeat", write=True) from e
        return str(answer.get("heartbeat_id", "")) if isinstance(answer, dict) else ""

    def shares(self, token_id: str) -> Decimal:
        """Shares of ``token_id`` the wallet holds (GET /balance-allowance, CONDITIONAL)."""
        params = BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=token_id)
        answer = self._read("shares", lambda: self._client.get_balance_allowance(params))
        return parse_balance_allowance(answer)[0]

    def market_info(self, condition_id: str) -> ClobMarketInfo:
        """GET /clob-markets/{condition_id}: tick, minimum size, neg risk and fee schedule."""
        answer = self._read("market info", lambda: self._client.get_clob_market_info(condition_id))
        return parse_clob_market_info(answer)


def trade_row_fills(
    row: Any,
    owner: str,
    addresses: Iterable[str],
    fees_for: Callable[[str], FeeSchedule | None],
) -> list[Fill]:
    """Our fills in one trade row (``/data/trades`` or a user-channel ``trade`` event), taker
    fills charged the market's taker fee per maker order matched."""
    fills: list[Fill] = []
    for fill in parse_trade(row, owner=owner, addresses=addresses):
        if fill.is_taker:
            fill = fill.model_copy(
                update={"fee": _taker_fee(row, fill, fees_for(fill.condition_id))}
            )
        fills.append(fill)
    return fills


def _taker_fee(row: Any, fill: Fill, fees: FeeSchedule | None) -> Decimal:
    """The taker fee of one trade row: summed per maker order matched, each priced in the
    taker's token (a maker on the complementary token trades at 1 - its price)."""
    try:
        total = ZERO
        for entry in row.get("maker_orders") or ():
            price = to_decimal(entry["price"])
            own = price if entry.get("asset_id") == fill.token_id else ONE - price
            total += taker_fee(to_decimal(entry["matched_amount"]), own, fees)
    except (AttributeError, KeyError, TypeError, ValueError):
        return taker_fee(fill.size, fill.price, fees)  # no usable maker detail: one match
    return total


def collateral_spenders(chain_id: int) -> dict[str, str]:
    """The contracts that must be allowed to move the wallet's pUSD, by name (SDK config)."""
    config = get_contract_config(chain_id)
    return {
        "exchange": config.exchange_v2,
        "neg_risk_exchange": config.neg_risk_exchange_v2,
        "neg_risk_adapter": config.neg_risk_adapter,
    }


def venue_time(host: str, http: SdkHttp | None = None) -> int:
    """GET /time (public): the venue's clock in unix seconds."""
    answer = _public_get(host, "/time", http)
    if isinstance(answer, dict):
        answer = answer.get("time") or answer.get("timestamp")
    try:
        return int(str(answer))
    except ValueError:
        raise BadVenueData("time", str(answer)[:40], "not integer seconds") from None


def venue_version(host: str, http: SdkHttp | None = None) -> int:
    """GET /version (public): the CLOB protocol version (2 since 2026-04-28)."""
    answer = _public_get(host, "/version", http)
    if not isinstance(answer, dict) or not isinstance(answer.get("version"), int):
        raise BadVenueData("version", str(answer)[:40], "expected {'version': <int>}")
    return int(answer["version"])


@contextmanager
def _on(http: SdkHttp | None) -> Iterator[None]:
    """SDK calls of a module function on ``http``, or on a connection of its own (closed after)
    with the SDK's default timeout."""
    own = http is None
    connection = SdkHttp() if http is None else http
    try:
        with connection.active():
            yield
    finally:
        if own:
            connection.close()


def _public_get(host: str, path: str, http: SdkHttp | None) -> Any:
    try:
        with _on(http):
            return sdk_http.get(f"{host.rstrip('/')}{path}")
    except Exception as e:
        raise map_sdk_error(e, action=f"GET {path}", write=False) from e


def derive_api_credentials(
    host: str, chain_id: int, credentials: Credentials, *, http: SdkHttp | None = None
) -> ApiCredentials:
    """L1 ``create_or_derive_api_key``: the API credentials bound to the private key (on
    ``http``, or a connection with the SDK's default timeout)."""
    l1 = sdk_client.ClobClient(
        host=host, chain_id=chain_id, key=credentials.private_key.get_secret_value()
    )
    try:
        with _on(http):
            creds = l1.create_or_derive_api_key()
    except Exception as e:
        raise map_sdk_error(e, action="derive API key", write=False) from e
    return ApiCredentials(
        api_key=SecretStr(creds.api_key),
        secret=SecretStr(creds.api_secret),
        passphrase=SecretStr(creds.api_passphrase),
    )
