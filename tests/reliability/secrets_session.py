"""A session that writes text everywhere pm-agent writes it, with marker credentials set.

Run by ``test_secrets_everywhere.py`` in a process of its own (one ephemeral Prefect API,
``PREFECT_HOME`` inside the work folder):

    python -m tests.reliability.secrets_session WORK_DIR SECRETS_FILE

With ``POLYMARKET_*`` set throughout, it runs through the real CLI (typer, in process):
the offline demo (paper); a live scan whose API credentials are markers the venue refuses;
a live scan with the real (derived) credentials while POST /order answers are lost or fail;
reconcile, positions, orders and pnl; a reconcile that fails (503 on every /data read); a
live scan with a truncated private key; the doctor. Every CLI output and exception traceback
goes to stdout, every log record (DEBUG and up) to WORK_DIR/pm-agent.log. The secrets (the
key, the derived API key, secret and passphrase, the markers) go to SECRETS_FILE, outside the
work folder, for the caller to search for.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from pathlib import Path

import httpx
from typer.testing import CliRunner

from pm_lib.auth import credentials_from_mapping
from pm_lib.cli import app
from pm_lib.settings import get_settings
from pm_lib.sim.scenarios import plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.venue.trading import derive_api_credentials

__all__ = ["KEY", "MARKERS", "main"]

KEY = "0x" + ("5ec7e7ca11ab1e" * 5)[:64]  # a throw-away test key, never funded anywhere real
MARKERS = {
    "POLYMARKET_API_KEY": "marker-apikey-0d5e7f1a",
    "POLYMARKET_SECRET": "bWFya2VyLXNlY3JldC1kOWM0YjJlNw==",
    "POLYMARKET_PASSPHRASE": "marker-passphrase-7c3b9e",
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
        secrets_file.write_text(json.dumps([KEY, *MARKERS.values(), *derived.values()]))
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
        cli("doctor")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
