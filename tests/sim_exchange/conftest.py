"""Fixtures: a running emulator with two hand-built markets and a real SDK client against it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from py_clob_client_v2.client import ClobClient

from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimVenue
from tests.sim_exchange.emulated_venue import authed_client, make_venue


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
