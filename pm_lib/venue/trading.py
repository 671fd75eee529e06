"""The single adapter around Polymarket's unified SDK (``polymarket-client``): sign, post,
cancel, orders, trades, balance, heartbeats.

Nothing else in pm-agent's live path imports ``polymarket`` for trading; the SDK's private parts
are reached only through ``pm_lib.venue.sdk_client`` and ``pm_lib.venue.sdk_environment``. Every
SDK or httpx error is mapped here to the ``pm_lib.errors`` tree (``raise ... from e``), and every
venue answer is parsed here by ``pm_lib.venue.wire``.

Error mapping (docs/VENUE.md 2.4):

    no HTTP status (timeout, dropped connection)  write -> OutcomeUnknown   read -> RetryableError
    5xx, or an answer that cannot be read          write -> OutcomeUnknown   read -> RetryableError
    429                                            RateLimited (never resent for a write)
    425 (matching engine restarting)               RetryableError (the write was not taken)
    503 code post_only_mode (after a restart)      RetryableError (the write was not taken)
    4xx "not enough balance / allowance"           InsufficientFunds
    other 4xx, SDK-side validation                 RejectedByVenue

What the SDK does here: the wallet (``SecureClient.create`` classifies it from the signer and the
funder: EOA, proxy, Safe or deposit wallet, and must agree with ``POLYMARKET_SIGNATURE_TYPE``),
the API credentials (checked, or derived), order signing with Decimal price and size
(``create_limit_order``), the L2 HMAC headers of every authenticated request, the body of
POST /order, heartbeats. What stays here: the exact amounts check, the order hash (computed and
checked against the signature before the post), and the reading of answers (raw JSON through the
SDK's authenticated transport, parsed by ``wire``: one parser of venue answers, with the venue's
quirks it knows).

Each ``TradingClient`` owns its connection (``SdkHttp``: ``PM_HTTP_TIMEOUT_SECONDS``, heartbeats
``PM_HEARTBEAT_TIMEOUT_SECONDS``, and for tests a transport); the SDK client is opened on it at
the first call. Reads are retried under the one read policy (``pm_lib.venue.http.RetryPolicy``,
``PM_HTTP_MAX_RETRIES``); writes are sent once (the SDK retries nothing on the CLOB:
``pm_lib.venue.sdk_client`` module docstring); ``post_many`` sends up to 15 signed orders in
one ``POST /orders``. Callers on an event loop run these methods in a thread
(``execution.base.run_off_loop``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from polymarket.errors import (
    OrderHeartbeatMismatchError,
    RateLimitError,
    RequestRejectedError,
    SigningError,
    TransportError,
    UnexpectedResponseError,
    UserInputError,
)
from pydantic import SecretStr

from pm_lib.auth import ApiCredentials, Credentials
from pm_lib.book_math import order_amounts, taker_fee, to_micro_units
from pm_lib.errors import (
    BadVenueData,
    ConfigurationError,
    InsufficientFunds,
    OutcomeUnknown,
    PmAgentError,
    RateLimited,
    RejectedByVenue,
    RetryableError,
    VenueError,
)
from pm_lib.models import ONE, ZERO, FeeSchedule, Fill, OrderRequest, OrderType
from pm_lib.redaction import redact_exception
from pm_lib.settings import Settings
from pm_lib.venue.http import RetryPolicy
from pm_lib.venue.sdk_client import (
    DEFAULT_HEARTBEAT_TIMEOUT,
    DEFAULT_TIMEOUT,
    HEARTBEAT_PATHS,
    SIGNATURE_TYPE_OF_WALLET,
    SdkHttp,
    authenticated_clob,
    post_order_raw,
    post_orders_raw,
    refresh_market_metadata,
    secure_client,
    signed_for_neg_risk,
)
from pm_lib.venue.sdk_environment import sdk_environment, venue_contracts, venue_endpoints
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
from pm_lib.venue.wire_fields import TICK_SIZES

if TYPE_CHECKING:
    from polymarket import Environment, SecureClient
    from polymarket.clients._transport import SyncTransport
    from polymarket.models.clob.orders import SignedOrder as SdkSignedOrder

__all__ = [
    "DEFAULT_HEARTBEAT_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "HEARTBEAT_PATHS",
    "MAX_BATCH_ORDERS",
    "SdkHttp",
    "SignedOrder",
    "TradingClient",
    "collateral_spenders",
    "derive_api_credentials",
    "is_protocol_v2_position",
    "map_sdk_error",
    "order_hash",
    "trade_row_fills",
    "venue_time",
    "venue_version",
]

_FUNDS_MARKERS = ("not enough balance", "allowance", "insufficient")

MAX_BATCH_ORDERS = 15
"""Orders one ``POST /orders`` takes (docs/VENUE.md 3.3)."""

T = TypeVar("T")

log = logging.getLogger(__name__)

_NOT_TAKEN_CODES = frozenset({"post_only_mode", "cancel_only_mode", "trading_disabled"})
"""503 codes that refuse a write outright (after a matching-engine restart, docs/VENUE.md 2.4)."""
_NOT_TAKEN_RESTRICTIONS = frozenset({"post_only", "cancel_only"})


def _no_response(e: TransportError) -> str:
    cause = e.__cause__
    return f"no response ({type(cause).__name__})" if cause is not None else "no response"


def map_sdk_error(e: Exception, *, action: str, write: bool) -> VenueError:
    """The ``pm_lib.errors`` exception for an SDK/httpx failure of ``action``.

    ``e`` and every exception chained under it are scrubbed of credentials first (the HTTP
    library quotes an illegal header value): the message built here, and any traceback of the
    error raised ``from e``, never carry one (``pm_lib.redaction``).
    """
    redact_exception(e)
    if isinstance(e, RateLimitError):
        return RateLimited(f"{action}: rate limited ({e})", retry_after=e.retry_after)
    if isinstance(e, RequestRejectedError):
        status = e.status
        text = str(e)
        if status == 503 and (
            e.code in _NOT_TAKEN_CODES or e.restriction in _NOT_TAKEN_RESTRICTIONS
        ):
            return RetryableError(f"{action}: not taken now ({text})", status_code=status)
        if status >= 500:
            if write:
                return OutcomeUnknown(f"{action}: HTTP {status} ({text})", status_code=status)
            return RetryableError(f"{action}: HTTP {status} ({text})", status_code=status)
        if status == 429:
            return RateLimited(f"{action}: rate limited ({text})", retry_after=e.retry_after)
        if status == 425:
            return RetryableError(f"{action}: matching engine restarting ({text})", status_code=425)
        if any(marker in text.lower() for marker in _FUNDS_MARKERS):
            return InsufficientFunds(f"{action}: {text}", status_code=status)
        return RejectedByVenue(f"{action}: {text}", status_code=status)
    if isinstance(e, TransportError):
        if write:
            return OutcomeUnknown(f"{action}: {_no_response(e)}")
        return RetryableError(f"{action}: {_no_response(e)}")
    if isinstance(e, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError):
        if write:
            return OutcomeUnknown(f"{action}: {type(e).__name__}")
        return RetryableError(f"{action}: {type(e).__name__}")
    if isinstance(e, UnexpectedResponseError):
        if write:
            return OutcomeUnknown(f"{action}: unreadable answer ({e})")
        return RetryableError(f"{action}: unreadable answer ({e})")
    if isinstance(e, UserInputError | SigningError | ValueError):
        # Raised by the SDK before anything was sent (bad tick, price out of range, ...).
        return RejectedByVenue(f"{action}: refused by the SDK before sending: {e}")
    if not write and isinstance(e, TypeError | KeyError | AttributeError):
        # Walking pages of an answer that could not be decoded (read as raw text).
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
    sdk_order: SdkSignedOrder


_VENUE_TICK_REFUSAL = "minimum tick size"  # the venue: "... breaks minimum tick size rule: 0.01"


def _amounts(request: OrderRequest) -> tuple[int, int]:
    """(maker, taker) amounts of ``request`` in micro-units, exact."""
    maker, taker = order_amounts(request.side, request.size, request.price)
    return to_micro_units(maker), to_micro_units(taker)


# EIP-712 of a CTF Exchange V2 order (the venue's order id is this digest).
_DOMAIN_TYPE_HASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_ORDER_TYPE_HASH = keccak(
    text="Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,"
    "uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,"
    "bytes32 builder)"
)
_EXCHANGE_NAME = keccak(text="Polymarket CTF Exchange")
_EXCHANGE_VERSION = keccak(text="2")


def _bytes32(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x").removeprefix("0X"))


def _digest_parts(order: SdkSignedOrder, exchange: str, chain_id: int) -> tuple[bytes, bytes]:
    """(domain separator, struct hash) of ``order`` in ``exchange``'s EIP-712 domain."""
    domain = keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [_DOMAIN_TYPE_HASH, _EXCHANGE_NAME, _EXCHANGE_VERSION, chain_id, exchange],
        )
    )
    fields = [
        (_ORDER_TYPE_HASH, "bytes32"),
        (order.salt, "uint256"),
        (order.maker, "address"),
        (order.signer, "address"),
        (int(order.token_id), "uint256"),
        (order.maker_amount, "uint256"),
        (order.taker_amount, "uint256"),
        (0 if order.side == "BUY" else 1, "uint8"),
        (order.signature_type, "uint8"),
        (order.timestamp, "uint256"),
        (_bytes32(order.metadata), "bytes32"),
        (_bytes32(order.builder), "bytes32"),
    ]
    struct = keccak(abi_encode([t for _, t in fields], [v for v, _ in fields]))
    return domain, struct


