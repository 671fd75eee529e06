"""Settlement: how markets resolved (``market_resolution``) and the redemptions they allowed
(``settlement``, journalled: stored before it is applied, applied once).

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pm_lib.store.types import Money, Price, UTCDateTime

revision: str = "0015"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create market_resolution and settlement."""
    op.create_table(
        "market_resolution",
        sa.Column("condition_id", sa.String(), primary_key=True),
        sa.Column("winning_token_id", sa.String(), nullable=True),
        sa.Column("winning_outcome", sa.String(), nullable=True),
        sa.Column("payouts", sa.JSON(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "settlement",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("token_id", sa.String(), nullable=False),
        sa.Column("condition_id", sa.String(), nullable=False),
        sa.Column("size", Money(), nullable=False),
        sa.Column("payout", Price(), nullable=False),
        sa.Column("proceeds", Money(), nullable=False),
        sa.Column("cost", Money(), nullable=False),
        sa.Column("fees", Money(), nullable=False),
        sa.Column("realised", Money(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=True),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        sa.UniqueConstraint("mode", "token_id", name="uq_settlement_mode_token"),
    )
    op.create_index("ix_settlement_status", "settlement", ["mode", "status"])


def downgrade() -> None:
    """Drop settlement and market_resolution."""
    op.drop_index("ix_settlement_status", table_name="settlement")
    op.drop_table("settlement")
    op.drop_table("market_resolution")
