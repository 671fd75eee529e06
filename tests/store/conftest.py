"""Store fixtures: a migrated SQLite file per test, and PostgreSQL when it is reachable.

PostgreSQL runs in a throwaway schema (``pm_store_<random>``) of the shared database, created
once per test session, emptied after each test, and dropped at the end. The URL comes from
``PM_TEST_POSTGRES_URL`` or defaults to ``postgresql://postgres@127.0.0.1:5432/test``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from pm_lib.store.engine import make_engine, upgrade
from pm_lib.store.tables import metadata

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_base_url() -> str:
    return os.environ.get("PM_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _libpq_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _throwaway_schema() -> Iterator[str]:
    base = _postgres_base_url()
    try:
        admin = psycopg.connect(_libpq_dsn(base), connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as error:
        pytest.skip(
            f"PostgreSQL not reachable at {make_url(base)!r} ({error}); set PM_TEST_POSTGRES_URL"
        )
    schema = f"pm_store_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections live in a fresh schema; skips when PostgreSQL is unreachable."""
    with _throwaway_schema() as url:
        yield url


@pytest.fixture
def postgres_scratch_schema_url() -> Iterator[str]:
    """Like ``postgres_schema_url`` but empty and private to one test (no tables yet)."""
    with _throwaway_schema() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_engine(postgres_schema_url: str) -> Iterator[Engine]:
    """A migrated PostgreSQL engine shared by the session (tables are emptied per test)."""
    engine = make_engine(postgres_schema_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _empty_tables(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite file in the test's temporary folder."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty database: SQLite always, PostgreSQL when reachable."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_engine")
        return
    postgres: Engine = request.getfixturevalue("postgres_engine")
    try:
        yield postgres
    finally:
        _empty_tables(postgres)
