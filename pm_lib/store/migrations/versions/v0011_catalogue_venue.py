"""The cached catalogue is keyed to the venue it came from (``catalogue_refresh.venue``), and
paper fills remember the liquidity they took (``paper_take``).

A refresh row records the Gamma and CLOB URLs it was fetched from; a run on another venue finds
no usable cache and lists everything (``pm_lib.store.catalogue``). Refreshes stored before this
revision have no venue: the first run after it lists everything once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pm_lib.store.types import Money, Price, UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add catalogue_refresh.venue (nullable: older refreshes have none) and paper_take."""
    op.add_column("catalogue_refresh", sa.Column("venue", sa.String(), nullable=True))
    op.create_table(
        "paper_take",
        sa.Column("token_id", sa.String(), primary_key=True),
        sa.Column("side", sa.String(), primary_key=True),
        sa.Column("price", Price(), primary_key=True),
        sa.Column("level_size", Money(), nullable=False),
        sa.Column("taken", Money(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop paper_take and catalogue_refresh.venue."""
    op.drop_table("paper_take")
    with op.batch_alter_table("catalogue_refresh") as batch:
        batch.drop_column("venue")
