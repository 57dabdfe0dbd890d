"""The outbox workers: who holds claims in flight and when each last beat, so a dead one is taken over at once.

Revision ID: 0005_outbox_workers
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_outbox_workers"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_worker",
        sa.Column("worker", sa.String(128), nullable=False),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("flow_run_id", sa.String(64), nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_outbox_worker")),
    )
    op.create_index(op.f("ix_outbox_worker_stream"), "outbox_worker", ["stream"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_worker_stream"), table_name="outbox_worker")
    op.drop_table("outbox_worker")
