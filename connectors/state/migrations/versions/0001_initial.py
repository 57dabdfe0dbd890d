"""Initial state store: cursors, outbox, ledger, quarantine, exception cases, offer and order maps.

Revision ID: 0001
Revises:
Create Date: 2025-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

KEY = 255


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True)


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "stream_cursor",
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("stream", name=op.f("pk_stream_cursor")),
    )
    op.create_table(
        "offer_map",
        _id(),
        sa.Column("product_sku", sa.String(KEY), nullable=False),
        sa.Column("bc_product_id", sa.BigInteger(), nullable=True),
        sa.Column("bc_variant_id", sa.BigInteger(), nullable=True),
        sa.Column("bc_sku", sa.String(KEY), nullable=True),
        sa.Column("owner", sa.String(16), nullable=False),
        sa.Column("offer_id", sa.BigInteger(), nullable=True),
        sa.Column("shop_id", sa.BigInteger(), nullable=True),
        sa.Column("price", sa.Numeric(18, 4), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("purchasable", sa.Boolean(), nullable=True),
        sa.Column("pushed_hash", sa.String(64), nullable=True),
        _ts("mirakl_updated_at", nullable=True),
        _ts("bc_acknowledged_at", nullable=True),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_map")),
        sa.UniqueConstraint("product_sku", name=op.f("uq_offer_map_product_sku")),
        sa.CheckConstraint("owner IN ('mirakl', 'native')", name=op.f("ck_offer_map_owner")),
    )
    op.create_index(op.f("ix_offer_map_owner"), "offer_map", ["owner"])
    op.create_index(op.f("ix_offer_map_bc_variant_id"), "offer_map", ["bc_variant_id"])
    op.create_table(
        "outbox",
        _id(),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(KEY), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at", nullable=True),
        sa.Column("claimed_by", sa.String(128), nullable=True),
        _ts("claimed_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
        sa.CheckConstraint(
            "status IN ('pending', 'in_flight', 'done', 'failed', 'quarantined')", name=op.f("ck_outbox_status")
        ),
    )
    op.create_index(
        op.f("ix_outbox_stream_kind_status_next_attempt_at"),
        "outbox",
        ["stream", "kind", "status", "next_attempt_at"],
    )
    op.create_table(
        "ledger",
        _id(),
        sa.Column("system", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(KEY), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(KEY), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger")),
        sa.UniqueConstraint(
            "system", "operation", "idempotency_key", name=op.f("uq_ledger_system_operation_idempotency_key")
        ),
        sa.CheckConstraint("outcome IN ('started', 'succeeded', 'failed')", name=op.f("ck_ledger_outcome")),
    )
    op.create_table(
        "quarantine",
        _id(),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("record_key", sa.String(KEY), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        _ts("created_at"),
        _ts("resolved_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
    )
    op.create_index(op.f("ix_quarantine_stream_resolved_at"), "quarantine", ["stream", "resolved_at"])
    op.create_table(
        "exception_case",
        _id(),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("key", sa.String(KEY), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        _ts("opened_at"),
        _ts("resolved_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exception_case")),
        sa.UniqueConstraint("stream", "key", "kind", name=op.f("uq_exception_case_stream_key_kind")),
    )
    op.create_index(op.f("ix_exception_case_resolved_at"), "exception_case", ["resolved_at"])
    op.create_table(
        "order_route",
        sa.Column("bc_order_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("commercial_id", sa.String(KEY), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("native_sent", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("routed_at", nullable=True),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("bc_order_id", name=op.f("pk_order_route")),
        sa.UniqueConstraint("commercial_id", name=op.f("uq_order_route_commercial_id")),
    )
    op.create_table(
        "logistic_order",
        sa.Column("mirakl_order_id", sa.String(KEY), nullable=False),
        sa.Column("commercial_id", sa.String(KEY), nullable=False),
        sa.Column("bc_order_id", sa.BigInteger(), nullable=True),
        sa.Column("shop_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(64), nullable=True),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("mirakl_order_id", name=op.f("pk_logistic_order")),
    )
    op.create_index(op.f("ix_logistic_order_commercial_id"), "logistic_order", ["commercial_id"])
    op.create_index(op.f("ix_logistic_order_bc_order_id"), "logistic_order", ["bc_order_id"])
    op.create_table(
        "order_line_map",
        _id(),
        sa.Column("bc_order_id", sa.BigInteger(), nullable=False),
        sa.Column("bc_order_product_id", sa.BigInteger(), nullable=False),
        sa.Column("mirakl_order_id", sa.String(KEY), nullable=True),
        sa.Column("mirakl_order_line_id", sa.String(KEY), nullable=True),
        sa.Column("offer_id", sa.BigInteger(), nullable=True),
        sa.Column("shop_id", sa.BigInteger(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(18, 4), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_line_map")),
        sa.UniqueConstraint(
            "bc_order_id", "bc_order_product_id", name=op.f("uq_order_line_map_bc_order_id_bc_order_product_id")
        ),
        sa.UniqueConstraint("mirakl_order_line_id", name=op.f("uq_order_line_map_mirakl_order_line_id")),
    )
    op.create_index(op.f("ix_order_line_map_mirakl_order_id"), "order_line_map", ["mirakl_order_id"])


def downgrade() -> None:
    for table in (
        "order_line_map",
        "logistic_order",
        "order_route",
        "exception_case",
        "quarantine",
        "ledger",
        "outbox",
        "offer_map",
        "stream_cursor",
    ):
        op.drop_table(table)
