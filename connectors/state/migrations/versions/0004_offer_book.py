"""The offer book (every seller's live offer per Mirakl product) and the offer metafield ids (offer sync).

Revision ID: 0004
Revises: 0003
Create Date: 2025-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KEY = 255


def upgrade() -> None:
    op.create_table(
        "offer_book",
        sa.Column("offer_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("product_sku", sa.String(KEY), nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=True),
        sa.Column("price", sa.Numeric(18, 4), nullable=True),
        sa.Column("shipping", sa.Numeric(18, 4), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("offer_id", name=op.f("pk_offer_book")),
    )
    op.create_index(op.f("ix_offer_book_product_sku"), "offer_book", ["product_sku"])
    op.create_index(op.f("ix_offer_book_shop_id"), "offer_book", ["shop_id"])
    op.create_table(
        "offer_metafield",
        sa.Column("bc_variant_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("product_sku", sa.String(KEY), nullable=False),
        sa.Column("metafield_id", sa.BigInteger(), nullable=True),
        sa.Column("pushed_hash", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bc_variant_id", name=op.f("pk_offer_metafield")),
    )


def downgrade() -> None:
    op.drop_table("offer_metafield")
    op.drop_index(op.f("ix_offer_book_shop_id"), table_name="offer_book")
    op.drop_index(op.f("ix_offer_book_product_sku"), table_name="offer_book")
    op.drop_table("offer_book")
