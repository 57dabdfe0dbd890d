"""Order line map: whether each BigCommerce order product is on a Mirakl-owned variant (routing, CX view).

A marketplace line whose offer is gone never reaches Mirakl nor the ERP; without this flag it would look like a
native line (no offer, no Mirakl line) to the customer-service view.

Revision ID: 0007_marketplace_lines
Revises: 0006_call_budgets
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_marketplace_lines"
down_revision = "0006_call_budgets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("order_line_map", sa.Column("marketplace", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("order_line_map", "marketplace")
