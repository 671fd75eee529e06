"""Benchmark: order books the emulator serves per second in 500-id ``POST /books`` batches.

Run (not collected by pytest):

    uv run python bench/emulator_bench.py --markets 10000 50000

For each universe size it starts ``pm-agent venue serve`` in a subprocess (rate limits off,
static books so both passes see one generation), lists every open market's two tokens through
``/gamma/markets/keyset``, then asks for every book twice in 500-token batches with one
keep-alive httpx client: pass 1 is cold (ladders built and serialised on demand), pass 2 warm
(serialised bytes from the cache). The client only reads bytes; it does not parse books.
Reported: universe build time, books/s per pass (wall clock, and per second of the server's
CPU time, which a busy shared machine disturbs less), the load average and the server's peak
RSS (VmHWM).
Write the figures into docs/EMULATOR.md with the machine and the command.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pm_lib.sim.server import free_port

BATCH = 500


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (robust to a busy shared machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tokens(gamma: httpx.Client) -> list[str]:
    import json

    tokens: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 100, "closed": "false"}
        if cursor:
            params["after_cursor"] = cursor
        page = gamma.get("/markets/keyset", params=params).json()
        for market in page["markets"]:
            tokens.extend(json.loads(market["clobTokenIds"]))
        cursor = page.get("next_cursor")
        if cursor is None:
            return tokens


def _pass(clob: httpx.Client, tokens: list[str]) -> tuple[int, float]:
    served = 0
    started = time.perf_counter()
    for i in range(0, len(tokens), BATCH):
        batch = [{"token_id": t} for t in tokens[i : i + BATCH]]
        response = clob.post("/books", json=batch)
        response.raise_for_status()
        served += response.content.count(b'"asset_id"')
    return served, time.perf_counter() - started


def run(markets: int, seed: int) -> None:
    port = free_port()
    cli = Path(sys.executable).parent / "pm-agent"
    cmd = [str(cli), "venue", "serve", "--port", str(port), "--markets", str(markets)]
    cmd += ["--seed", str(seed), "--no-rate-limits", "--epoch-seconds", "0"]
    started = time.perf_counter()
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        built = server.stdout.readline().strip()
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                httpx.get(base + "/ok")
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        ready = time.perf_counter() - started
        with httpx.Client(base_url=base, timeout=120) as clob:
            listing_started = time.perf_counter()
            with httpx.Client(base_url=base + "/gamma", timeout=120) as gamma:
                tokens = _tokens(gamma)
            listing = time.perf_counter() - listing_started
            cpu_start = _cpu_seconds(server.pid)
            cold, cold_s = _pass(clob, tokens)
            cpu_cold = _cpu_seconds(server.pid)
            warm, warm_s = _pass(clob, tokens)
            cpu_warm = _cpu_seconds(server.pid)
        rss = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"markets={markets} ({built}); ready in {ready:.1f}s")
    print(f"  keyset listing of {len(tokens)} tokens: {listing:.1f}s")
    cold_cpu, warm_cpu = cpu_cold - cpu_start, cpu_warm - cpu_cold
    print(
        f"  pass 1 (cold): {cold} books in {cold_s:.1f}s = {cold / cold_s:,.0f} books/s"
        f" (server CPU {cold_cpu:.1f}s = {cold / max(cold_cpu, 0.01):,.0f} books/CPU-s)"
    )
    print(
        f"  pass 2 (warm): {warm} books in {warm_s:.1f}s = {warm / warm_s:,.0f} books/s"
        f" (server CPU {warm_cpu:.1f}s = {warm / max(warm_cpu, 0.01):,.0f} books/CPU-s)"
    )
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  server peak RSS: {rss:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
    for n in args.markets:
        run(n, args.seed)


if __name__ == "__main__":
    main()
