"""Refused baskets: events whose outcome set a strategy could not trust, with the reason.

See ``pm_lib.store.signals.record_refusals``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pm_lib.store.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create basket_refusal."""
    op.create_table(
        "basket_refusal",
        sa.Column("mode", sa.String(), primary_key=True),
        sa.Column("ident", sa.String(), primary_key=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_run_id", sa.String(), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    """Drop basket_refusal."""
    op.drop_table("basket_refusal")
