"""Alembic environment for pm-agent's tables.

``pm_lib.store.upgrade(engine)`` hands in an open connection (``config.attributes``). Run from the
``alembic`` command line instead (e.g. to draft a revision), it builds an engine from the
``sqlalchemy.url`` option. Every backend migrates in one transaction: SQLite supports
transactional DDL, and its ``BEGIN IMMEDIATE`` makes a second process wait for the first.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from pm_lib.store.engine import make_engine
from pm_lib.store.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        transactional_ddl=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or migrate with pm_lib.store.upgrade(engine)")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


_main()
