"""``pm-agent doctor`` against the emulator: one line per check, exit 1 on any failure."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pm_lib.cli import app
from pm_lib.cli.doctor import Preflight, preflight
from pm_lib.settings import Settings, get_settings
from pm_lib.sim.server import RunningVenue, free_port
from tests.execution.emulator import KEY, control

CHECKS = ["credentials", "wallet", "venue", "clock", "api key", "sdk", "balance", "allowances"]
ENV = {"POLYMARKET_PRIVATE_KEY": KEY}


def failed(results: list[Preflight]) -> list[str]:
    return [r.name for r in results if not r.passed]


def test_every_check_passes_on_a_funded_wallet(live_settings: Settings) -> None:
    results = preflight(live_settings, ENV)
    assert [r.name for r in results] == CHECKS
    assert failed(results) == []


def test_missing_credentials_fail_and_skip_what_needs_them(live_settings: Settings) -> None:
    results = preflight(live_settings, {})
    assert failed(results) == ["credentials", "wallet", "api key", "sdk", "balance", "allowances"]
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
    ]
    assert lines[-1] == "6 check(s) failed: credentials, wallet, api key, sdk, balance, allowances"
