"""Flow tests: one session-scoped Prefect test API, an emulator, and pm-agent pointed at both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.environment import apply_prefect_defaults
from pm_lib.sim.scenarios import plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimConfig, SimVenue


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A local Prefect API for the whole session (it takes ~20 s to start; start it once)."""
    apply_prefect_defaults(tmp_path_factory.mktemp("prefect-data"))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def flow_venue() -> Iterator[RunningVenue]:
    """An emulator for the flow tests (its universe is generated from a fixed seed)."""
    with running_venue(SimVenue(SimConfig(seed=5, markets=150))) as running:
        yield running


@pytest.fixture()
def planted(flow_venue: RunningVenue) -> RunningVenue:
    """The venue with one neg-risk basket whose YES asks sum to 0.90 (a 10% arbitrage)."""
    plant_negrisk_arbitrage(flow_venue.venue)
    return flow_venue


@pytest.fixture()
def pm_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, flow_venue: RunningVenue) -> Path:
    """pm-agent settings for one test: paper, the emulator, a fresh SQLite file."""
    db = tmp_path / "pm_agent.db"
    for key, value in {
        "PM_MODE": "paper",
        "PM_CLOB_URL": flow_venue.clob_url,
        "PM_GAMMA_URL": flow_venue.gamma_url,
        "PM_DATA_DIR": str(tmp_path),
        "PM_DATABASE_URL": f"sqlite:///{db}",
    }.items():
        monkeypatch.setenv(key, value)
    return db


@pytest.fixture()
def books_down(
    pm_env: Path, flow_venue: RunningVenue, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Every POST /books answers 503, and pm-agent's reader does not retry it."""
    monkeypatch.setenv("PM_HTTP_MAX_RETRIES", "0")
    down = flow_venue.venue.faults.add(kind="error", path="^/books$", status=503)
    try:
        yield
    finally:
        flow_venue.venue.faults.remove(down.rule_id)
