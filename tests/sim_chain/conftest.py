"""Fixtures: a running emulator (two hand-built markets) and the real unified SDK against it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimVenue
from tests.sim_exchange.emulated_venue import make_venue


@pytest.fixture
def venue() -> SimVenue:
    return make_venue()


@pytest.fixture
def running(venue: SimVenue) -> Iterator[RunningVenue]:
    with running_venue(venue) as r:
        yield r
