"""Execution: order intents, fills, leg risks and sync cursors.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pm_lib.store.types import Money, Price, UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create order_intent, fill, leg_risk and sync_cursor."""
    op.create_table(
        "order_intent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("intent_key", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("opportunity_id", sa.String(), nullable=False),
        sa.Column("leg_index", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("token_id", sa.String(), nullable=False),
        sa.Column("condition_id", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("size", Money(), nullable=False),
        sa.Column("price", Price(), nullable=False),
        sa.Column("order_type", sa.String(), nullable=False),
        sa.Column("post_only", sa.Boolean(), nullable=False),
        sa.Column("neg_risk", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("venue_order_id", sa.String(), nullable=True),
        sa.Column("filled_size", Money(), nullable=False),
        sa.Column("avg_price", Price(), nullable=True),
        sa.Column("fee", Money(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        sa.UniqueConstraint("intent_key", name="uq_order_intent_intent_key"),
        sa.UniqueConstraint("venue_order_id", name="uq_order_intent_venue_order_id"),
    )
    op.create_index("ix_order_intent_run_id", "order_intent", ["run_id"])
    op.create_index("ix_order_intent_mode_status", "order_intent", ["mode", "status"])

    op.create_table(
        "fill",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("trade_id", sa.String(), nullable=False),
        sa.Column("venue_order_id", sa.String(), nullable=False),
        sa.Column("intent_key", sa.String(), nullable=True),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("token_id", sa.String(), nullable=False),
        sa.Column("condition_id", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("size", Money(), nullable=False),
        sa.Column("price", Price(), nullable=False),
        sa.Column("fee", Money(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("is_taker", sa.Boolean(), nullable=False),
        sa.Column("matched_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        sa.UniqueConstraint("trade_id", "venue_order_id", name="uq_fill_trade_order"),
    )
    op.create_index("ix_fill_intent_key", "fill", ["intent_key"])
    op.create_index("ix_fill_mode_matched_at", "fill", ["mode", "matched_at"])

    op.create_table(
        "leg_risk",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("opportunity_id", sa.String(), nullable=False),
        sa.Column("intent_key", sa.String(), nullable=False),
        sa.Column("policy", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("flow_run_id", sa.String(), nullable=True),
    )
    op.create_index("ix_leg_risk_run_id", "leg_risk", ["run_id"])
    op.create_index("ix_leg_risk_status", "leg_risk", ["status"])

    op.create_table(
        "sync_cursor",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop the execution tables."""
    op.drop_table("sync_cursor")
    op.drop_table("leg_risk")
    op.drop_table("fill")
    op.drop_table("order_intent")
