"""``pm-agent doctor``'s checks for live settlement (merge and redeem on chain).

- ``rpc``: the venue's JSON-RPC node answers and is on ``PM_CHAIN_ID`` (EOA transactions and
  every balance read go through it);
- ``derivation``: the SDK derives the funds address from the signer as the wallet the signature
  type says (else the SDK would treat the signer as a session key of some deposit wallet);
- ``relayer``: for signature types 1-3, the relayer answers and knows the wallet as deployed,
  and ``POLYMARKET_RELAYER_API_KEY``/``_ADDRESS`` are set (an EOA does not use it);
- ``settle approvals``: the wallet approved the collateral adapters the SDK merges and redeems
  through as operators of its positions (ERC-1155 ``isApprovedForAll``, read on chain).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pm_lib.auth import Credentials
    from pm_lib.cli.doctor import Preflight
    from pm_lib.settings import Settings

__all__ = ["SETTLE_CHECKS", "settlement_preflight"]

SETTLE_CHECKS = ("rpc", "derivation", "relayer", "settle approvals")


def _attempt(name: str, check: Callable[[], Preflight]) -> Preflight:
    from pm_lib.cli.doctor import Preflight
    from pm_lib.redaction import redact

    try:
        return check()
    except Exception as e:  # any failure is this check's FAIL line, never a crash
        return Preflight(name, False, redact(f"{type(e).__name__}: {e}")[:300])


def settlement_preflight(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> list[Preflight]:
    """The settlement checks, in ``SETTLE_CHECKS`` order."""
    from pm_lib.auth import SIGNATURE_TYPE_NAMES, load_credentials
    from pm_lib.cli.doctor import Preflight
    from pm_lib.errors import PmAgentError
    from pm_lib.venue import chain

    def rpc() -> Preflight:
        found = chain.rpc_chain_id(settings)
        ok = found == settings.chain_id
        return Preflight("rpc", ok, f"eth_chainId {found} (PM_CHAIN_ID {settings.chain_id})")

    results = [_attempt("rpc", rpc)]
    try:
        credentials: Credentials = load_credentials(environ)
    except PmAgentError:
        skipped = [Preflight(n, False, "skipped: no valid credentials") for n in SETTLE_CHECKS[1:]]
        return [*results, *skipped]
    keys = credentials
    expected = chain.EXPECTED_WALLET_TYPES[keys.signature_type]

    def derivation() -> Preflight:
        derived = chain.derived_wallet_type(settings, keys)
        return Preflight(
            "derivation",
            derived == expected,
            f"{keys.funds_address} is the signer's {derived or 'nothing derivable'} "
            f"(signature type {keys.signature_type} {SIGNATURE_TYPE_NAMES[keys.signature_type]}"
            f" needs {expected})",
        )

    def relayer() -> Preflight:
        if keys.signature_type == 0:
            return Preflight("relayer", True, "EOA: merges and redeems are RPC transactions")
        if keys.relayer_api_key is None:
            return Preflight(
                "relayer",
                False,
                "POLYMARKET_RELAYER_API_KEY and POLYMARKET_RELAYER_API_KEY_ADDRESS not set "
                f"(a {expected} wallet merges and redeems through the relayer)",
            )
        deployed = chain.relayer_deployed(settings, keys)
        return Preflight(
            "relayer",
            deployed,
            f"relayer key set; wallet {keys.funds_address} "
            + ("deployed" if deployed else "NOT deployed at the relayer"),
        )

    def approvals() -> Preflight:
        with chain.open_chain_client(settings, keys) as client:
            found = client.settlement_approvals()
        missing = [name for name, ok in found.items() if not ok]
        if missing:
            return Preflight("settle approvals", False, f"positions not approved for {missing}")
        return Preflight("settle approvals", True, f"positions approved for {', '.join(found)}")

    results.append(_attempt("derivation", derivation))
    results.append(_attempt("relayer", relayer))
    results.append(_attempt("settle approvals", approvals))
    return results
