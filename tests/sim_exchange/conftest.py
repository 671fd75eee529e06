"""Fixtures: a running emulator with two hand-built markets and a real SDK client against it.

Until the market-data side serves the public routes the SDK needs while it builds orders, the
autouse fixture adds the stubs of ``emulated_venue`` for paths the real app does not serve yet.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from py_clob_client_v2.client import ClobClient

import pm_lib.sim.server as sim_server
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimVenue
from tests.sim_exchange.emulated_venue import authed_client, make_venue, with_stubs


@pytest.fixture(autouse=True)
def _stub_public_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim_server, "create_app", with_stubs(sim_server.create_app))


@pytest.fixture
def venue() -> SimVenue:
    return make_venue()


@pytest.fixture
def running(venue: SimVenue) -> Iterator[RunningVenue]:
    with running_venue(venue) as r:
        yield r


@pytest.fixture
def client(running: RunningVenue) -> ClobClient:
    return authed_client(running)
