"""Migrations: idempotent, safe to run concurrently, and exactly the SQLModel schema."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from pm_lib.store import get_cursor, set_cursor
from pm_lib.store.account import stored_balance
from pm_lib.store.engine import (
    MIGRATIONS_DIR,
    create_fresh,
    current_revision,
    head_revision,
    make_engine,
    session_scope,
    upgrade,
)
from pm_lib.store.tables import metadata


def test_fresh_database_has_no_revision(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert current_revision(engine) is None


def test_upgrade_reaches_the_head_revision(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()


def test_upgrade_twice_changes_nothing(engine: Engine) -> None:
    assert upgrade(engine) == head_revision()


def test_migrated_schema_equals_the_table_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_the_migrations_metadata_holds_every_migrated_table_in_a_fresh_interpreter(
    engine: Engine,
) -> None:
    # Alembic's env.py reads pm_lib.store.tables.metadata; a table declared in a module nobody
    # imported would be missing from it, and autogenerate would propose dropping it.
    script = "from pm_lib.store.tables import metadata; print(' '.join(sorted(metadata.tables)))"
    declared = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    with engine.connect() as connection:
        migrated = set(inspect(connection).get_table_names()) - {"alembic_version"}
    assert "market_lease" in migrated
    assert set(declared) == migrated


def _migrate_in_two_processes(url: str) -> list[str]:
    script = (
        "import sys; from pm_lib.store.engine import make_engine, upgrade; "
        "print(upgrade(make_engine(sys.argv[1])))"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]
    return [out.strip() for out, _ in outputs]


def test_two_processes_migrating_sqlite_at_once_both_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    assert _migrate_in_two_processes(url) == [head_revision(), head_revision()]


@pytest.mark.postgres
def test_two_processes_migrating_postgres_at_once_both_succeed(
    postgres_scratch_schema_url: str,
) -> None:
    assert _migrate_in_two_processes(postgres_scratch_schema_url) == [
        head_revision(),
        head_revision(),
    ]


def test_every_migration_downgrades_and_upgrades_again(sqlite_engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with sqlite_engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        connection.commit()
    assert current_revision(sqlite_engine) is None
    assert upgrade(sqlite_engine) == head_revision()


def test_two_threads_migrating_at_once_both_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'threads.db'}"
    results: list[str] = []
    barrier = threading.Barrier(2)

    def migrate() -> None:
        barrier.wait()
        results.append(upgrade(make_engine(url)))

    threads = [threading.Thread(target=migrate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [head_revision(), head_revision()]


def test_0008_moves_the_live_balance_from_its_cursor_to_a_money_column(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'balance.db'}")
    upgrade(engine, "0007")
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with session_scope(engine) as session:
        set_cursor(session, "live:balance", "1234.567891", at=at)
    upgrade(engine)
    with session_scope(engine, read_only=True) as session:
        assert stored_balance(session, "live") == (Decimal("1234.567891"), at)
        assert get_cursor(session, "live:balance") is None
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
        connection.commit()
    with session_scope(engine, read_only=True) as session:
        assert get_cursor(session, "live:balance") == "1234.567891"
    engine.dispose()


def test_the_head_constant_is_the_newest_migration() -> None:
    """``HEAD_REVISION`` lets a store at head skip Alembic: it must name the newest migration."""
    from pm_lib.store.engine import HEAD_REVISION, head_revision

    assert head_revision() == HEAD_REVISION


def _schema(engine: Engine) -> dict[str, object]:
    """Every table's columns (type, nullability, server default, key), keys, indexes and
    constraints, as the database reports them."""
    found = inspect(engine)
    return {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"), c.get("primary_key"))
                for c in found.get_columns(table)
            ],
            "pk": found.get_pk_constraint(table),
            "fks": sorted(map(str, found.get_foreign_keys(table))),
            "indexes": sorted(map(str, found.get_indexes(table))),
            "unique": sorted(map(str, found.get_unique_constraints(table))),
            "checks": sorted(map(str, found.get_check_constraints(table))),
        }
        for table in sorted(found.get_table_names())
    }


def test_a_store_created_fresh_has_the_migrated_schema_at_head(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """``create_fresh`` (a backtest's throwaway store) builds what the migrations build."""
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert create_fresh(fresh) == head_revision()
    assert _schema(fresh) == _schema(sqlite_engine)
    assert current_revision(fresh) == head_revision()
    assert upgrade(fresh) == head_revision()  # already at head: nothing to run
    with pytest.raises(RuntimeError, match="empty database"):
        create_fresh(fresh)
