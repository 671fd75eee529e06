"""No private key, API key, secret or passphrase in logs, DB rows, errors or doctor output.

A live session on the emulator does everything that writes text somewhere: derive the API key,
fill an order, get one refused, lose an answer to a fault (UNKNOWN, then lookup), reconcile,
run the doctor with wrong marker API credentials, and trip every factory refusal. Then every
log record of pm-agent and the SDK (DEBUG and up), every row of every table, every error text
and the CLI output are searched for the secrets.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import traceback
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from typer.testing import CliRunner

from pm_lib.auth import ApiCredentials, Credentials, credentials_from_mapping, load_credentials
from pm_lib.cli import app
from pm_lib.errors import ConfigurationError, VenueError
from pm_lib.execution.factory import make_executor
from pm_lib.execution.live import LiveExecutor
from pm_lib.execution.reconcile import reconcile
from pm_lib.models import OrderRequest, OrderType, Side
from pm_lib.settings import Settings, get_settings
from pm_lib.sim.server import RunningVenue
from pm_lib.venue.trading import TradingClient, derive_api_credentials
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


# --- credentials with control characters (a passphrase with a newline was quoted by the HTTP
# library in SDK log lines, the traceback and Prefect's log table) --------------------------

CONTROL_CHARACTERS = ["\n", "\r\n", "\t", "\x1b", "\x7f", "\x85", "\u2028"]


@pytest.mark.parametrize(
    "name", ["POLYMARKET_API_KEY", "POLYMARKET_SECRET", "POLYMARKET_PASSPHRASE"]
)
@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=repr)
def test_a_credential_with_a_control_character_is_refused_naming_the_variable_not_the_value(
    name: str, char: str
) -> None:
    environ = {"POLYMARKET_PRIVATE_KEY": KEY, **MARKERS, name: f"ctl-head-3f9a{char}ctl-tail-8b2c"}

    with pytest.raises(ConfigurationError) as refused:
        load_credentials(environ)

    message = str(refused.value)
    assert name in message and "control character" in message
    assert "ctl-head" not in message and "ctl-tail" not in message and "\n" not in message
    error = refused.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_an_sdk_error_quoting_a_credential_is_scrubbed_from_logs_and_raised_errors(
    live_settings: Settings, credentials: Credentials, caplog: pytest.LogCaptureFixture
) -> None:
    """Credentials that did not come through ``load_credentials`` (derived, or built in code)
    are scrubbed too: the HTTP layer quotes an illegal header value in its error, the SDK logs
    that error at ERROR and chains it under its own."""
    caplog.set_level(logging.DEBUG)
    api = derive_api_credentials(live_settings.clob_url, live_settings.chain_id, credentials)
    pieces = ("ctl-pass-93e1d0", "ctl-tail-55b7a2")
    broken = ApiCredentials(
        api_key=api.api_key, secret=api.secret, passphrase=SecretStr("\n".join(pieces))
    )
    client = TradingClient(
        live_settings.clob_url, live_settings.chain_id, credentials.with_api(broken)
    )
    errors: list[BaseException] = []
    for call in (client.open_orders, lambda: client.cancel("0x" + "ab" * 32)):
        with pytest.raises(VenueError) as failed:
            call()
        errors.append(failed.value)

    texts = ["".join(traceback.format_exception(e)) for e in errors]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [logging.Formatter().format(r) for r in caplog.records]
    everything = "\n".join(texts)
    assert "Illegal header value" in everything, "the HTTP layer refused the header"
    assert [p for p in pieces if p in everything or p.upper() in everything] == []


def test_every_logger_writes_a_loaded_secret_masked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "redact-me-6d1e90aa"
    credentials_from_mapping(
        {"POLYMARKET_PRIVATE_KEY": KEY, **MARKERS, "POLYMARKET_API_KEY": secret}
    )

    for name in ("polymarket.clients._transport", "hpack.hpack", "httpcore.http11"):
        logging.getLogger(name).error("header value %r (%s)", secret.encode(), secret)
    logging.warning("root logger: %s", json.dumps({"key": secret}))
    try:
        raise ValueError(f"quoted {secret!r}") from OSError(secret.upper())
    except ValueError:
        logging.getLogger("anything").exception("failed")

    assert "header value" in caplog.text and "failed" in caplog.text
    assert secret not in caplog.text and secret.upper() not in caplog.text
