"""Budget reservations: a per-wallet lock row and what each run's approvals hold.

See ``pm_lib.store.reservations``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pm_lib.store.types import Money, UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create budget_lock and budget_reservation."""
    op.create_table(
        "budget_lock",
        sa.Column("mode", sa.String(), primary_key=True),
        sa.Column("locked_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "budget_reservation",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("opportunity_id", sa.String(), nullable=False),
        sa.Column("exposure", Money(), nullable=False),
        sa.Column("fees", Money(), nullable=False),
        sa.Column("open_orders", sa.Integer(), nullable=False),
        sa.Column("by_market", sa.JSON(), nullable=False),
        sa.Column("by_group", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.UniqueConstraint(
            "mode", "run_id", "opportunity_id", name="uq_budget_reservation_claim"
        ),
    )
    op.create_index(
        "ix_budget_reservation_open", "budget_reservation", ["mode", "released_at"]
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index("ix_budget_reservation_open", table_name="budget_reservation")
    op.drop_table("budget_reservation")
    op.drop_table("budget_lock")
