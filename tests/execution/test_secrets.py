"""No private key, API key, secret or passphrase in logs, DB rows, errors or doctor output.

A live session on the emulator does everything that writes text somewhere: derive the API key,
fill an order, get one refused, lose an answer to a fault (UNKNOWN, then lookup), reconcile,
run the doctor with wrong marker API credentials, and trip every factory refusal. Then every
log record of pm-agent and the SDK (DEBUG and up), every row of every table, every error text
and the CLI output are searched for the secrets.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from pm_lib.auth import credentials_from_mapping
from pm_lib.cli import app
from pm_lib.execution.factory import make_executor
from pm_lib.execution.live import LiveExecutor
from pm_lib.execution.reconcile import reconcile
from pm_lib.models import OrderRequest, OrderType, Side
from pm_lib.settings import Settings, get_settings
from pm_lib.sim.server import RunningVenue
from pm_lib.venue.errors import ConfigurationError
from pm_lib.venue.trading import derive_api_credentials
from tests.execution.builders import request
from tests.execution.emulator import COND, FEES, KEY, YES, control

MARKERS = {
    "POLYMARKET_API_KEY": "marker-apikey-5d1c9e",
    "POLYMARKET_SECRET": "marker-secret-8a7f3b",
    "POLYMARKET_PASSPHRASE": "marker-passphrase-2e6d",
}


def order(key: str, size: str) -> OrderRequest:
    return request(key, Side.BUY, size, "0.55", OrderType.FOK, token=YES, condition=COND, fees=FEES)


def db_text(path: Path) -> str:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(repr(db.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)


def test_no_secret_reaches_logs_rows_errors_or_cli_output(
    live_settings: Settings,
    engine: Engine,
    running: RunningVenue,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    credentials = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY})
    api = derive_api_credentials(live_settings.clob_url, live_settings.chain_id, credentials)
    secrets = [
        KEY[2:],
        KEY[2:].upper(),
        api.api_key.get_secret_value(),
        api.secret.get_secret_value(),
        api.passphrase.get_secret_value(),
        *MARKERS.values(),
    ]
    texts: list[str] = []

    executor = LiveExecutor.connect(live_settings, engine, credentials.with_api(api), run_id="r1")
    control(running, "POST", "/faults", {"kind": "response_lost", "path": "/order", "count": 1})
    results = executor.place([order("r1:o:0", "10"), order("r1:o:1", "400"), order("r1:o:2", "5")])
    texts += [repr(r) for r in results] + [repr(executor), repr(credentials), str(credentials)]
    texts.append(repr(reconcile(executor, engine)))
    executor.close()

    monkeypatch.setenv("PM_CLOB_URL", live_settings.clob_url)
    monkeypatch.setenv("POLYMARKET_PRIVATE_KEY", KEY)
    for name, value in MARKERS.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        doctor = CliRunner().invoke(app, ["doctor"])
    finally:
        get_settings.cache_clear()
    assert doctor.exit_code == 1  # the marker API key is not this private key's
    texts.append(doctor.output)

    for mode, armed in (("paper", True), ("live", False), ("live", True)):
        settings = live_settings.model_copy(update={"mode": mode})
        environ = {"POLYMARKET_PRIVATE_KEY": KEY[:20], **MARKERS}  # malformed key
        with pytest.raises(ConfigurationError) as refused:
            make_executor(settings, live_armed=armed, engine=engine, environ=environ)
        texts.append(str(refused.value))

    ours = [r for r in caplog.records if not r.name.startswith(("pm_lib.sim", "uvicorn"))]
    texts += [r.getMessage() for r in ours]
    texts.append(db_text(tmp_path / "pm_agent.db"))
    everything = "\n".join(texts)
    assert "RemoteProtocolError" in everything or "no response" in everything  # faults ran
    leaked = [s for s in secrets if s in everything]
    assert leaked == []
