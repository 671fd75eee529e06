"""A rehearsal on `pm-agent venue serve` shows action, through the real CLI and no Prefect API:
with the dip rate raised, `pm-agent scan` finds and paper-trades basket arbitrages; a second scan
on the same books does not buy the same depth again (issue 18 items 4 and 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from pm_lib.sim.server import free_port

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).parent / "pm-agent")


def _serve(port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            CLI,
            "venue",
            "serve",
            "--port",
            str(port),
            "--markets",
            "200",
            "--dip-rate",
            "1",
            "--near-miss-rate",
            "0",
            "--epoch-seconds",
            "600",
            "--dip-window",
            "600",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _scan(env: dict[str, str]) -> dict:  # type: ignore[type-arg]
    done = subprocess.run(
        [CLI, "scan", "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _filled(report: dict) -> Decimal:  # type: ignore[type-arg]
    return sum((Decimal(o["filled_size"]) for o in report["orders"]), Decimal(0))


def test_a_rehearsal_trades_dips_once_and_names_the_markets(tmp_path: Path) -> None:
    port = free_port()
    venue = _serve(port)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/ok")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "venue did not start"
                time.sleep(0.2)
        # the books' first move (epoch 1) opens the dip window; epoch 0 is the calm start
        httpx.post(f"{base}/_sim/clock", json={"advance": 600}).raise_for_status()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PM_", "PREFECT_", "POLYMARKET_"))
        }
        env |= {
            "PM_CLOB_URL": base,
            "PM_GAMMA_URL": f"{base}/gamma",
            "PM_DATA_DIR": str(tmp_path),
            "PM_PAPER_BALANCE": "100000",
        }
        first = _scan(env)
        second = _scan(env)
    finally:
        venue.terminate()
        venue.wait(timeout=10)

    assert first["opportunities"] and first["orders"]
    assert _filled(first) > 0
    # every order names its market, as the tables do
    assert all(o["question"] and o["outcome"] for o in first["orders"])
    # the same books, the same dips: the depth paper took is gone until the books move
    assert second["opportunities"]
    # (before paper remembered its takes, the second scan bought half as much again)
    assert _filled(second) == 0
    # no Prefect API was configured: the runs are stored as runs, without a flow run
    assert first["run_id"] != second["run_id"]
