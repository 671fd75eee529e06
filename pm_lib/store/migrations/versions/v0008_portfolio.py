"""Portfolio: last trusted marks per held token, the daily-loss breaker, the live balance.

The live balance was a string in ``sync_cursor`` (key ``live:balance``); it moves to its own
money column and the cursor row is dropped (a downgrade puts it back).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pm_lib.store.types import Money, UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

_CURSOR_KEY = "live:balance"


def upgrade() -> None:
    """Create position_mark, daily_loss_breaker and account_balance; move the live balance."""
    op.create_table(
        "position_mark",
        sa.Column("mode", sa.String(), primary_key=True),
        sa.Column("token_id", sa.String(), primary_key=True),
        sa.Column("condition_id", sa.String(), nullable=False),
        sa.Column("size", Money(), nullable=False),
        sa.Column("value", Money(), nullable=False),
        sa.Column("marked_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "daily_loss_breaker",
        sa.Column("mode", sa.String(), primary_key=True),
        sa.Column("day", sa.String(), primary_key=True),
        sa.Column("tripped_at", UTCDateTime(), nullable=False),
        sa.Column("loss", Money(), nullable=False),
        sa.Column("limit", Money(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
    )
    balance = op.create_table(
        "account_balance",
        sa.Column("mode", sa.String(), primary_key=True),
        sa.Column("balance", Money(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=False),
    )
    cursor = sa.table(
        "sync_cursor",
        sa.column("key", sa.String()),
        sa.column("value", sa.String()),
        sa.column("updated_at", UTCDateTime()),
    )
    bind = op.get_bind()
    row = bind.execute(
        sa.select(cursor.c.value, cursor.c.updated_at).where(cursor.c.key == _CURSOR_KEY)
    ).one_or_none()
    if row is not None:
        from decimal import Decimal

        op.bulk_insert(
            balance, [{"mode": "live", "balance": Decimal(row.value), "read_at": row.updated_at}]
        )
        bind.execute(sa.delete(cursor).where(cursor.c.key == _CURSOR_KEY))


def downgrade() -> None:
    """Drop the three tables (the live balance goes back to its cursor)."""
    balance = sa.table(
        "account_balance",
        sa.column("mode", sa.String()),
        sa.column("balance", Money()),
        sa.column("read_at", UTCDateTime()),
    )
    bind = op.get_bind()
    row = bind.execute(
        sa.select(balance.c.balance, balance.c.read_at).where(balance.c.mode == "live")
    ).one_or_none()
    if row is not None:
        cursor = sa.table(
            "sync_cursor",
            sa.column("key", sa.String()),
            sa.column("value", sa.String()),
            sa.column("updated_at", UTCDateTime()),
        )
        op.bulk_insert(
            cursor, [{"key": _CURSOR_KEY, "value": str(row.balance), "updated_at": row.read_at}]
        )
    op.drop_table("account_balance")
    op.drop_table("daily_loss_breaker")
    op.drop_table("position_mark")
