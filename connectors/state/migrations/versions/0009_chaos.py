"""Who began each ledger write, and the SH21 carrier list in a table of its own (out of the cursor table).

The ledger's owner columns let the next run of a stream tell a write left `started` by a run that is gone
from one a live run still has in flight. The carrier list was a JSON value under the cursor name
`shipment_sync.sh21`; it is moved, as it was, into `carrier_list`.

Revision ID: 0009_chaos
Revises: 0008_layers
Create Date: 2026-12-01
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0009_chaos"
down_revision = "0008_layers"
branch_labels = None
depends_on = None

OLD_CURSOR = "shipment_sync.sh21"
SOURCE = "SH21"

_cursor = sa.table(
    "stream_cursor",
    sa.column("stream", sa.String),
    sa.column("value", sa.Text),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_carriers = sa.table(
    "carrier_list",
    sa.column("source", sa.String),
    sa.column("carriers", sa.JSON),
    sa.column("fetched_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.add_column("ledger", sa.Column("flow_run_id", sa.String(64), nullable=True))
    op.add_column("ledger", sa.Column("host", sa.String(255), nullable=True))
    op.add_column("ledger", sa.Column("pid", sa.Integer(), nullable=True))
    op.create_table(
        "carrier_list",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("carriers", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refresh_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refresh_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_carrier_list")),
    )
    bind = op.get_bind()
    old = bind.execute(sa.select(_cursor.c.value).where(_cursor.c.stream == OLD_CURSOR)).scalar()
    if old:
        cached = json.loads(old)
        fetched = datetime.fromisoformat(cached["fetched_at"])
        bind.execute(sa.insert(_carriers).values(source=SOURCE, carriers=cached["carriers"], fetched_at=fetched))
    bind.execute(sa.delete(_cursor).where(_cursor.c.stream == OLD_CURSOR))


def downgrade() -> None:
    bind = op.get_bind()
    row = bind.execute(
        sa.select(_carriers.c.carriers, _carriers.c.fetched_at).where(
            _carriers.c.source == SOURCE, _carriers.c.fetched_at.is_not(None)
        )
    ).first()
    if row is not None:
        value = json.dumps({"fetched_at": row.fetched_at.isoformat(), "carriers": row.carriers}, sort_keys=True)
        bind.execute(sa.insert(_cursor).values(stream=OLD_CURSOR, value=value, updated_at=row.fetched_at))
    op.drop_table("carrier_list")
    op.drop_column("ledger", "pid")
    op.drop_column("ledger", "host")
    op.drop_column("ledger", "flow_run_id")
