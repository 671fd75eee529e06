"""Fixtures for the venue-edge tests: recorded real venue JSON from tests/resources/."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def load_resource(name: str) -> Any:
    """A recorded venue JSON file from tests/resources/ (see PROVENANCE.md)."""
    return json.loads((RESOURCES / name).read_text(encoding="utf-8"))


@pytest.fixture
def resource() -> Callable[[str], Any]:
    """Load a fresh (mutable) copy of a recorded venue JSON file."""
    return lambda name: copy.deepcopy(load_resource(name))


@pytest.fixture
def gamma_market(resource: Callable[[str], Any]) -> dict[str, Any]:
    """Live Gamma market 559651 (politics fees, version v1, JSON-string fields)."""
    market: dict[str, Any] = resource(
        "ChloePike-go-polymarket__gamma_market_559651_2026-08-16.json"
    )
    return market


@pytest.fixture
def live_book(resource: Callable[[str], Any]) -> dict[str, Any]:
    """A full live /book capture (best prices last, genuine hash)."""
    book: dict[str, Any] = resource("sajiiid09-polywatch__book.json")
    return book


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (the venue clients use asyncio primitives)."""
    return "asyncio"


class FakeTime:
    """A monotonic clock that only moves when code sleeps: no test waits for real."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        """The current fake time in seconds."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Record the sleep and jump the clock forward by it."""
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    """A fresh fake clock at t=0."""
    return FakeTime()
