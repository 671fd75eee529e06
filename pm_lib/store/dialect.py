"""Backend-specific ``INSERT`` with ``ON CONFLICT`` (SQLite and PostgreSQL spell it alike)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["ConflictInsert", "conflict_insert"]

ConflictInsert = sqlite.Insert | postgresql.Insert


def conflict_insert(session: Session, table: Any) -> ConflictInsert:
    """An ``INSERT`` into ``table`` that supports ``on_conflict_do_*`` on the session's backend."""
    name = session.get_bind().dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"pm-agent's store supports SQLite and PostgreSQL, not {name}")
