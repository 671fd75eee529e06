"""``pm-agent venue serve`` runs standalone and answers a plain HTTP client."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from pm_lib.sim.server import free_port


def test_venue_serve_prints_both_urls_and_answers_http() -> None:
    port = free_port()
    cli = Path(sys.executable).parent / "pm-agent"
    process = subprocess.Popen(
        [str(cli), "venue", "serve", "--port", str(port), "--markets", "40", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        assert f"PM_CLOB_URL=http://127.0.0.1:{port}\n" in lines
        assert f"PM_GAMMA_URL=http://127.0.0.1:{port}/gamma\n" in lines
        deadline = time.monotonic() + 30
        while True:
            try:
                ok = httpx.get(f"http://127.0.0.1:{port}/ok")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "venue did not start"
                time.sleep(0.1)
        page = httpx.get(f"http://127.0.0.1:{port}/gamma/markets/keyset", params={"limit": 100})
        assert ok.json() == "OK"
        assert len(page.json()["markets"]) == 40
    finally:
        process.terminate()
        process.wait(timeout=10)
