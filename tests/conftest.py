"""The database every store-backed test runs on: SQLite by default, PostgreSQL on request.

Without ``PM_TEST_DATABASE_URL`` a test's database is a SQLite file in its ``tmp_path``. With it
(e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``) each test gets a throwaway schema
of that database instead, dropped when the test ends:

- ``database_url`` hands that URL to the tests that ask for it;
- test modules that build their engines through a module-level ``db_url(path)`` function
  (``tests/execution``) are pointed at the same schema, so they run on PostgreSQL unchanged;
- ``tests/store`` already runs on both backends; its PostgreSQL server (``PM_TEST_POSTGRES_URL``)
  defaults to this one.

``postgres_url`` is the same throwaway schema for tests that need PostgreSQL whatever the
setting (marked ``postgres``); they skip when 127.0.0.1:5432 does not answer.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_POSTGRES_URL", "throwaway_schema"]

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_DATABASE_URL = os.environ.get("PM_TEST_DATABASE_URL") or None
if TEST_DATABASE_URL:
    os.environ.setdefault("PM_TEST_POSTGRES_URL", TEST_DATABASE_URL)


@contextmanager
def throwaway_schema(base_url: str) -> Iterator[str]:
    """A URL of ``base_url`` whose connections live in a new, empty schema, dropped on exit.

    Skips the test when the server does not answer.
    """
    dsn = make_url(base_url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(dsn, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL not reachable at {make_url(base_url)!r}: {error}")
    schema = f"pm_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL schema (``PM_TEST_DATABASE_URL`` or 127.0.0.1:5432/test)."""
    with throwaway_schema(TEST_DATABASE_URL or DEFAULT_POSTGRES_URL) as url:
        yield url


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """This test's database: a SQLite file, or a PostgreSQL schema with PM_TEST_DATABASE_URL."""
    if TEST_DATABASE_URL is None:
        yield f"sqlite:///{tmp_path / 'pm_agent.db'}"
        return
    with throwaway_schema(TEST_DATABASE_URL) as url:
        yield url


@pytest.fixture(autouse=True)
def _suite_database_on_postgres(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With PM_TEST_DATABASE_URL, point modules' ``db_url(path)`` at this test's schema."""
    if TEST_DATABASE_URL is None:
        return
    module = request.node.module if isinstance(request.node, pytest.Function) else None
    package = getattr(module, "__package__", None) or ""
    owners = [m for m in (module, sys.modules.get(f"{package}.conftest")) if m is not None]
    owners = [m for m in owners if callable(getattr(m, "db_url", None))]
    if not owners:
        return
    url = request.getfixturevalue("database_url")
    for owner in owners:
        monkeypatch.setattr(owner, "db_url", lambda _path: url)


# The slow tests: the inner loop (`uv run pytest -m "not slow"`) leaves them out, CI runs them.
# A Prefect harness or a real server (markers `prefect`, `e2e`), and these modules, each of
# which starts worker processes, a whole CLI session or a migration chain per test.
SLOW_MODULES = frozenset(
    {
        "tests/reliability/test_chaos.py",
        "tests/reliability/test_concurrency.py",
        "tests/reliability/test_budget_race.py",
        "tests/reliability/test_secrets_everywhere.py",
        "tests/store/test_migrations.py",
        "tests/sim_data/test_cli_serve.py",
        "tests/pipeline/test_catalogue_refresh.py",
        "tests/sim_chain/test_admission.py",
        "tests/sim_chain/test_chain_faults.py",
        "tests/sim_chain/test_settle_sdk.py",
        "tests/cli/test_startup.py",
        "tests/settlement/test_live_settle.py",
        "tests/settlement/test_live_settle_faults.py",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(str(config.rootpath))
    for item in items:
        module = Path(str(item.path)).relative_to(root).as_posix()
        if (
            module in SLOW_MODULES
            or item.get_closest_marker("prefect")
            or item.get_closest_marker("e2e")
        ):
            item.add_marker(pytest.mark.slow)
