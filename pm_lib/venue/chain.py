"""The chain side of the venue: merge, redeem, balances and lookups, through the unified SDK.

This is the only module that calls the SDK's ``merge_positions``, ``redeem_positions`` and the
balance reads of the wallet (``pm_lib.settlement.live`` journals around it). The SDK sends them
the way the wallet needs: an EOA (signature type 0) signs and broadcasts an on-chain transaction
through the JSON-RPC node (``eth_sendRawTransaction``); a proxy, Safe or deposit wallet (types
1-3) signs a relayer payload and posts it to the relayer (``POST /submit``) with the relayer API
key.

Learning the handle before the bytes leave
------------------------------------------
The SDK's high-level calls return their handle (the transaction hash, the relayer transaction
id) only once the venue answered: a lost answer would leave nothing to look up. pm-agent keeps
the SDK's own calls (contract encoding, adapter choice for neg-risk markets, nonce, gas,
signing, the per-wallet payloads are the SDK's, not a copy) and watches the two requests that
commit an action, with an httpx request hook on the SDK's RPC and relayer connections:

- ``eth_sendRawTransaction``: the signed raw transaction is in the request; its hash is
  ``keccak(raw)`` and its nonce is in its RLP body. Both are handed to ``on_send`` (which
  journals and commits them) before httpx writes the request. A lost answer is then resolved by
  the receipt of that hash, else by the wallet's nonce (used by another transaction: ours can
  never land; unknown to the node and unused: it never arrived, and the next attempt signs with
  the same nonce, so at most one of the two can ever execute).
- relayer ``POST /submit``: the payload's nonce and signature are handed to ``on_send`` the same
  way. A lost answer is resolved by the relayer's list of the key owner's transactions
  (``GET /transactions``, the relayer API key's own read): the one carrying our signature (else
  our nonce) gives the relayer transaction id and its state; none means it never arrived, and
  the next attempt signs with the same nonce again. (The relayer nonce alone cannot tell: a
  deposit wallet's nonce is its on-chain one and does not move while a transaction is pending,
  and a transaction the relayer took may revert without moving the wallet's balances.)

If ``on_send`` raises (the journal could not be written) the request is not sent. An action the
SDK sends as several EOA transactions (Protocol V2 positions: one redeem per outcome) would
journal only the last; pm-agent trades Protocol V1 markets only (the risk gate's
``market_tradable``), whose merge and redeem are one call each.

The hook, the RPC and relayer connections and the call builders used for balance reads are
private to polymarket-client 0.14.0 (as ``sdk_environment``'s hook is): they are reached here
only, and ``tests/venue/test_chain_adapter.py`` fails loudly if an upgrade moves them.

Neg-risk: ``merge_positions`` merges the YES and NO of one market (the SDK routes a neg-risk
market through its collateral adapter). pm-agent merges complete binary sets only; it does not
convert neg-risk NO positions (a basket of one YES per outcome is held to resolution and
redeemed), see docs/OPERATIONS.md.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx
import rlp
from eth_utils.crypto import keccak

from pm_lib.auth import Credentials
from pm_lib.settings import Settings
from pm_lib.venue.sdk_client import SIGNATURE_TYPE_OF_WALLET, open_secure_client

if TYPE_CHECKING:
    from polymarket import RelayerApiKey, SecureClient

__all__ = [
    "AMBIGUOUS",
    "EXPECTED_WALLET_TYPES",
    "REFUSED",
    "ChainClient",
    "ChainOutcome",
    "SendHandle",
    "Submission",
    "classify_error",
    "derived_wallet_type",
    "open_chain_client",
    "relayer_api_key",
    "relayer_deployed",
    "rpc_chain_id",
]

MICRO_UNITS = 1_000_000
AMBIGUOUS = "ambiguous"
REFUSED = "refused"
_PUSD_BALANCE_OF = "0x70a08231"  # balanceOf(address)


@dataclass(frozen=True, slots=True)
class SendHandle:
    """What is known of an action as its bytes are about to leave: the nonce always, the
    transaction hash for an EOA, the payload's signature for a relayer wallet."""

    nonce: str
    tx_hash: str | None = None
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class Submission:
    """The venue's answer to a send: the transaction hash and/or relayer transaction id."""

    tx_hash: str | None
    relayer_tx_id: str | None


@dataclass(frozen=True, slots=True)
class ChainOutcome:
    """A lookup's verdict: ``confirmed``, ``failed`` (with why) or ``pending``."""

    state: Literal["confirmed", "failed", "pending"]
    tx_hash: str | None = None
    detail: str | None = None
    relayer_tx_id: str | None = None


