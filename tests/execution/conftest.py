"""Execution fixtures: a migrated SQLite file per test and paper settings."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pm_lib.settings import Settings
from pm_lib.store import make_engine, upgrade


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
