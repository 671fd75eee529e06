"""A session that writes text everywhere pm-agent writes it, with marker credentials set.

Run by ``test_secrets_everywhere.py`` in a process of its own (one ephemeral Prefect API,
``PREFECT_HOME`` inside the work folder):

    python -m tests.reliability.secrets_session WORK_DIR SECRETS_FILE

With ``POLYMARKET_*`` set throughout, it runs through the real CLI (typer, in process):
the offline demo (paper); a live scan whose API credentials are markers the venue refuses;
a live scan with the real (derived) credentials while POST /order answers are lost or fail;
reconcile, positions, orders and pnl; a reconcile that fails (503 on every /data read); a
live scan with a truncated private key; live scans and a reconcile with an API credential
holding a control character (a newline, CR LF, a tab: refused when loaded); a Prefect flow
whose task sends such a passphrase to the venue anyway, credentials built in code past the
loader (the HTTP library refuses the header and quotes it; the SDK logs that, Prefect logs the
traceback); the doctor. Every CLI output and exception traceback goes to stdout, every log
record (DEBUG and up) to WORK_DIR/pm-agent.log. The secrets (the key, the derived API key,
secret and passphrase, the markers) go to SECRETS_FILE, outside the work folder, for the
caller to search for.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from pathlib import Path

import httpx
from prefect import flow, task
from pydantic import SecretStr
from typer.testing import CliRunner

from pm_lib.auth import ApiCredentials, credentials_from_mapping
from pm_lib.cli import app
from pm_lib.settings import get_settings
from pm_lib.sim.scenarios import plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.venue.trading import TradingClient, derive_api_credentials

__all__ = ["CONTROL_MARKERS", "KEY", "MARKERS", "main"]

KEY = "0x" + ("5ec7e7ca11ab1e" * 5)[:64]  # a throw-away test key, never funded anywhere real
MARKERS = {
    "POLYMARKET_API_KEY": "marker-apikey-0d5e7f1a",
    "POLYMARKET_SECRET": "bWFya2VyLXNlY3JldC1kOWM0YjJlNw==",
    "POLYMARKET_PASSPHRASE": "marker-passphrase-7c3b9e",
}
# API credentials with control characters (a newline, CR LF, a tab), each between two pieces.
CONTROL_MARKERS = {
    "POLYMARKET_API_KEY": "ctl-apikey-1b7e40\tctl-apikey-tail-6f02",
    "POLYMARKET_SECRET": "Y3RsLXNlY3JldC1oZWFk\r\nY3RsLXNlY3JldC10YWls",
    "POLYMARKET_PASSPHRASE": "ctl-pass-93e1d0\nctl-pass-tail-55b7a2",
}


def cli(*args: str) -> None:
    """Run one ``pm-agent`` command in process; print its output and any traceback."""
    get_settings.cache_clear()
    result = CliRunner().invoke(app, list(args))
    print(f"$ pm-agent {' '.join(args)}  (exit {result.exit_code})")
    print(result.output)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        print("".join(traceback.format_exception(result.exception)))


def control(running: RunningVenue, method: str, path: str, body: object = None) -> None:
    """The emulator's /_sim control API."""
    httpx.request(method, f"{running.clob_url}/_sim{path}", json=body, timeout=10)


@task(name="open-orders-with-a-broken-passphrase", retries=0)
def broken_passphrase_call(clob_url: str) -> None:
    """The venue called with a control character in the passphrase (built past the loader)."""
    keys = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY})
    api = derive_api_credentials(clob_url, 137, keys)
    broken = ApiCredentials(
        api_key=api.api_key,
        secret=api.secret,
        passphrase=SecretStr(CONTROL_MARKERS["POLYMARKET_PASSPHRASE"]),
    )
    TradingClient(clob_url, 137, keys.with_api(broken)).open_orders()


@flow(name="broken-passphrase")
def broken_passphrase_flow(clob_url: str) -> None:
    broken_passphrase_call(clob_url)


def main(work: Path, secrets_file: Path) -> None:
    """The session of the module docstring."""
    logging.basicConfig(filename=work / "pm-agent.log", level=logging.DEBUG, force=True)
    os.environ.update({"POLYMARKET_PRIVATE_KEY": KEY, **MARKERS})
    cli("demo", "--cycles", "1", "--markets", "40", "--data-dir", str(work / "demo"))

    venue = SimVenue(SimConfig(seed=9, markets=60, enforce_rate_limits=False, book_epoch_seconds=0))
    plant_negrisk_arbitrage(venue)
    with running_venue(venue) as running:
        keys = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY})
        api = derive_api_credentials(running.clob_url, 137, keys)
        derived = {
            "POLYMARKET_API_KEY": api.api_key.get_secret_value(),
            "POLYMARKET_SECRET": api.secret.get_secret_value(),
            "POLYMARKET_PASSPHRASE": api.passphrase.get_secret_value(),
        }
        secrets = [KEY, *MARKERS.values(), *derived.values(), *CONTROL_MARKERS.values()]
        secrets_file.write_text(json.dumps(secrets))
        os.environ.update(
            {
                "PM_MODE": "live",
                "PM_CLOB_URL": running.clob_url,
                "PM_GAMMA_URL": running.gamma_url,
                "PM_DATA_DIR": str(work / "live"),
                "PM_DATABASE_URL": f"sqlite:///{work / 'live' / 'pm_agent.db'}",
                "PM_HTTP_TIMEOUT_SECONDS": "2",
            }
        )
        cli("scan", "--live", "--json")  # marker API credentials: the venue refuses them
        os.environ.update(derived)
        control(running, "POST", "/faults", {"kind": "response_lost", "path": "/order", "count": 1})
        control(running, "POST", "/faults", {"kind": "error", "path": "/order", "status": 503})
        plant_negrisk_arbitrage(venue)
        cli("scan", "--live", "--json")
        control(running, "DELETE", "/faults")
        plant_negrisk_arbitrage(venue)
        cli("scan", "--live", "--json")
        cli("reconcile", "--live", "--json")
        for command in ("positions", "orders", "pnl"):
            cli(command, "--mode", "live")
        control(running, "POST", "/faults", {"kind": "error", "path": "/data/.*", "status": 503})
        cli("reconcile", "--live")
        control(running, "DELETE", "/faults")
        os.environ["POLYMARKET_PRIVATE_KEY"] = KEY[:-1]
        cli("scan", "--live")
        os.environ["POLYMARKET_PRIVATE_KEY"] = KEY
        for name, value in CONTROL_MARKERS.items():
            plant_negrisk_arbitrage(venue)
            os.environ.update({**derived, name: value})
            cli("scan", "--live", "--json")
        cli("reconcile", "--live")
        os.environ.update(derived)
        try:
            broken_passphrase_flow(running.clob_url)
        except Exception as e:
            print("".join(traceback.format_exception(e)))
        cli("doctor")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