def _raw_transaction_handle(raw_hex: str) -> SendHandle:
    raw = bytes.fromhex(raw_hex.removeprefix("0x"))
    body = rlp.decode(raw[1:]) if raw and raw[0] < 0x7F else rlp.decode(raw)
    # legacy: [nonce, ...]; typed (EIP-2718): [chainId, nonce, ...]
    nonce_field = body[1] if raw and raw[0] < 0x7F else body[0]
    return SendHandle(
        nonce=str(int.from_bytes(nonce_field, "big")), tx_hash="0x" + keccak(raw).hex()
    )


def classify_error(error: BaseException) -> str:
    """``refused`` when the venue answered no (a 4xx, a JSON-RPC error, a revert), else
    ``ambiguous`` (a timeout, a lost or malformed answer, a 5xx): the action may have happened
    and is looked up, never sent again."""
    from polymarket.errors import (
        RequestRejectedError,
        SigningError,
        TransactionFailedError,
        UserInputError,
    )

    if isinstance(error, TransactionFailedError | UserInputError | SigningError):
        return REFUSED
    if isinstance(error, RequestRejectedError):
        status = getattr(error, "status", 500)
        return REFUSED if status < 500 else AMBIGUOUS
    return AMBIGUOUS


class ChainClient:
    """One SDK client for the wallet's chain actions, with the send hook installed."""

    def __init__(self, client: SecureClient) -> None:
        self._client = client
        self._ctx: Any = client._ctx  # private: see module docstring
        self._on_send: Callable[[SendHandle], None] | None = None
        self._lock = threading.Lock()
        rpc_http: httpx.Client = self._ctx.rpc._transport._client
        relayer_http: httpx.Client = self._ctx.relayer._client
        rpc_http.event_hooks = {"request": [self._rpc_request]}
        relayer_http.event_hooks = {"request": [self._relayer_request]}

    # --- identity ---------------------------------------------------------------------------
    @property
    def wallet(self) -> str:
        return str(self._ctx.wallet)

    @property
    def signer(self) -> str:
        return str(self._ctx.signer.address)

    @property
    def wallet_type(self) -> str:
        """``EOA``, ``POLY_PROXY``, ``GNOSIS_SAFE`` or ``DEPOSIT_WALLET`` (the SDK's names)."""
        return str(self._ctx.wallet_type)

    @property
    def uses_relayer(self) -> bool:
        return self.wallet_type != "EOA"

    # --- the send hook ----------------------------------------------------------------------
    def _rpc_request(self, request: httpx.Request) -> None:
        if self._on_send is None or request.method != "POST":
            return
        body = json.loads(request.read() or b"null")
        if isinstance(body, dict) and body.get("method") == "eth_sendRawTransaction":
            self._on_send(_raw_transaction_handle(str(body["params"][0])))

    def _relayer_request(self, request: httpx.Request) -> None:
        if self._on_send is None or request.method != "POST":
            return
        if not request.url.path.endswith("/submit"):
            return
        body = json.loads(request.read() or b"null")
        if isinstance(body, dict) and "nonce" in body:
            signed = str(body.get("signature") or "") or None
            self._on_send(SendHandle(nonce=str(body["nonce"]), signature=signed))

    def _send(self, on_send: Callable[[SendHandle], None], call: Callable[[], Any]) -> Submission:
        with self._lock:
            self._on_send = on_send
            try:
                handle = call()
            finally:
                self._on_send = None
        tx_hash = getattr(handle, "transaction_hash", None)
        relayer_id = getattr(handle, "transaction_id", None)
        return Submission(
            tx_hash=str(tx_hash) if tx_hash else None,
            relayer_tx_id=str(relayer_id) if relayer_id else None,
        )

    # --- actions ----------------------------------------------------------------------------
    def merge(
        self, condition_id: str, units: int, on_send: Callable[[SendHandle], None]
    ) -> Submission:
        """Merge ``units`` (micro-shares) complete sets of ``condition_id`` into pUSD."""
        return self._send(
            on_send,
            lambda: self._client.merge_positions(condition_id=condition_id, amount=units),
        )

    def redeem(self, condition_id: str, on_send: Callable[[SendHandle], None]) -> Submission:
        """Redeem every position the wallet holds in the resolved ``condition_id``."""
        return self._send(on_send, lambda: self._client.redeem_positions(condition_id=condition_id))

    # --- lookups ----------------------------------------------------------------------------
    def chain_id(self) -> int:
        return int(self._ctx.rpc.eth_chain_id())

    def receipt(self, tx_hash: str) -> ChainOutcome:
        """The receipt of ``tx_hash``: confirmed, reverted (failed) or none yet (pending)."""
        found = self._ctx.rpc.eth_get_transaction_receipt(tx_hash)
        if found is None:
            return ChainOutcome("pending", tx_hash, "no receipt yet")
        status = found.get("status")
        if status in ("0x1", 1):
            return ChainOutcome("confirmed", tx_hash)
        return ChainOutcome("failed", tx_hash, f"reverted (receipt status {status})")

    def eoa_nonces(self) -> tuple[int, int]:
        """The EOA's transaction count (latest, pending)."""
        rpc = self._ctx.rpc
        return (
            int(rpc.eth_get_transaction_count(self.signer, "latest")),
            int(rpc.eth_get_transaction_count(self.signer, "pending")),
        )

    def relayer_find(self, signature: str | None, nonce: str) -> ChainOutcome | None:
        """The relayer's transaction of the wallet carrying ``signature`` (else the newest with
        ``nonce``), from the key owner's list; ``None`` when the relayer has none."""
        rows = self._ctx.relayer.get_json("/transactions")
        wallet, signer = self.wallet.lower(), self.signer.lower()
        mine = [
            r
            for r in (rows if isinstance(rows, list) else [])
            if isinstance(r, dict)
            and (
                str(r.get("proxyAddress", "")).lower() == wallet
                or str(r.get("from", "")).lower() == signer
            )
        ]
        found = [r for r in mine if signature and r.get("signature") == signature]
        if not found and not signature:
            found = [r for r in mine if str(r.get("nonce")) == nonce]
        if not found:
            return None
        row = found[0]  # newest first
        return self._relayer_state(
            str(row.get("state", "")),
            str(row.get("transactionHash") or "") or None,
            str(row.get("transactionID")),
            row.get("errorMsg"),
        )

    @staticmethod
    def _relayer_state(
        state: str, tx_hash: str | None, transaction_id: str, error: object
    ) -> ChainOutcome:
        if state == "STATE_CONFIRMED":
            return ChainOutcome("confirmed", tx_hash, None, transaction_id)
        if state in ("STATE_FAILED", "STATE_INVALID"):
            return ChainOutcome("failed", tx_hash, f"relayer {state}: {error}", transaction_id)
        return ChainOutcome("pending", tx_hash, f"relayer {state}", transaction_id)

    def relayer_transaction(self, transaction_id: str) -> ChainOutcome:
        """The relayer's state of one of its transactions."""
        from polymarket._internal.actions.relayer.poll import fetch_gasless_transaction_sync
        from polymarket.models.clob.relayer import RelayerTransactionState

        tx = fetch_gasless_transaction_sync(self._ctx.relayer, transaction_id=transaction_id)
        tx_hash = str(tx.transaction_hash) if tx.transaction_hash else None
        if tx.state == RelayerTransactionState.CONFIRMED:
            return ChainOutcome("confirmed", tx_hash)
        if tx.state in (RelayerTransactionState.FAILED, RelayerTransactionState.INVALID):
            return ChainOutcome("failed", tx_hash, f"relayer {tx.state.value}: {tx.error_msg}")
        return ChainOutcome("pending", tx_hash, f"relayer {tx.state.value}")

    def position_balances(self, token_ids: Iterable[str]) -> dict[str, int]:
        """The wallet's ERC-1155 balances (micro-shares) of ``token_ids``, one balanceOfBatch."""
        from polymarket._internal.actions.relayer.calls import (
            decode_erc1155_balance_of_batch_result,
            erc1155_balance_of_batch_call,
        )

        tokens = list(token_ids)
        if not tokens:
            return {}
        call = erc1155_balance_of_batch_call(
            token_address=self._ctx.environment_config.conditional_tokens,
            owners=[self._ctx.wallet] * len(tokens),
            token_ids=tokens,
        )
        found = decode_erc1155_balance_of_batch_result(
            self._ctx.rpc.eth_call(to=str(call.to), data=call.data)
        )
        return dict(zip(tokens, (int(b) for b in found), strict=True))

    def pusd_balance(self) -> int:
        """The wallet's pUSD (micro-units), ERC-20 balanceOf on the collateral token."""
        data = _PUSD_BALANCE_OF + self.wallet.lower().removeprefix("0x").rjust(64, "0")
        raw = self._ctx.rpc.eth_call(
            to=str(self._ctx.environment_config.collateral_token), data=data
        )
        return int(raw, 16) if raw not in ("0x", "") else 0

    def settlement_approvals(self) -> dict[str, bool]:
        """Whether the wallet approved each collateral adapter the SDK merges and redeems
        through as an ERC-1155 operator of its positions (``isApprovedForAll``, on chain)."""
        from polymarket._internal.actions.relayer.calls import (
            decode_erc1155_is_approved_for_all_result,
            erc1155_is_approved_for_all_call,
        )

        config = self._ctx.environment_config
        found = {}
        for name, operator in (
            ("collateral adapter", config.collateral_adapter),
            ("neg-risk collateral adapter", config.neg_risk_collateral_adapter),
        ):
            call = erc1155_is_approved_for_all_call(
                token_address=config.conditional_tokens, owner=self._ctx.wallet, operator=operator
            )
            found[name] = bool(
                decode_erc1155_is_approved_for_all_result(
                    self._ctx.rpc.eth_call(to=str(call.to), data=call.data)
                )
            )
        return found

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ChainClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def relayer_api_key(credentials: Credentials) -> RelayerApiKey | None:
    """The SDK's relayer API key from ``credentials`` (``POLYMARKET_RELAYER_API_KEY`` and
    ``POLYMARKET_RELAYER_API_KEY_ADDRESS``), or ``None`` when not configured."""
    if credentials.relayer_api_key is None or credentials.relayer_api_key_address is None:
        return None
    from polymarket import RelayerApiKey

    return RelayerApiKey(
        key=credentials.relayer_api_key.get_secret_value(),
        address=credentials.relayer_api_key_address,
    )


