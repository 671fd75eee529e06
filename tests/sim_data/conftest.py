"""Fixtures for the emulator's market-data side: a small seeded venue served on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimConfig, SimVenue

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def resource(name: str) -> Any:
    """A recorded venue sample copied into tests/resources (see PROVENANCE.md)."""
    return json.loads((RESOURCES / name).read_text(encoding="utf-8"))


def frozen_venue(markets: int = 300, seed: int = 11, **options: Any) -> SimVenue:
    """A generated venue whose clock stands still (books stay at epoch 0)."""
    venue = SimVenue(SimConfig(markets=markets, seed=seed, **options))
    clock = venue.state.clock
    clock.frozen_at = clock.now() - clock.offset_seconds
    return venue


@pytest.fixture(scope="module")
def served() -> Iterator[RunningVenue]:
    """A 300-market venue on a free port, clock frozen, rate limits off (shape tests)."""
    with running_venue(frozen_venue(enforce_rate_limits=False)) as rv:
        yield rv


@pytest.fixture(scope="module")
def clob(served: RunningVenue) -> Iterator[httpx.Client]:
    """An httpx client for the CLOB side."""
    with httpx.Client(base_url=served.clob_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def gamma(served: RunningVenue) -> Iterator[httpx.Client]:
    """An httpx client for the Gamma side."""
    with httpx.Client(base_url=served.gamma_url, timeout=10) as client:
        yield client
