"""Mirakl call budgets shared by every worker: a lock row per operation and the calls each admitted.

Revision ID: 0006_call_budgets
Revises: 0005_outbox_workers
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_call_budgets"
down_revision = "0005_outbox_workers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_budget",
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("operation", name=op.f("pk_call_budget")),
    )
    op.create_table(
        "call_budget_use",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_budget_use")),
    )
    op.create_index(op.f("ix_call_budget_use_operation_used_at"), "call_budget_use", ["operation", "used_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_call_budget_use_operation_used_at"), table_name="call_budget_use")
    op.drop_table("call_budget_use")
    op.drop_table("call_budget")