EXPECTED_WALLET_TYPES = {sig: kind for kind, sig in SIGNATURE_TYPE_OF_WALLET.items()}
"""The SDK wallet kind of each order signature type (the inverse of the adapter's map)."""


def derived_wallet_type(settings: Settings, credentials: Credentials) -> str | None:
    """The SDK's wallet type for the signer and the funds address, derived from the signer
    (``None`` when the address is none of the signer's wallets: the SDK would then silently
    treat the signer as a session key of a deposit wallet)."""
    from polymarket._internal.environment import get_environment_config
    from polymarket._internal.wallet import try_classify_wallet_type

    from pm_lib.venue.sdk_environment import sdk_environment, venue_endpoints

    config = get_environment_config(sdk_environment(venue_endpoints(settings)))
    return try_classify_wallet_type(
        signer=credentials.address,
        wallet=credentials.funds_address,
        config=config.wallet_derivation,
    )


def rpc_chain_id(settings: Settings) -> int:
    """The chain id the venue's JSON-RPC node answers (``eth_chainId``)."""
    from pm_lib.venue.sdk_environment import venue_endpoints

    url = venue_endpoints(settings).rpc_url
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    answer = httpx.post(url, json=body, timeout=settings.http_timeout_seconds)
    answer.raise_for_status()
    return int(str(answer.json()["result"]), 16)


