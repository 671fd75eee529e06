"""Database engine, session lifecycle and migrations.

SQLite (the default, one machine) runs in WAL mode with foreign keys on and a 5 s busy timeout.
A SQLite transaction starts with ``BEGIN IMMEDIATE``: writers queue on the file lock (within the
busy timeout) instead of failing at once with ``SQLITE_BUSY`` when a read turns into a write
after another writer committed. The price is that writing transactions are serialised: keep
``session_scope`` blocks short, never hold one across a network call, and never open a second
one inside the first in the same thread (it would wait for the first and time out). A
``session_scope(engine, read_only=True)`` begins a deferred transaction instead, which reads a
WAL snapshot without waiting for writers. PostgreSQL (several workers) is reached through
psycopg 3; a plain ``postgresql://`` URL is mapped to ``postgresql+psycopg://``.

Migrations live in this package (``pm_lib/store/migrations``) and are applied by ``upgrade``,
idempotently; two processes may call it at once (PostgreSQL: advisory lock; SQLite: the
immediate transaction holds the file's write lock). A throwaway database (a backtest's) is
created at head directly by ``create_fresh`` (the table models, tested equal to the migrated
schema).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config

    from pm_lib.settings import Settings

__all__ = [
    "MIGRATIONS_DIR",
    "SQLITE_BUSY_TIMEOUT_MS",
    "create_fresh",
    "current_revision",
    "engine_from_settings",
    "head_revision",
    "make_engine",
    "masked_url",
    "session_scope",
    "upgrade",
]

SQLITE_BUSY_TIMEOUT_MS = 5_000
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant 64-bit key shared by every pm-agent process that migrates the same database.
_MIGRATION_LOCK_KEY = 0x706D_6167_656E_7401
_READ_ONLY_OPTION = "pm_read_only"
# Alembic keeps the running migration context in module globals: one migration per process.
_ALEMBIC_IN_PROCESS = Lock()


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _json_dumps(value: object) -> str:
    return orjson.dumps(value, default=_json_default).decode()


def _normalise_url(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL) -> Engine:
    """An engine for ``url``: SQLite (WAL, FKs, busy timeout) or PostgreSQL (psycopg 3).

    A SQLite file's folder is created on demand; ``sqlite://`` (in memory) shares one connection.
    """
    parsed = _normalise_url(url)
    common: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, **common)
    in_memory = parsed.database in (None, "", ":memory:")
    if in_memory:
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False},
            poolclass=StaticPool,
            **common,
        )
    else:
        Path(str(parsed.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False}, **common)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (it defers BEGIN and breaks
        # SAVEPOINT); the "begin" hook below issues BEGIN IMMEDIATE instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def engine_from_settings(settings: Settings) -> Engine:
    """The engine for ``settings.resolved_database_url`` (SQLite in ``data_dir`` by default)."""
    return make_engine(settings.resolved_database_url)


def masked_url(url: str | URL) -> str:
    """``url`` as text with any password replaced by ``***`` (safe to print or log)."""
    return _normalise_url(url).render_as_string(hide_password=True)


@contextmanager
def session_scope(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """A session that commits when the block ends, rolls back on any error, and always closes.

    Loaded objects stay readable after the commit (``expire_on_commit=False``). ``read_only``
    is a promise not to write: on SQLite the transaction then neither takes nor waits for the
    write lock (a write inside it may fail with "database is locked").
    """
    bind = engine.execution_options(**{_READ_ONLY_OPTION: True}) if read_only else engine
    session = Session(bind, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        from pm_lib.store.trades import forget_kept_fills

        forget_kept_fills()  # a kept ledger may hold what was rolled back
        raise
    finally:
        session.close()


# Alembic is imported where it is used: the CLI's read-only commands open the store without
# paying its import when the database is already at head (``upgrade``'s fast path).

HEAD_REVISION = "0016"
"""The newest migration shipped (a test checks it against the migrations directory), so a
database already there is recognised by one query, without loading Alembic."""


def _at_head(engine: Engine) -> bool:
    try:
        with engine.execution_options(**{_READ_ONLY_OPTION: True}).connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except Exception:  # no table yet (a new database): the full upgrade path creates it
        return False
    return [row[0] for row in found] == [HEAD_REVISION]


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration revision shipped with this package."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` before the first ``upgrade``)."""
    from alembic.runtime.migration import MigrationContext

    with engine.execution_options(**{_READ_ONLY_OPTION: True}).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Apply migrations up to ``revision`` (idempotent); returns the database's revision.

    Safe when several processes start together: on PostgreSQL they queue on an advisory lock;
    on SQLite the migration's ``BEGIN IMMEDIATE`` transaction holds the file's write lock.
    """
    if revision == "head" and _at_head(engine):
        return HEAD_REVISION
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    is_postgres = engine.dialect.name == "postgresql"
    with _ALEMBIC_IN_PROCESS, engine.connect() as connection:
        if is_postgres:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            connection.commit()
        try:
            command.upgrade(_alembic_config(connection), revision)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            if is_postgres:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
                connection.commit()
        reached = MigrationContext.configure(connection).get_current_revision()
        connection.commit()
    return reached or ""


def create_fresh(engine: Engine) -> str:
    """A new, empty database at the newest schema without running the migrations: the table
    models' DDL (``pm_lib.store.tables``, which the migrations create exactly: a test compares
    the two schemas) and ``HEAD_REVISION`` stamped, so ``upgrade`` later finds it at head.
    ~10 ms where the migrations take ~0.4 s (importing Alembic, 16 steps); for throwaway
    databases (a backtest's scratch store). A database that has tables already is refused.
    """
    from sqlalchemy import inspect

    from pm_lib.store.tables import metadata

    with engine.begin() as connection:
        found = inspect(connection).get_table_names()
        if found:
            raise RuntimeError(f"create_fresh wants an empty database; this one has {found[:3]}")
        metadata.create_all(connection)
        connection.execute(
            text(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
            )
        )
        connection.execute(
            text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD_REVISION}
        )
    return HEAD_REVISION
