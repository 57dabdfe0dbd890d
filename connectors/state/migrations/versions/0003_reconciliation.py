"""Reconciliation runs and their order lines (commission reconciliation), kept so history can be compared.

Revision ID: 0003
Revises: 0002
Create Date: 2025-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

KEY = 255


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True)


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Numeric(18, 4), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reconciliation_run",
        _id(),
        sa.Column("scope", sa.String(16), nullable=False),
        _ts("period_start"),
        _ts("period_end"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("flow_run_id", sa.String(64), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_run")),
        sa.UniqueConstraint(
            "scope", "period_start", "period_end", name=op.f("uq_reconciliation_run_scope_period_start_period_end")
        ),
        sa.CheckConstraint("status IN ('reconciled', 'gate_failed')", name=op.f("ck_reconciliation_run_status")),
    )
    op.create_table(
        "reconciliation_line",
        _id(),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("line_key", sa.String(KEY), nullable=False),
        sa.Column("status", sa.String(255), nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("bc_order_id", sa.BigInteger(), nullable=True),
        sa.Column("bc_order_product_id", sa.BigInteger(), nullable=True),
        sa.Column("mirakl_order_id", sa.String(KEY), nullable=True),
        sa.Column("order_line_id", sa.String(KEY), nullable=True),
        _money("bc_amount"),
        _money("mk_amount"),
        _money("bc_tax"),
        _money("mk_tax"),
        _money("mk_commission"),
        _money("expected_commission", nullable=True),
        _money("bc_refund"),
        _money("mk_refund"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_line")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_run.id"],
            name=op.f("fk_reconciliation_line_run_id_reconciliation_run"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("run_id", "line_key", name=op.f("uq_reconciliation_line_run_id_line_key")),
    )
    op.create_index(op.f("ix_reconciliation_line_order_line_id"), "reconciliation_line", ["order_line_id"])
    op.create_index(op.f("ix_reconciliation_line_status"), "reconciliation_line", ["status"])


def downgrade() -> None:
    op.drop_table("reconciliation_line")
    op.drop_table("reconciliation_run")
