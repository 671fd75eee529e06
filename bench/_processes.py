"""The processes a scan benchmark needs: a Prefect server, the emulator, the scanning worker.

Each runs in its own process (and session, so it can be stopped with its children) so that the
scanning process's wall time and peak RSS are its own; on a 2-core machine they still share the
CPUs, which the report says.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from pm_lib.sim.server import free_port

__all__ = ["emulator", "peak_rss_mb", "prefect_database", "prefect_server", "run_worker"]

BIN = Path(sys.executable).parent
BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
QUIET_PREFECT = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _wait(url: str, process: subprocess.Popen[Any], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early (status {process.returncode})")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready after {seconds:.0f}s")


POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _postgres_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), 2).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def prefect_database(kind: str) -> Iterator[tuple[str, str | None]]:
    """The Prefect server's database: ``("sqlite", None)`` or a throwaway PostgreSQL database.

    ``kind`` is ``sqlite``, ``postgres`` or ``auto`` (PostgreSQL when 127.0.0.1:5432 answers,
    as Prefect recommends for a server that runs a schedule; else SQLite). Yields the kind
    used and the SQLAlchemy URL to give ``PREFECT_API_DATABASE_CONNECTION_URL``.
    """
    if kind == "sqlite" or (kind == "auto" and not _postgres_reachable()):
        yield "sqlite", None
        return
    import psycopg

    name = f"pm_agent_bench_prefect_{os.getpid()}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield "postgres", f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def prefect_server(home: Path, database_url: str | None = None) -> Iterator[dict[str, str]]:
    """``prefect server start`` on a free port; yields the environment that points at it.

    ``database_url`` (PostgreSQL) replaces the server's default SQLite file.
    """
    port = free_port()
    env = {
        **QUIET_PREFECT,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
    }
    server_env = dict(env)
    if database_url:
        server_env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    home.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **server_env},
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(f"{env['PREFECT_API_URL']}/health", process, 240, "prefect server")
        yield env
    finally:
        _stop(process)


@contextlib.contextmanager
def emulator(markets: int, seed: int) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``pm-agent venue serve --markets N --seed S`` (rate limits on); yields its CLOB URL."""
    port = free_port()
    serve = [str(BIN / "pm-agent"), "venue", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*serve, "--markets", str(markets), "--seed", str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # /_sim is never rate limited, so polling it does not eat into the scan's budget.
        _wait(f"{url}/_sim/universe", process, 300, "emulator")
        yield url, process
    finally:
        _stop(process)


def run_worker(
    mode: str, runs: int, env: dict[str, str], timeout: float, stale_runs: int = 0
) -> tuple[list[dict[str, Any]], str | None]:
    """Run ``bench/_scan_worker.py``; its JSON lines, and an error text if it failed."""
    command = [sys.executable, str(BENCH / "_scan_worker.py"), "--mode", mode]
    command += ["--runs", str(runs), "--stale-runs", str(stale_runs)]
    try:
        done = subprocess.run(
            command,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return _records(out), f"timed out after {timeout:.0f}s"
    error = None if done.returncode == 0 else done.stderr.strip().splitlines()[-1:] or ["?"]
    return _records(done.stdout), None if error is None else f"exit {done.returncode}: {error[0]}"


def _records(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
