"""Fee exponents are decimals: live Gamma lists ``exponent: 0.5`` (economics_fees), not just 1, 2.

The catalogue tables are a cache of Gamma, so they are emptied (the next run re-fetches) instead
of converting values: on SQLite exact decimals are stored as micro-units, and a plain integer
1 would read back as 0.000001.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pm_lib.store.types import Price

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def _empty_catalogue() -> None:
    for table in ("catalogue_market", "catalogue_event", "catalogue_refresh"):
        op.execute(sa.text(f"DELETE FROM {table}"))


def upgrade() -> None:
    """catalogue_market.fee_exponent: INTEGER -> NUMERIC(12, 6)."""
    _empty_catalogue()
    with op.batch_alter_table("catalogue_market") as batch:
        batch.alter_column(
            "fee_exponent", existing_type=sa.Integer(), type_=Price(), existing_nullable=False
        )


def downgrade() -> None:
    """Back to INTEGER (the cached catalogue is emptied again)."""
    _empty_catalogue()
    with op.batch_alter_table("catalogue_market") as batch:
        batch.alter_column(
            "fee_exponent", existing_type=Price(), type_=sa.Integer(), existing_nullable=False
        )
