"""Engine set-up and the session lifecycle."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from pm_lib.settings import Settings
from pm_lib.store.engine import engine_from_settings, make_engine, masked_url, session_scope


def _pragma(engine: Engine, name: str) -> object:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_runs_in_wal_mode(sqlite_engine: Engine) -> None:
    assert _pragma(sqlite_engine, "journal_mode") == "wal"


def test_sqlite_enforces_foreign_keys(sqlite_engine: Engine) -> None:
    assert _pragma(sqlite_engine, "foreign_keys") == 1


def test_sqlite_waits_for_a_busy_database(sqlite_engine: Engine) -> None:
    assert _pragma(sqlite_engine, "busy_timeout") == 5000


def test_sqlite_folder_is_created_on_demand(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'deeper' / 'pm.db'}")
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()
    assert (tmp_path / "nested" / "deeper" / "pm.db").exists()


def test_plain_postgresql_url_uses_psycopg3() -> None:
    engine = make_engine("postgresql://user:pw@127.0.0.1:5432/db")
    assert engine.dialect.driver == "psycopg"


def test_masked_url_hides_the_password() -> None:
    assert masked_url("postgresql://user:s3cret@db.local/pm") == (
        "postgresql+psycopg://user:***@db.local/pm"
    )


def test_engine_from_settings_defaults_to_sqlite_in_data_dir(tmp_path: Path) -> None:
    engine = engine_from_settings(Settings(data_dir=tmp_path / "data"))
    assert engine.url.database == str((tmp_path / "data" / "pm_agent.db").resolve())


def test_session_scope_commits_on_success(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.execute(
            text(
                "INSERT INTO sync_cursor (key, value, updated_at) "
                "VALUES ('k', 'v', '2026-11-23 00:00:00')"
            )
        )
    with session_scope(engine) as session:
        assert session.execute(text("SELECT value FROM sync_cursor")).scalar_one() == "v"


def test_session_scope_rolls_back_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError, match="boom"), session_scope(engine) as session:
        session.execute(
            text(
                "INSERT INTO sync_cursor (key, value, updated_at) "
                "VALUES ('k', 'v', '2026-11-23 00:00:00')"
            )
        )
        raise RuntimeError("boom")
    with session_scope(engine) as session:
        assert session.execute(text("SELECT count(*) FROM sync_cursor")).scalar_one() == 0


def test_session_scope_returns_its_connection_after_an_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.execute(text("SELECT 1"))
        raise RuntimeError("boom")
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_session_scope_returns_its_connection_after_success(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.execute(text("SELECT 1"))
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_in_memory_sqlite_keeps_its_data_across_sessions() -> None:
    engine = make_engine("sqlite://")
    with session_scope(engine) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
    with session_scope(engine) as session:
        assert session.execute(text("SELECT x FROM t")).scalar_one() == 1


def test_read_only_session_reads_while_another_session_writes(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as writer:
        writer.execute(
            text(
                "INSERT INTO sync_cursor (key, value, updated_at) "
                "VALUES ('k', 'v', '2026-11-23 00:00:00')"
            )
        )
        with session_scope(sqlite_engine, read_only=True) as reader:
            seen = reader.execute(text("SELECT count(*) FROM sync_cursor")).scalar_one()
    assert seen == 0
