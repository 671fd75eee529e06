"""Incremental catalogue refreshes: catalogue_refresh says its kind, watermark and removals.

Existing rows were full refreshes without a known watermark, so the next refresh after this
migration is a full one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pm_lib.store.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add catalogue_refresh.kind ('full' or 'incremental'), .watermark and .removed."""
    op.add_column(
        "catalogue_refresh",
        sa.Column("kind", sa.String(), nullable=False, server_default="full"),
    )
    op.add_column("catalogue_refresh", sa.Column("watermark", UTCDateTime(), nullable=True))
    op.add_column(
        "catalogue_refresh",
        sa.Column("removed", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    """Drop the three columns (batch mode: SQLite rebuilds the table)."""
    with op.batch_alter_table("catalogue_refresh") as batch:
        batch.drop_column("removed")
        batch.drop_column("watermark")
        batch.drop_column("kind")
