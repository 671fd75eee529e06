"""Pipeline fixtures: the store's migrated databases (SQLite always, PostgreSQL when reachable)."""

from tests.store.conftest import (  # noqa: F401  (fixtures, found by pytest by name)
    engine,
    postgres_engine,
    postgres_schema_url,
    sqlite_engine,
)
