"""Signals: opportunities and risk decisions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pm_lib.store.types import Money, UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create opportunity and risk_decision (one row per run and opportunity each)."""
    op.create_table(
        "opportunity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(), sa.ForeignKey("run.id"), nullable=False),
        sa.Column("opportunity_id", sa.String(), nullable=False),
        sa.Column("strategy", sa.String(), nullable=False),
        sa.Column("market", sa.String(), nullable=False),
        sa.Column("edge", Money(), nullable=False),
        sa.Column("cost", Money(), nullable=False),
        sa.Column("fees", Money(), nullable=False),
        sa.Column("payout", Money(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("legs", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        sa.UniqueConstraint("run_id", "opportunity_id", name="uq_opportunity_run_opportunity"),
    )
    op.create_table(
        "risk_decision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(), sa.ForeignKey("run.id"), nullable=False),
        sa.Column("opportunity_id", sa.String(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        sa.UniqueConstraint("run_id", "opportunity_id", name="uq_risk_decision_run_opportunity"),
    )


def downgrade() -> None:
    """Drop the signal tables."""
    op.drop_table("risk_decision")
    op.drop_table("opportunity")
