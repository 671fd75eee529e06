"""Catalogue cache and runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pm_lib.store.types import Money, Price, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create catalogue_market, catalogue_event, catalogue_refresh and run."""
    op.create_table(
        "catalogue_market",
        sa.Column("condition_id", sa.String(), primary_key=True),
        sa.Column("market_id", sa.String(), nullable=False),
        sa.Column("question", sa.String(), nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("neg_risk", sa.Boolean(), nullable=False),
        sa.Column("neg_risk_market_id", sa.String(), nullable=True),
        sa.Column("event_id", sa.String(), nullable=True),
        sa.Column("tick_size", Price(), nullable=False),
        sa.Column("min_order_size", Money(), nullable=False),
        sa.Column("fee_rate", Price(), nullable=False),
        sa.Column("fee_exponent", sa.Integer(), nullable=False),
        sa.Column("fee_taker_only", sa.Boolean(), nullable=False),
        sa.Column("fee_rebate_rate", Price(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("accepting_orders", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("end_date", UTCDateTime(), nullable=True),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("refreshed_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_catalogue_market_event_id", "catalogue_market", ["event_id"])
    op.create_index(
        "ix_catalogue_market_neg_risk_market_id", "catalogue_market", ["neg_risk_market_id"]
    )
    op.create_index("ix_catalogue_market_refreshed_at", "catalogue_market", ["refreshed_at"])

    op.create_table(
        "catalogue_event",
        sa.Column("event_id", sa.String(), primary_key=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("neg_risk", sa.Boolean(), nullable=False),
        sa.Column("neg_risk_augmented", sa.Boolean(), nullable=False),
        sa.Column("neg_risk_market_id", sa.String(), nullable=True),
        sa.Column("market_condition_ids", sa.JSON(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("refreshed_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_catalogue_event_refreshed_at", "catalogue_event", ["refreshed_at"])

    op.create_table(
        "catalogue_refresh",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("markets", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.Column("flow_run_id", sa.String(), nullable=True),
    )
    op.create_index("ix_catalogue_refresh_fetched_at", "catalogue_refresh", ["fetched_at"])

    op.create_table(
        "run",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        sa.Column("flow_name", sa.String(), nullable=False),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("markets", sa.Integer(), nullable=False),
        sa.Column("books", sa.Integer(), nullable=False),
        sa.Column("opportunities", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("stage_timings", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
    )
    op.create_index("ix_run_started_at", "run", ["started_at"])


def downgrade() -> None:
    """Drop the catalogue and run tables."""
    op.drop_table("run")
    op.drop_table("catalogue_refresh")
    op.drop_table("catalogue_event")
    op.drop_table("catalogue_market")
