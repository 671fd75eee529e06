"""Alerts end to end (issue 18.4): a real `prefect server start`, `pm-agent alerts setup
--webhook` pointed at a tiny HTTP receiver in this test, then a halt, fills and a failed run as
a user makes them; each reaches the receiver through Prefect's automations and a notification
block. Everything is local; every process is stopped afterwards."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from pm_lib.sim.scenarios import plant_negrisk_arbitrage
from pm_lib.sim.server import free_port, running_venue
from pm_lib.sim.venue import SimConfig, SimVenue
from tests.e2e.test_deployment import _stop, _wait_healthy

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(420)]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PREFECT = shutil.which("prefect") or str(BIN / "prefect")
PM_AGENT = str(BIN / "pm-agent")


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        _Receiver.received.append(json.loads(body or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Any]]:
    tmp = tmp_path_factory.mktemp("alerts")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    with running_venue(SimVenue(SimConfig(seed=11, markets=60))) as venue:
        env = {
            **os.environ,
            "PREFECT_HOME": str(tmp / "prefect"),
            "PREFECT_API_URL": api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PM_MODE": "paper",
            "PM_CLOB_URL": venue.clob_url,
            "PM_GAMMA_URL": venue.gamma_url,
            "PM_DATA_DIR": str(tmp / "data"),
            "PM_DATABASE_URL": f"sqlite:///{tmp / 'pm_agent.db'}",
        }
        server = subprocess.Popen(
            [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_healthy(api, server)
            yield env, venue
        finally:
            _stop(server)


def _run(env: dict[str, str], *args: str, ok: bool = True) -> str:
    done = subprocess.run(
        list(args), env=env, cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _wait_for(subject: str, seconds: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in list(_Receiver.received):
            if subject in message.get("subject", ""):
                return message
        time.sleep(0.5)
    seen = [m.get("subject") for m in _Receiver.received]
    raise AssertionError(f"no {subject!r} alert within {seconds} s; received {seen}")


def test_halt_fills_and_a_failed_run_reach_the_webhook(
    stack: tuple[dict[str, str], Any], receiver: str
) -> None:
    env, venue = stack
    out = _run(env, PM_AGENT, "alerts", "setup", "--webhook", receiver)
    assert out.count("automation:") == 6

    _run(env, PM_AGENT, "halt", "--reason", "e2e halt")
    halted = _wait_for("pm-agent HALTED")
    assert "e2e halt" in halted["body"] and halted["source"] == "pm-agent"
    _run(env, PM_AGENT, "resume")

    plant_negrisk_arbitrage(venue.venue)
    _run(env, PM_AGENT, "scan")
    fill = _wait_for("pm-agent fill")
    assert "pm-agent.order.filled" in fill["body"] and "BUY" in fill["body"]

    bad = {**env, "PM_MAX_ORDER_NOTIONAL": "abc"}
    _run(bad, sys.executable, "-c", _FAILING_SCAN, ok=False)
    failed = _wait_for("pm-agent run")
    assert "Failed" in failed["subject"]


_FAILING_SCAN = (
    "import asyncio\n"
    "from flows.scan_and_trade import scan_and_trade\n"
    "asyncio.run(scan_and_trade(live=False))\n"
)