def order_hash(order: SdkSignedOrder, exchange: str, chain_id: int) -> str:
    """The EIP-712 digest of ``order`` in ``exchange``'s domain: the venue's order id."""
    domain, struct = _digest_parts(order, exchange, chain_id)
    return "0x" + keccak(b"\x19\x01" + domain + struct).hex()


_V2_POSITION_BITS = ((1 << 64) - 1) << 40


def is_protocol_v2_position(token_id: str) -> bool:
    """True when the unified SDK reads ``token_id`` as a protocol-v2 position id (bits 40-103
    all zero) and would sign it for the v3 exchange, not the CTF exchange the venue's V2 order
    book uses. A CTF token id (a keccak hash) is never one in practice."""
    try:
        return int(token_id) & _V2_POSITION_BITS == 0
    except ValueError:
        return False


def _decode(content: bytes) -> Any:
    """A venue answer: its JSON, ``""`` when empty, else its text (the caller's parser decides
    what an unreadable answer means)."""
    if not content.strip():
        return ""
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")


_FIRST_PAGE, _LAST_PAGE = "MA==", "LTE="
_MAX_PAGES = 1000


def _endpoints_settings(host: str, chain_id: int) -> Settings:
    """Settings naming only ``host`` and ``chain_id`` (the other venue URLs beside it)."""
    return Settings.model_construct(clob_url=host, chain_id=chain_id)


