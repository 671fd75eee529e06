"""End to end as a user deploys it: prefect server, the pm-agent process pool, prefect deploy,
a worker, `prefect deployment run`, the run Completed, its rows in the DB, its artifacts readable.

Everything is local: the emulator on a free port, a Prefect server on another, SQLite files in a
temporary folder. All processes are stopped afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from pm_lib.sim.server import free_port, running_venue
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.store.engine import make_engine

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

ROOT = Path(__file__).resolve().parents[2]
PREFECT = shutil.which("prefect") or str(Path(os.sys.executable).parent / "prefect")


def _wait_healthy(api: str, process: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("prefect server exited early")
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError("prefect server did not become healthy")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    """A venue, a Prefect server and the environment a worker runs pm-agent with."""
    tmp = tmp_path_factory.mktemp("e2e")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    with running_venue(SimVenue(SimConfig(seed=11, markets=60))) as venue:
        env = {
            **os.environ,
            "PREFECT_HOME": str(tmp / "prefect"),
            "PREFECT_API_URL": api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PM_MODE": "paper",
            "PM_CLOB_URL": venue.clob_url,
            "PM_GAMMA_URL": venue.gamma_url,
            "PM_DATA_DIR": str(tmp / "data"),
            "PM_DATABASE_URL": f"sqlite:///{tmp / 'pm_agent.db'}",
            "PM_AGENT_DIR": str(ROOT),
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
            yield api, env, tmp
        finally:
            _stop(server)


def _prefect(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PREFECT, "--no-prompt", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_deployed_scan_runs_on_a_worker_and_records_everything(
    stack: tuple[str, dict[str, str], Path],
) -> None:
    api, env, _ = stack
    _prefect(env, "work-pool", "create", "pm-agent", "--type", "process")
    _prefect(env, "deploy", "--all")
    worker = subprocess.Popen(
        [PREFECT, "worker", "start", "--pool", "pm-agent"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        with httpx.Client(base_url=api, timeout=30) as client:
            deployment = client.get("/deployments/name/scan-and-trade/scan-paper").json()
            assert deployment["global_concurrency_limit"]["limit"] == 1
            assert deployment["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
            run = client.post(f"/deployments/{deployment['id']}/create_flow_run", json={}).json()
            state = _wait_terminal(client, run["id"])
            assert state == "COMPLETED"
            artifacts = client.post(
                "/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}
            ).json()
        keys = {a["key"] for a in artifacts if a.get("key")}
        assert {"opportunities", "risk-decisions", "orders", "scan-summary"} <= keys
        engine = make_engine(env["PM_DATABASE_URL"])
        with engine.connect() as conn:
            stored = conn.execute(
                text("SELECT status, markets FROM run WHERE flow_run_id = :id"), {"id": run["id"]}
            ).one()
        assert stored.status == "completed" and stored.markets > 0
        _scan_loop_runs_on_the_worker(api, engine)
        _stream_window_runs_on_the_worker(api, engine)
    finally:
        _stop(worker)


def _scan_loop_runs_on_the_worker(api: str, engine: Engine) -> None:
    """scan-loop-paper: deployed with its schedule off; a run of two scans, two run rows."""
    with httpx.Client(base_url=api, timeout=30) as client:
        deployment = client.get("/deployments/name/scan-loop/scan-loop-paper").json()
        assert [s["active"] for s in deployment["schedules"]] == [False]
        assert deployment["global_concurrency_limit"]["limit"] == 1
        run = client.post(
            f"/deployments/{deployment['id']}/create_flow_run",
            json={"parameters": {"max_scans": 2, "interval_seconds": 0}},
        ).json()
        assert _wait_terminal(client, run["id"]) == "COMPLETED"
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT status FROM run WHERE flow_run_id = :id"), {"id": run["id"]}
        ).all()
    assert [row.status for row in stored] == ["completed", "completed"]


def _stream_window_runs_on_the_worker(api: str, engine: Engine) -> None:
    """stream-paper: deployed with its schedule off; a 3-second window streams over the
    emulator's market channel, closes every run row it opened and publishes its summary."""
    with httpx.Client(base_url=api, timeout=30) as client:
        deployment = client.get("/deployments/name/stream-and-trade/stream-paper").json()
        assert [s["active"] for s in deployment["schedules"]] == [False]
        run = client.post(
            f"/deployments/{deployment['id']}/create_flow_run",
            json={"parameters": {"duration_seconds": 3, "progress_every_seconds": 1}},
        ).json()
        assert _wait_terminal(client, run["id"]) == "COMPLETED"
        artifacts = client.post(
            "/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}
        ).json()
    assert "stream-summary" in {a["key"] for a in artifacts if a.get("key")}
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT status FROM run WHERE flow_run_id = :id"), {"id": run["id"]}
        ).all()
    assert stored and {row.status for row in stored} == {"completed"}


def _wait_terminal(client: httpx.Client, flow_run_id: str, seconds: float = 240) -> str:
    deadline = time.monotonic() + seconds
    state = ""
    while time.monotonic() < deadline:
        state = client.get(f"/flow_runs/{flow_run_id}").json()["state"]["type"]
        if state in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
            return str(state)
        time.sleep(1)
    raise TimeoutError(f"flow run {flow_run_id} still {state}")
