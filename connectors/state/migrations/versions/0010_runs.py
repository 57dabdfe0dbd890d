"""Run records: each flow-run attempt's state, measures and quarantine by reason, for summaries and trends.

Revision ID: 0010_runs
Revises: 0009_chaos
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_runs"
down_revision = "0009_chaos"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_record",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("flow_run_id", sa.String(64), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("quarantined", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_record")),
    )
    op.create_index(op.f("ix_run_record_stream_finished_at"), "run_record", ["stream", "finished_at"])
    op.create_index(op.f("ix_run_record_flow_run_id"), "run_record", ["flow_run_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_run_record_flow_run_id"), table_name="run_record")
    op.drop_index(op.f("ix_run_record_stream_finished_at"), table_name="run_record")
    op.drop_table("run_record")
