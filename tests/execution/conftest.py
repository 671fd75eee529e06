"""Execution fixtures: a migrated SQLite file per test, paper settings, and a running emulator
with a live executor (real SDK) connected to it."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from pm_lib.auth import Credentials, credentials_from_mapping
from pm_lib.execution.live import LiveExecutor
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimVenue
from pm_lib.store import make_engine, upgrade
from pm_lib.venue.trading import TradingClient
from tests.execution.emulator import KEY, make_venue


def db_url(path: Path) -> str:
    """The SQLite file of one test."""
    return f"sqlite:///{path / 'pm_agent.db'}"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(db_url(tmp_path))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, paper_balance=Decimal("100"))  # type: ignore[call-arg]


@pytest.fixture
def venue() -> SimVenue:
    return make_venue()


@pytest.fixture
def running(venue: SimVenue) -> Iterator[RunningVenue]:
    with running_venue(venue) as r:
        yield r


@pytest.fixture
def live_settings(tmp_path: Path, running: RunningVenue) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        mode="live",
        clob_url=running.clob_url,
        gamma_url=running.gamma_url,
        data_dir=tmp_path,
        http_timeout_seconds=3.0,
        http_max_retries=1,  # one retry: a persistent fault fails fast (test_read_retries)
    )


@pytest.fixture
def credentials() -> Credentials:
    return credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY})


@pytest.fixture
def live(
    live_settings: Settings, engine: Engine, credentials: Credentials
) -> Iterator[LiveExecutor]:
    executor = LiveExecutor.connect(live_settings, engine, credentials, run_id="r1")
    yield executor
    executor.close()


def connected(
    settings: Settings,
    engine: Engine,
    credentials: Credentials,
    client_type: type[TradingClient] = TradingClient,
    *,
    run_id: str = "r1",
    **options: Any,
) -> LiveExecutor:
    """A live executor whose adapter is ``client_type`` (a TradingClient subclass that calls
    the real one, e.g. to crash right after a post)."""
    client = client_type.connect(settings, credentials)
    return LiveExecutor(settings, engine, client, run_id=run_id, **options)
