"""Run marks leave the cursor table: each stream's last completed run gets a table of its own.

The marks were cursors named `<stream>.last_success`; they move here with their time, and the cursor table
keeps read positions only.

Revision ID: 0011_gates
Revises: 0010_runs
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_gates"
down_revision = "0010_runs"
branch_labels = None
depends_on = None

_MARK = ".last_success"
_cursor = sa.table("stream_cursor", sa.column("stream", sa.String), sa.column("updated_at", sa.DateTime))


def upgrade() -> None:
    runs = op.create_table(
        "stream_run",
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("succeeded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("stream", name=op.f("pk_stream_run")),
    )
    marks = sa.select(_cursor.c.stream, _cursor.c.updated_at).where(_cursor.c.stream.like(f"%{_MARK}"))
    rows = [{"stream": name[: -len(_MARK)], "succeeded_at": at} for name, at in op.get_bind().execute(marks).tuples()]
    if rows:
        op.bulk_insert(runs, rows)
    op.execute(_cursor.delete().where(_cursor.c.stream.like(f"%{_MARK}")))


def downgrade() -> None:
    runs = sa.table("stream_run", sa.column("stream", sa.String), sa.column("succeeded_at", sa.DateTime))
    rows = op.get_bind().execute(sa.select(runs.c.stream, runs.c.succeeded_at)).tuples()
    marks = [{"stream": f"{name}{_MARK}", "value": at.isoformat(), "updated_at": at} for name, at in rows]
    if marks:
        cursor = sa.table(
            "stream_cursor",
            sa.column("stream", sa.String),
            sa.column("value", sa.Text),
            sa.column("updated_at", sa.DateTime),
        )
        op.bulk_insert(cursor, marks)
    op.drop_table("stream_run")
