"""Backend-specific ``INSERT`` with ``ON CONFLICT`` (SQLite and PostgreSQL spell it alike).

Each dialect's module is imported when a session on that backend first inserts: importing
``sqlalchemy.dialects.postgresql`` also loads its asyncpg, pg8000 and psycopg dialects, which a
SQLite process (and every read-only command) never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["ConflictInsert", "conflict_insert"]

ConflictInsert: TypeAlias = "sqlite.Insert | postgresql.Insert"


def conflict_insert(session: Session, table: Any) -> ConflictInsert:
    """An ``INSERT`` into ``table`` that supports ``on_conflict_do_*`` on the session's backend."""
    name = session.get_bind().dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    raise NotImplementedError(f"pm-agent's store supports SQLite and PostgreSQL, not {name}")
