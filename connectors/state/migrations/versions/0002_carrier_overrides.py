"""Carrier overrides: operations' additions to the versioned carrier table (shipment sync).

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carrier_override",
        sa.Column("mirakl_code", sa.String(64), nullable=False),
        sa.Column("shipping_provider", sa.String(64), nullable=False),
        sa.Column("tracking_carrier", sa.String(128), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mirakl_code", name=op.f("pk_carrier_override")),
    )


def downgrade() -> None:
    op.drop_table("carrier_override")
