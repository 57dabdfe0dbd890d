"""The carrier list keeps its version and its stale episode: when it turned stale and when that was alerted.

`version` counts the distinct lists read (a read that brings the same codes keeps it); `stale_since` is the
first failed refresh since the last good read, `stale_alerted_at` when the shipment sync last alerted about it,
so a stale list is alerted once per episode (and reminded at an interval) rather than on every run.
Existing rows start at version 1 when a list was read, 0 otherwise; a list stale now starts its episode at its
last failed refresh.

Revision ID: 0012_ship
Revises: 0011_gates
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_ship"
down_revision = "0011_gates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("carrier_list", sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("carrier_list", sa.Column("stale_since", sa.DateTime(timezone=True), nullable=True))
    op.add_column("carrier_list", sa.Column("stale_alerted_at", sa.DateTime(timezone=True), nullable=True))
    carriers = sa.table(
        "carrier_list",
        sa.column("fetched_at", sa.DateTime(timezone=True)),
        sa.column("refresh_failed_at", sa.DateTime(timezone=True)),
        sa.column("version", sa.Integer),
        sa.column("stale_since", sa.DateTime(timezone=True)),
    )
    op.execute(carriers.update().where(carriers.c.fetched_at.is_not(None)).values(version=1))
    op.execute(
        carriers.update()
        .where(carriers.c.refresh_failed_at.is_not(None))
        .values(stale_since=carriers.c.refresh_failed_at)
    )


def downgrade() -> None:
    with op.batch_alter_table("carrier_list") as batch:
        batch.drop_column("stale_alerted_at")
        batch.drop_column("stale_since")
        batch.drop_column("version")
