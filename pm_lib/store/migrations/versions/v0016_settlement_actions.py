"""Live settlement on chain: one journalled ``settlement_action`` per merge or redeem (intent
stored before anything is signed; the nonce, transaction hash or relayer transaction id stored as
soon as known) and ``settlement_action_event``, every state change of an action.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pm_lib.store.types import Money, UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create settlement_action and settlement_action_event."""
    op.create_table(
        "settlement_action",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("action_key", sa.String(), nullable=False),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("condition_id", sa.String(), nullable=False),
        sa.Column("wallet", sa.String(), nullable=False),
        sa.Column("wallet_type", sa.String(), nullable=False),
        sa.Column("sizes", sa.JSON(), nullable=False),
        sa.Column("prices", sa.JSON(), nullable=False),
        sa.Column("chain_before", sa.JSON(), nullable=False),
        sa.Column("proceeds", Money(), nullable=False),
        sa.Column("cost", Money(), nullable=False),
        sa.Column("fees", Money(), nullable=False),
        sa.Column("realised", Money(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("nonce", sa.String(), nullable=True),
        sa.Column("tx_hash", sa.String(), nullable=True),
        sa.Column("relayer_tx_id", sa.String(), nullable=True),
        sa.Column("signature", sa.String(), nullable=True),
        sa.Column("detail", sa.String(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        sa.UniqueConstraint("action_key", name="uq_settlement_action_key"),
    )
    op.create_index(
        "ix_settlement_action_status", "settlement_action", ["mode", "status", "condition_id"]
    )
    op.create_table(
        "settlement_action_event",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("detail", sa.String(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index(
        "ix_settlement_action_event_action", "settlement_action_event", ["action_id"]
    )


def downgrade() -> None:
    """Drop settlement_action_event and settlement_action."""
    op.drop_index("ix_settlement_action_event_action", table_name="settlement_action_event")
    op.drop_table("settlement_action_event")
    op.drop_index("ix_settlement_action_status", table_name="settlement_action")
    op.drop_table("settlement_action")
