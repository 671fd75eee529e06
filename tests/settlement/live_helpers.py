"""Helpers of the live settlement tests: a wallet per signature type (0 EOA, 1 proxy, 2 Safe,
3 deposit wallet) funded on the emulator's chain with the POLYMARKET_* environment pm-agent reads
for it, buying through pm-agent's live executor, and ``pm-agent settle --live --json``
in-process (fixtures: tests/settlement/conftest.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account
from sqlalchemy import Engine
from typer.testing import CliRunner

from pm_lib.auth import Credentials, credentials_from_mapping
from pm_lib.cli import app
from pm_lib.execution.live import LiveExecutor
from pm_lib.execution.multileg import execute_opportunity
from pm_lib.models import OrderStatus
from pm_lib.portfolio.ledger import LedgerReplay, replay
from pm_lib.settings import Settings
from pm_lib.sim.chain_wallets import wallet_of
from pm_lib.sim.server import RunningVenue
from pm_lib.store import session_scope
from pm_lib.store.trades import fills
from tests.execution.builders import basket
from tests.execution.emulator import KEY, MARKETS, control

D = Decimal
runner = CliRunner()
KINDS = {0: "eoa", 1: "proxy", 2: "safe", 3: "deposit"}
SIGNATURE_TYPES = [0, 1, 2, 3]
BASKET_COST, BASKET_FEES, BASKET_PAYOUT = D("9.30"), D("0.2566"), D("10")
MICRO = D("0.000001")


@dataclass
class Wallet:
    signature_type: int
    address: str
    env: dict[str, str]
    credentials: Credentials


def open_wallet(running: RunningVenue, signature_type: int) -> Wallet:
    """Fund the wallet of ``KEY`` for ``signature_type`` (10,000 pUSD, approvals granted) and
    the POLYMARKET_* environment pm-agent reads for it."""
    signer = str(Account.from_key(KEY).address)
    env = {"POLYMARKET_PRIVATE_KEY": KEY, "POLYMARKET_SIGNATURE_TYPE": str(signature_type)}
    if signature_type == 0:
        control(running, "POST", f"/wallets/{signer}/fund", {"approve": True})
        address = signer
    else:
        body = {"signer": signer, "type": KINDS[signature_type], "pusd": "10000", "approve": True}
        address = control(running, "POST", "/chain/wallets", body)["wallet"]
        assert address == wallet_of(signer, signature_type)
        key = control(running, "GET", f"/relayer/api-key?address={signer}")["key"]
        env |= {
            "POLYMARKET_FUNDER": address,
            "POLYMARKET_RELAYER_API_KEY": key,
            "POLYMARKET_RELAYER_API_KEY_ADDRESS": signer,
        }
    return Wallet(signature_type, address, env, credentials_from_mapping(env))


def chain_units(running: RunningVenue, address: str, token: str | None = None) -> int:
    wallet = control(running, "GET", f"/chain/wallets/{address}")
    if token is None:
        return int(wallet["pusd"])
    return int(wallet["positions"].get(token, "0"))


def buy_live(
    settings: Settings, engine: Engine, wallet: Wallet, legs: list[tuple[str, str, str, str]]
) -> None:
    """Buy ``legs`` (token, condition, size, limit) through pm-agent's live executor."""
    executor = LiveExecutor.connect(settings, engine, wallet.credentials, run_id="buy")
    try:
        outcome = execute_opportunity(
            executor,
            basket("opp", *legs),
            MARKETS,
            {},
            settings=settings,
            engine=engine,
            run_id="buy",
        )
    finally:
        executor.close()
    assert [r.status for r in outcome.results] == [OrderStatus.MATCHED] * len(legs)


def settle_cli(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, wallet: Wallet, **extra: str
) -> tuple[int, dict[str, Any]]:
    env = (
        {
            "PM_MODE": "live",
            "PM_CLOB_URL": settings.clob_url,
            "PM_GAMMA_URL": settings.gamma_url,
            "PM_DATABASE_URL": settings.database_url or "",
            "PM_DATA_DIR": str(settings.data_dir),
            "PM_HTTP_TIMEOUT_SECONDS": "5",
        }
        | wallet.env
        | extra
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(app, ["settle", "--live", "--json"])
    assert result.stdout, result.output
    return result.exit_code, json.loads(result.stdout)


def ledger_of(engine: Engine) -> LedgerReplay:
    with session_scope(engine, read_only=True) as session:
        return replay(fills(session, "live"))
