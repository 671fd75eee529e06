"""``pm-agent doctor`` against the emulator: one line per check, exit 1 on any failure."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pm_lib.cli import app
from pm_lib.cli.doctor import Preflight, preflight
from pm_lib.cli.doctor_settle import SETTLE_CHECKS
from pm_lib.settings import Settings, get_settings
from pm_lib.sim.server import RunningVenue, free_port, running_venue
from tests.execution.emulator import KEY, control, make_venue

TRADING = ["credentials", "wallet", "venue", "clock", "api key", "sdk", "balance", "allowances"]
CHECKS = TRADING + list(SETTLE_CHECKS)
SKIPPED_SETTLE = ["derivation", "relayer", "settle approvals"]
ENV = {"POLYMARKET_PRIVATE_KEY": KEY}


def failed(results: list[Preflight]) -> list[str]:
    return [r.name for r in results if not r.passed]


def test_every_check_passes_on_a_funded_wallet(live_settings: Settings) -> None:
    results = preflight(live_settings, ENV)
    assert [r.name for r in results] == CHECKS
    assert failed(results) == []


def test_missing_credentials_fail_and_skip_what_needs_them(live_settings: Settings) -> None:
    results = preflight(live_settings, {})
    assert failed(results) == [
        "credentials",
        "wallet",
        "api key",
        "sdk",
        "balance",
        "allowances",
        *SKIPPED_SETTLE,
    ]
    assert results[0].detail == "POLYMARKET_PRIVATE_KEY is not set"


def test_a_deposit_wallet_without_funder_fails_the_credentials(live_settings: Settings) -> None:
    results = preflight(live_settings, {**ENV, "POLYMARKET_SIGNATURE_TYPE": "3"})
    assert results[0].passed is False and "POLYMARKET_FUNDER is required" in results[0].detail


def test_an_eoa_with_a_different_funder_fails_the_wallet_check(live_settings: Settings) -> None:
    results = preflight(live_settings, {**ENV, "POLYMARKET_FUNDER": "0x" + "12" * 20})
    assert "wallet" in failed(results)


def test_unreachable_venue_fails(live_settings: Settings) -> None:
    nowhere = live_settings.model_copy(
        update={"clob_url": f"http://127.0.0.1:{free_port()}", "http_timeout_seconds": 0.5}
    )
    assert failed(preflight(nowhere, ENV)) == [
        "venue",
        "clock",
        "api key",
        "sdk",
        "balance",
        "allowances",
        "rpc",
        "settle approvals",
    ]


def test_clock_drift_fails(live_settings: Settings, running: RunningVenue) -> None:
    control(running, "POST", "/clock", {"advance": 60})
    [clock] = [r for r in preflight(live_settings, ENV) if r.name == "clock"]
    drift = int(clock.detail.split("=")[1].split()[0])
    assert clock.passed is False and 55 <= drift <= 65


def test_missing_allowance_fails(live_settings: Settings, running: RunningVenue) -> None:
    address = "0x5CbDd86a2FA8Dc4bDdd8a8f69dBa48572EeC07FB"  # the address of KEY
    control(running, "POST", f"/wallets/{address}/fund", {"allowance": "0"})
    [allowances] = [r for r in preflight(live_settings, ENV) if r.name == "allowances"]
    assert allowances.passed is False and "no pUSD allowance for exchange" in allowances.detail


def test_cli_prints_one_line_per_check_and_exits_non_zero_on_failure(
    live_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PM_CLOB_URL", live_settings.clob_url)
    monkeypatch.delenv("POLYMARKET_PRIVATE_KEY", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["doctor"])
    finally:
        get_settings.cache_clear()
    lines = result.output.splitlines()
    assert result.exit_code == 1
    assert [line.split()[0] for line in lines[: len(CHECKS)]] == [
        "FAIL",
        "FAIL",
        "PASS",
        "PASS",
        "FAIL",
        "FAIL",
        "FAIL",
        "FAIL",
        "PASS",
        "FAIL",
        "FAIL",
        "FAIL",
    ]
    assert " ".join(result.output.split()).endswith(
        "9 check(s) failed: credentials, wallet, api key, sdk, balance, allowances, "
        "derivation, relayer, settle approvals"
    )


def test_settlement_checks_pass_for_a_proxy_wallet_with_its_relayer_key(
    live_settings: Settings, running: RunningVenue
) -> None:
    signer = "0x5CbDd86a2FA8Dc4bDdd8a8f69dBa48572EeC07FB"  # the address of KEY
    body = {"signer": signer, "type": "proxy", "pusd": "100", "approve": True}
    proxy = control(running, "POST", "/chain/wallets", body)["wallet"]
    env = {**ENV, "POLYMARKET_SIGNATURE_TYPE": "1", "POLYMARKET_FUNDER": proxy}
    results = {r.name: r for r in preflight(live_settings, env)}
    assert results["relayer"].passed is False  # no relayer key yet
    assert "POLYMARKET_RELAYER_API_KEY" in results["relayer"].detail
    key = control(running, "GET", f"/relayer/api-key?address={signer}")["key"]
    env |= {"POLYMARKET_RELAYER_API_KEY": key, "POLYMARKET_RELAYER_API_KEY_ADDRESS": signer}
    results = {r.name: r for r in preflight(live_settings, env)}
    assert all(results[n].passed for n in SETTLE_CHECKS), [results[n] for n in SETTLE_CHECKS]


def test_a_funder_that_is_not_the_signers_wallet_fails_the_derivation(
    live_settings: Settings,
) -> None:
    env = {**ENV, "POLYMARKET_SIGNATURE_TYPE": "2", "POLYMARKET_FUNDER": "0x" + "12" * 20}
    [derivation] = [r for r in preflight(live_settings, env) if r.name == "derivation"]
    assert derivation.passed is False and "needs GNOSIS_SAFE" in derivation.detail


def test_a_wallet_without_the_adapters_approval_fails_settle_approvals(
    live_settings: Settings,
) -> None:
    signer = "0x5CbDd86a2FA8Dc4bDdd8a8f69dBa48572EeC07FB"
    with running_venue(make_venue(autofund=False)) as bare:  # wallets get no approvals
        settings = live_settings.model_copy(
            update={"clob_url": bare.clob_url, "gamma_url": bare.gamma_url}
        )
        body = {"signer": signer, "type": "safe", "pusd": "100"}
        safe = control(bare, "POST", "/chain/wallets", body)["wallet"]
        key = control(bare, "GET", f"/relayer/api-key?address={signer}")["key"]
        env = {
            **ENV,
            "POLYMARKET_SIGNATURE_TYPE": "2",
            "POLYMARKET_FUNDER": safe,
            "POLYMARKET_RELAYER_API_KEY": key,
            "POLYMARKET_RELAYER_API_KEY_ADDRESS": signer,
        }
        [approvals] = [r for r in preflight(settings, env) if r.name == "settle approvals"]
    assert approvals.passed is False and "collateral adapter" in approvals.detail
