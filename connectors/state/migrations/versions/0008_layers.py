"""Stream names: one spelling. Rows older versions wrote as `offer-sync` or `commission-reconciliation` now read
as the `Stream` values (`offer_sync`, `commission_reconciliation`) the bridge writes and `bcmirakl status` shows.

The rejected-records case keyed `stream:offer-sync` is rekeyed with its stream, so the next clean run closes it.
Where both spellings already name the same cursor or case, the underscored row is kept and the dashed one left
as it was (no row is lost; such a pair cannot arise from one version of the bridge).

Revision ID: 0008_layers
Revises: 0007_marketplace_lines
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_layers"
down_revision = "0007_marketplace_lines"
branch_labels = None
depends_on = None

# The stream names older versions stored with a dash (outbox, workers, quarantine, cases, cursors).
_DASHED = ("offer-sync", "commission-reconciliation", "drift-monitor", "acceptance-guard", "order-routing")
_PLAIN = ("outbox", "outbox_worker", "quarantine")
# A case's key may name its stream too (`stream:offer-sync`, the rejected-records case of `tasks.rejections`).
_CASE_KEY = "CASE WHEN {row}key = :old_key THEN :new_key ELSE {row}key END"


def _rename(old: str, new: str) -> None:
    bind = op.get_bind()
    names = {"old": old, "new": new, "old_key": f"stream:{old}", "new_key": f"stream:{new}"}
    for table in _PLAIN:
        bind.execute(sa.text(f"UPDATE {table} SET stream = :new WHERE stream = :old"), names)
    # Unique by stream: a row whose new name is taken stays as it was rather than collide.
    taken = "SELECT 1 FROM stream_cursor o WHERE o.stream = :new"
    bind.execute(sa.text(f"UPDATE stream_cursor SET stream = :new WHERE stream = :old AND NOT EXISTS ({taken})"), names)
    key = _CASE_KEY.format(row="exception_case.")
    taken = f"SELECT 1 FROM exception_case o WHERE o.stream = :new AND o.kind = exception_case.kind AND o.key = {key}"
    bind.execute(
        sa.text(
            f"UPDATE exception_case SET stream = :new, key = {_CASE_KEY.format(row='')}"
            f" WHERE stream = :old AND NOT EXISTS ({taken})"
        ),
        names,
    )


def upgrade() -> None:
    for old in _DASHED:
        _rename(old, old.replace("-", "_"))


def downgrade() -> None:
    for old in ("offer-sync", "commission-reconciliation"):  # the two the older bridge reads back by name
        _rename(old.replace("-", "_"), old)
