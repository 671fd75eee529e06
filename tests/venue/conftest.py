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