class TradingClient:
    """One authenticated (L2) client of the CLOB for one wallet; answers parsed by ``wire``.

    It owns its HTTP connection (``SdkHttp``: pool, timeouts, test transport) and retries its
    reads under ``retry`` (the one read policy, ``RetryPolicy``); writes are sent once. Built
    without settings it uses a 5 s timeout and does not retry: use ``connect``. The SDK client
    is opened on the first call that needs it (the API-key check is a request, and an open that
    fails is a failed read of that call, not a crash of the constructor).
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
        settings: Settings | None = None,
    ) -> None:
        if credentials.api is None:
            raise ValueError("derive the API credentials first (derive_api_credentials)")
        self._credentials = credentials
        self._http = http if http is not None else SdkHttp()
        self._retry = retry or RetryPolicy(
            max_retries=0, timeout_seconds=self._http.timeout_seconds
        )
        self._sleep = sleep
        self._jitter = jitter
        self._host = host.rstrip("/")
        self._chain_id = chain_id
        self._environment: Environment = sdk_environment(
            venue_endpoints(settings or _endpoints_settings(host, chain_id))
        )
        self._contracts = venue_contracts()
        self._owner = credentials.api.api_key.get_secret_value()
        self._addresses = tuple({credentials.address, credentials.funds_address})
        self._sdk_client: SecureClient | None = None
        self._opening = threading.Lock()

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
                settings.clob_url, settings.chain_id, credentials, http=http, settings=settings
            )
            credentials = credentials.with_api(api)
        retry = RetryPolicy.from_settings(settings)
        return cls(
            settings.clob_url,
            settings.chain_id,
            credentials,
            http=http,
            retry=retry,
            settings=settings,
        )

    def __repr__(self) -> str:
        return f"TradingClient(host={self._host!r}, address={self.address})"

    def close(self) -> None:
        """Close this client's pooled connections (a later call opens new ones)."""
        self._http.close()

    @property
    def address(self) -> str:
        """The signer address."""
        return self._credentials.address

    @property
    def wallet_type(self) -> str:
        """The wallet kind the SDK detected (EOA, POLY_PROXY, GNOSIS_SAFE, DEPOSIT_WALLET); opens
        the SDK client (``ConfigurationError`` when it is not the configured signature type)."""
        return str(self._sdk.wallet_type)

    @property
    def _sdk(self) -> SecureClient:
        """The SDK client, opened once on this client's connection (a failed open is retried
        under the read policy: it only reads)."""
        if self._sdk_client is None:
            with self._opening:
                if self._sdk_client is None:
                    self._sdk_client = self._retrying("open SDK client", self._open)
        return self._sdk_client

    def _open(self) -> SecureClient:
        try:
            client = secure_client(self._environment, self._credentials, http=self._http)
        except Exception as e:
            raise map_sdk_error(e, action="open SDK client", write=False) from e
        want = self._credentials.signature_type
        got = SIGNATURE_TYPE_OF_WALLET.get(client.wallet_type)
        if got != want:
            client.close()
            raise ConfigurationError(
                f"the SDK reads wallet {self._credentials.funds_address} as {client.wallet_type} "
                f"(signature type {got}), not signature type {want}: check POLYMARKET_FUNDER and "
                "POLYMARKET_SIGNATURE_TYPE"
            )
        api = self._credentials.api
        used = client.credentials
        if api is None or (used.key, used.secret, used.passphrase) != (
            api.api_key.get_secret_value(),
            api.secret.get_secret_value(),
            api.passphrase.get_secret_value(),
        ):
            # The SDK found the configured credentials inactive and derived the signer's own;
            # configured credentials are never replaced silently.
            client.close()
            raise ConfigurationError(
                "the venue does not accept the configured API credentials (Unauthorized): fix "
                "POLYMARKET_API_KEY/SECRET/PASSPHRASE, or unset them to derive them from the key"
            )
        return client

    def _clob(self) -> SyncTransport:
        return authenticated_clob(self._sdk)

    def _call(self, action: str, write: bool, fn: Callable[[], T]) -> T:
        """One SDK call on this client's connection, its failure mapped; never retried."""
        try:
            return fn()
        except PmAgentError:
            raise
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

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` (authenticated) once: its decoded answer (``_decode``)."""
        return _decode(self._clob().get_bytes(path, params=params))

    def _pages(self, path: str, params: dict[str, Any]) -> list[Any]:
        """Every row of a cursor-paged list (``next_cursor``: ``MA==`` first, ``LTE=`` done)."""
        rows: list[Any] = []
        cursor = _FIRST_PAGE
        for _ in range(_MAX_PAGES):
            page = self._get(path, {**params, "next_cursor": cursor})
            rows.extend(page["data"])
            cursor = page.get("next_cursor") or _LAST_PAGE
            if cursor == _LAST_PAGE:
                return rows
        raise RetryableError(f"{path}: more than {_MAX_PAGES} pages")

    # --- orders --------------------------------------------------------------------------
    def sign(self, request: OrderRequest) -> SignedOrder:
        """Sign ``request`` once as a limit-priced order of its type (no post).

        The SDK signs with Decimal price and size (no float boundary) and reads only the
        market's cached metadata (tick, neg risk: ``GET /markets-by-token``, ``/clob-markets``,
        once per token and client). The amounts are checked to the micro-unit against exact
        Decimal arithmetic, and the order hash is computed here, in the domain of the exchange
        the SDK signed for (its cached neg-risk flag must be the catalogue's), before anything
        is sent.

        Tick changes inside a run (the venue moves a market to 0.001 near 0.04/0.96): a price
        off the SDK's cached grid makes it read the market again; a price still off the
        venue's grid then is refused before sending, with the venue's tick in the reason.
        """
        if request.tick_size not in TICK_SIZES:
            raise RejectedByVenue(
                f"tick size {request.tick_size} is not one of the venue's "
                f"{[str(t) for t in TICK_SIZES]}"
            )
        if is_protocol_v2_position(request.token_id):
            raise RejectedByVenue(
                f"sign order: the SDK reads token {request.token_id} as a protocol-v2 position "
                "(it would sign for another exchange); not sent"
            )
        order = self._retrying("sign order", lambda: self._create_order(request))
        signed_neg_risk = self._read(
            "neg risk", lambda: signed_for_neg_risk(self._sdk, request.token_id)
        )
        if signed_neg_risk != request.neg_risk:
            raise RejectedByVenue(
                f"sign order: the venue's neg-risk flag of token {request.token_id} is "
                f"{signed_neg_risk}, the catalogue's {request.neg_risk}; not sent"
            )
        exchange = self._contracts.exchange_for(request.neg_risk)
        return SignedOrder(
            order_hash(order, exchange, self._chain_id), request, *_amounts(request), order
        )

    def _create_order(self, request: OrderRequest) -> SdkSignedOrder:
        """The SDK's signed order for ``request``, its amounts checked. Only the order type and
        expiration are set after signing: neither is part of the signed V2 order struct."""
        want = _amounts(request)
        post_only = request.post_only and request.order_type in (OrderType.GTC, OrderType.GTD)
        try:
            order = self._sdk.create_limit_order(
                token_id=request.token_id,
                price=request.price,
                size=request.size,
                side=request.side.value,
                post_only=post_only,
            )
        except UserInputError as e:
            raise RejectedByVenue(
                f"sign order: {e} (the order was priced for tick {request.tick_size}); not sent"
            ) from e
        except PmAgentError:
            raise
        except Exception as e:
            raise map_sdk_error(e, action="sign order", write=False) from e
        order = dataclasses.replace(
            order,
            order_type=request.order_type.value,
            expiration=int(request.expiration.timestamp()) if request.expiration else 0,
        )
        got = (order.maker_amount, order.taker_amount)
        if got != want:
            raise RejectedByVenue(f"SDK signed amounts {got}, expected {want}: not posting it")
        return order

    def _forget_tick(self, token_id: str) -> None:
        """Make the SDK re-read ``token_id``'s market now (its tick changed under us)."""
        try:
            self._read("tick size", lambda: refresh_market_metadata(self._sdk, token_id))
        except VenueError as e:
            log.info("could not refresh the tick of %s: %s", token_id, e)

    def post(self, signed: SignedOrder) -> PostOrderAck:
        """POST /order once, the body the SDK's ``post_order`` sends. Never retried: see the
        module docstring. An answer that cannot be read is as ambiguous as none:
        ``OutcomeUnknown``."""
        try:
            answer = post_order_raw(self._sdk, signed.sdk_order)
        except RequestRejectedError as e:
            if e.status == 400 and _VENUE_TICK_REFUSAL in str(e):
                self._forget_tick(signed.request.token_id)  # the next sign reads the new tick
            raise map_sdk_error(e, action="post order", write=True) from e
        except PmAgentError:
            raise
        except Exception as e:
            raise map_sdk_error(e, action="post order", write=True) from e
        try:
            ack = parse_post_order_response(answer)
        except BadVenueData as e:
            raise OutcomeUnknown(f"post order: unreadable answer ({e.reason})") from e
        if not ack.success:
            raise RejectedByVenue(f"post order: {ack.error_msg or 'success=false'}")
        return ack

    def post_many(self, signed: Sequence[SignedOrder]) -> list[PostOrderAck | VenueError]:
        """POST /orders once for up to ``MAX_BATCH_ORDERS`` orders, the body the SDK's
        ``post_orders`` sends, never retried. One outcome per order, in order: its ack,
        ``RejectedByVenue`` for an entry the venue refused, ``OutcomeUnknown`` for an entry that
        is missing or cannot be read.

        The request as a whole fails as ``post`` does: ``OutcomeUnknown`` when ambiguous (no
        answer, 5xx, an unreadable body: any order may have been placed), ``RejectedByVenue``,
        ``RateLimited`` or ``RetryableError`` when the venue took none of them.
        """
        if not 0 < len(signed) <= MAX_BATCH_ORDERS:
            raise ValueError(f"POST /orders takes 1 to {MAX_BATCH_ORDERS} orders")
        try:
            answer = post_orders_raw(self._sdk, [s.sdk_order for s in signed])
        except PmAgentError:
            raise
        except Exception as e:
            raise map_sdk_error(e, action="post orders", write=True) from e
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

    def get_order(self, order_id: str) -> VenueOrder | None:
        """GET /data/order/{id}; None only on the venue's clear "not found" (404 or empty body).

        A fully filled FOK/FAK order may be missing here: look in trades (docs/VENUE.md 2.4). An
        answer that cannot be read is not a "not found": ``BadVenueData``, so nobody concludes
        the venue never had the order.
        """

        def lookup() -> Any:
            try:
                return self._get(f"/data/order/{order_id}")
            except RequestRejectedError as e:
                if e.status == 404:
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
        params = {"id": order_id} if order_id else {}
        rows = self._read("open orders", lambda: self._pages("/data/orders", params))
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
        params: dict[str, Any] = {}
        if after is not None:
            params["after"] = int(after.timestamp())
        if trade_id is not None:
            params["id"] = trade_id
        rows = self._read("trades", lambda: self._pages("/data/trades", params))
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
        answer = self._call(
            "cancel order",
            True,
            lambda: self._clob().delete_json("/order", json={"orderID": order_id}),
        )
        return parse_cancel_response(answer)

    def cancel_all(self) -> CancelResult:
        """DELETE /cancel-all."""
        answer = self._call("cancel all", True, lambda: self._clob().delete_json("/cancel-all"))
        return parse_cancel_response(answer)

    def _balance(self, asset_type: str, token_id: str | None = None) -> Any:
        params: dict[str, Any] = {
            "asset_type": asset_type,
            "signature_type": self._credentials.signature_type,
        }
        if token_id is not None:
            params["token_id"] = token_id
        return self._get("/balance-allowance", params)

    def collateral(self) -> tuple[Decimal, dict[str, Decimal]]:
        """pUSD balance and allowances by spender, in pUSD (base units / 1e6)."""
        answer = self._read("balance", lambda: self._balance("COLLATERAL"))
        return parse_balance_allowance(answer)

    def heartbeat(self, heartbeat_id: str) -> str:
        """POST /v1/heartbeats (the SDK's ``send_order_heartbeat``); the id to send next.

        A stale id is refused with 400 and the id the venue expects (docs/VENUE.md 2.4); that id
        is returned so the chain resumes instead of failing.
        """
        try:
            return self._sdk.send_order_heartbeat(heartbeat_id=heartbeat_id).heartbeat_id
        except OrderHeartbeatMismatchError as e:
            return e.heartbeat_id
        except PmAgentError:
            raise
        except Exception as e:
            raise map_sdk_error(e, action="heartbeat", write=True) from e

    def shares(self, token_id: str) -> Decimal:
        """Shares of ``token_id`` the wallet holds (GET /balance-allowance, CONDITIONAL)."""
        answer = self._read("shares", lambda: self._balance("CONDITIONAL", token_id))
        return parse_balance_allowance(answer)[0]

    def market_info(self, condition_id: str) -> ClobMarketInfo:
        """GET /clob-markets/{condition_id}: tick, minimum size, neg risk and fee schedule."""
        answer = self._read("market info", lambda: self._get(f"/clob-markets/{condition_id}"))
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
    """The contracts that must be allowed to move the wallet's pUSD, by name (SDK config; the
    same on every chain id pm-agent signs for)."""
    contracts = venue_contracts()
    return {
        "exchange": contracts.exchange,
        "neg_risk_exchange": contracts.neg_risk_exchange,
        "neg_risk_adapter": contracts.neg_risk_adapter,
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


def _public_get(host: str, path: str, http: SdkHttp | None) -> Any:
    """One public GET on ``http`` (or a connection of its own, closed after)."""
    connection = SdkHttp() if http is None else http
    try:
        with connection.client(host.rstrip("/")) as client:
            response = client.get(path)
            if response.status_code >= 400:
                raise RequestRejectedError(
                    response.text[:200] or f"HTTP {response.status_code}",
                    status=response.status_code,
                )
            return _decode(response.content)
    except PmAgentError:
        raise
    except Exception as e:
        raise map_sdk_error(e, action=f"GET {path}", write=False) from e
    finally:
        if http is None:
            connection.close()


def derive_api_credentials(
    host: str,
    chain_id: int,
    credentials: Credentials,
    *,
    http: SdkHttp | None = None,
    settings: Settings | None = None,
) -> ApiCredentials:
    """L1 ``create_or_derive_api_key`` (the SDK's, as it opens a client without credentials):
    the API credentials bound to the private key (on ``http``, or a connection of its own).
    The signer's own address is the wallet here: the key belongs to the signer, and no relayer
    is asked about a proxy or deposit wallet just to derive it."""
    environment = sdk_environment(venue_endpoints(settings or _endpoints_settings(host, chain_id)))
    connection = SdkHttp() if http is None else http
    bare = credentials.model_copy(update={"api": None})
    try:
        with secure_client(
            environment, bare, wallet=credentials.address, http=connection
        ) as client:
            creds = client.credentials
    except Exception as e:
        raise map_sdk_error(e, action="derive API key", write=False) from e
    finally:
        if http is None:
            connection.close()
    return ApiCredentials(
        api_key=SecretStr(creds.key),
        secret=SecretStr(creds.secret),
        passphrase=SecretStr(creds.passphrase),
    )
