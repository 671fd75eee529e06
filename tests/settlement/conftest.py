"""Fixtures of the live settlement tests: a running emulator, live settings, a real SQLite DB
(test_settle.py, the paper tests, defines its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.store import make_engine, upgrade
from tests.execution.emulator import make_venue


@pytest.fixture
def running() -> Iterator[RunningVenue]:
    with running_venue(make_venue()) as r:
        yield r


@pytest.fixture
def live_settings(tmp_path: Path, running: RunningVenue) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        mode="live",
        clob_url=running.clob_url,
        gamma_url=running.gamma_url,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'pm_agent.db'}",
        http_timeout_seconds=5.0,
        http_max_retries=1,
    )


@pytest.fixture
def engine(live_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(live_settings.resolved_database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