def relayer_deployed(settings: Settings, credentials: Credentials) -> bool:
    """Whether the relayer answers and knows the funds wallet as deployed (types 1-3)."""
    from pm_lib.venue.sdk_environment import venue_endpoints

    kind = {1: "PROXY", 2: "SAFE", 3: "WALLET"}[credentials.signature_type]
    answer = httpx.get(
        venue_endpoints(settings).relayer_url + "/deployed",
        params={"address": credentials.funds_address, "type": kind},
        timeout=settings.http_timeout_seconds,
    )
    answer.raise_for_status()
    return bool(answer.json().get("deployed"))


def open_chain_client(settings: Settings, credentials: Credentials) -> ChainClient:
    """The chain client of ``credentials``' wallet on ``settings``' venue (relayer key from the
    credentials for signature types 1-3). Refuses (``ConfigurationError``) a funds address the
    SDK does not derive from the signer as the configured signature type's wallet, and a relayer
    wallet without a relayer API key."""
    from pm_lib.errors import ConfigurationError

    expected = EXPECTED_WALLET_TYPES[credentials.signature_type]
    derived = derived_wallet_type(settings, credentials)
    if derived != expected:
        raise ConfigurationError(
            f"POLYMARKET_FUNDER {credentials.funds_address} is not the {expected} wallet of the "
            f"signer {credentials.address} (the SDK derives {derived or 'none of its wallets'})"
        )
    key = relayer_api_key(credentials)
    if expected != "EOA" and key is None:
        raise ConfigurationError(
            "POLYMARKET_RELAYER_API_KEY and POLYMARKET_RELAYER_API_KEY_ADDRESS are required to "
            f"merge and redeem from a {expected} wallet (through the relayer)"
        )
    return ChainClient(open_secure_client(settings, credentials, relayer_api_key=key))
