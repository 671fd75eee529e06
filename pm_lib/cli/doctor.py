"""``pm-agent doctor``: preflight checks for live trading, one line each, PASS or FAIL.

Checks, in order: credentials present and well formed; signer address and funder consistent
with the signature type; venue reachable and on CLOB version 2 (``/version``); clock drift
against ``/time``; API key derivable from the private key (and equal to a configured one);
the unified SDK opens and detects the wallet kind of the signature type (EOA, proxy, Safe,
deposit wallet); pUSD balance; pUSD allowances for the exchanges; then what live settlement
needs (``pm_lib.cli.doctor_settle``: RPC and chain id, wallet derivation, relayer and its key,
the adapters' approvals). The exit code is 1 when any check fails.
Nothing secret is printed: lines name variables and addresses, never key material.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from pm_lib.errors import BadVenueData, PmAgentError

if TYPE_CHECKING:  # the SDK's signing stack is imported by the doctor command alone
    from pm_lib.auth import Credentials
    from pm_lib.settings import Settings

__all__ = ["MAX_CLOCK_DRIFT_SECONDS", "Preflight", "doctor_command", "preflight", "register"]

MAX_CLOCK_DRIFT_SECONDS = 5
"""Auth headers carry a timestamp the venue checks; a few seconds of drift is already risky."""


@dataclass(frozen=True)
class Preflight:
    """The outcome of one check."""

    name: str
    passed: bool
    detail: str


def _wallet(credentials: Credentials) -> Preflight:
    from pm_lib.auth import SIGNATURE_TYPE_NAMES

    kind = SIGNATURE_TYPE_NAMES[credentials.signature_type]
    address, funder = credentials.address, credentials.funder
    if credentials.signature_type == 0:
        ok = funder is None or funder.lower() == address.lower()
        detail = f"{kind}: signer {address} holds the funds"
        if not ok:
            detail = f"{kind} signs and funds from one address, but POLYMARKET_FUNDER is {funder}"
        return Preflight("wallet", ok, detail)
    ok = funder is not None and funder.lower() != address.lower()
    detail = f"{kind}: signer {address}, funds in {funder}"
    if not ok:
        detail = f"{kind} needs POLYMARKET_FUNDER set to the wallet, distinct from {address}"
    return Preflight("wallet", ok, detail)


def _attempt(name: str, check: Callable[[], Preflight]) -> Preflight:
    try:
        return check()
    except (PmAgentError, BadVenueData) as e:
        return Preflight(name, False, f"{type(e).__name__}: {e}")


def preflight(
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
) -> list[Preflight]:
    """Run every check (later ones are skipped, as FAIL, when what they need is missing):
    trading's, then settlement's."""
    from pm_lib.cli.doctor_settle import settlement_preflight

    results = _trading_preflight(settings, environ, clock=clock)
    return results + settlement_preflight(settings, environ)


def _trading_preflight(
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
) -> list[Preflight]:
    from pm_lib.auth import load_credentials
    from pm_lib.venue import trading  # the SDK is imported only when the doctor runs

    now = clock or (lambda: datetime.now(UTC))
    host = settings.clob_url
    results: list[Preflight] = []
    credentials: Credentials | None = None
    try:
        credentials = load_credentials(environ)
        results.append(Preflight("credentials", True, "POLYMARKET_* present and well formed"))
        results.append(_wallet(credentials))
    except PmAgentError as e:
        results.append(Preflight("credentials", False, str(e)))
        results.append(Preflight("wallet", False, "skipped: no valid credentials"))
    http = trading.SdkHttp.from_settings(settings)

    def version() -> Preflight:
        found = trading.venue_version(host, http)
        return Preflight("venue", found == 2, f"{host} answers /version {found} (need 2)")

    def drift() -> Preflight:
        seconds = trading.venue_time(host, http) - int(now().timestamp())
        ok = abs(seconds) <= MAX_CLOCK_DRIFT_SECONDS
        return Preflight(
            "clock", ok, f"venue - local = {seconds:+d} s (max {MAX_CLOCK_DRIFT_SECONDS})"
        )

    results.append(_attempt("venue", version))
    results.append(_attempt("clock", drift))
    if credentials is None:
        for name in ("api key", "sdk", "balance", "allowances"):
            results.append(Preflight(name, False, "skipped: no valid credentials"))
        return results
    keys = credentials

    def api_key() -> Preflight:
        derived = trading.derive_api_credentials(host, settings.chain_id, keys, http=http)
        given = keys.api
        if (
            given is not None
            and given.api_key.get_secret_value() != derived.api_key.get_secret_value()
        ):
            return Preflight(
                "api key", False, "POLYMARKET_API_KEY is not the key of this private key"
            )
        return Preflight("api key", True, "derivable from the private key (L1)")

    key_check = _attempt("api key", api_key)
    results.append(key_check)
    if not key_check.passed:
        results.extend(
            Preflight(n, False, "skipped: no API key") for n in ("sdk", "balance", "allowances")
        )
        return results
    if keys.api is None:
        keys = keys.with_api(
            trading.derive_api_credentials(host, settings.chain_id, keys, http=http)
        )
    client = trading.TradingClient(host, settings.chain_id, keys, http=http, settings=settings)
    funds: dict[str, tuple[Decimal, dict[str, Decimal]]] = {}

    def sdk() -> Preflight:
        from pm_lib.venue.sdk_environment import SDK_DISTRIBUTION, SDK_VERSION

        kind = client.wallet_type  # opens the SDK client: wallet detection, API-key check
        return Preflight(
            "sdk",
            True,
            f"{SDK_DISTRIBUTION} {SDK_VERSION} reads {keys.funds_address} as {kind} "
            f"(signature type {keys.signature_type})",
        )

    def balance() -> Preflight:
        funds["pusd"] = client.collateral()
        amount = funds["pusd"][0]
        return Preflight("balance", amount > 0, f"{amount} pUSD in {keys.funds_address}")

    def allowances() -> Preflight:
        if "pusd" not in funds:
            return Preflight("allowances", False, "skipped: balance unreadable")
        granted = {k.lower(): v for k, v in funds["pusd"][1].items()}
        spenders = trading.collateral_spenders(settings.chain_id)
        missing = [name for name, addr in spenders.items() if granted.get(addr.lower(), 0) <= 0]
        if missing:
            return Preflight("allowances", False, f"no pUSD allowance for {', '.join(missing)}")
        return Preflight("allowances", True, f"pUSD approved for {', '.join(spenders)}")

    results.append(_attempt("sdk", sdk))
    results.append(_attempt("balance", balance))
    results.append(_attempt("allowances", allowances))
    return results


def doctor_command() -> None:
    """Preflight for live trading and settlement: credentials, wallet, venue, clock, API key,
    funds, RPC, relayer, approvals."""
    from pm_lib.settings import get_settings

    console = Console(highlight=False)
    results = preflight(get_settings())
    for check in results:
        mark = "[green]PASS[/green]" if check.passed else "[red]FAIL[/red]"
        console.print(f"{mark}  {check.name:<11} {escape(check.detail)}")
    failed = [c.name for c in results if not c.passed]
    if failed:
        console.print(f"{len(failed)} check(s) failed: {', '.join(failed)}")
        raise typer.Exit(code=1)
    console.print("all checks passed")


def register(app: typer.Typer) -> None:
    """Add ``doctor`` to the ``pm-agent`` app."""
    app.command("doctor")(doctor_command)
