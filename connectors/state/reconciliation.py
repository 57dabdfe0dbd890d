"""Reconciliation history: one run per (scope, period) and its order lines, so finance can compare periods.

A rerun of the same period replaces the run's lines and bumps its `revision` instead of adding a second run:
the store holds the latest answer per period, and the revision says how many times it was recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from connectors.state._sql import CHUNK_SIZE, IN_CHUNK_SIZE, chunks
from connectors.state.models import OrderLineMapping, ReconciliationLine, ReconciliationRun
from connectors.state.types import utcnow

__all__ = [
    "get_reconciliation_run",
    "order_lines_for_reconciliation",
    "reconciliation_lines",
    "replace_reconciliation_run",
]


def replace_reconciliation_run(
    session: Session,
    *,
    scope: str,
    period_start: datetime,
    period_end: datetime,
    status: str,
    summary: dict[str, Any],
    lines: Iterable[Mapping[str, Any]] = (),
    flow_run_id: str | None = None,
) -> ReconciliationRun:
    """Store the run for (scope, period), replacing a previous run's lines; returns the run."""
    run = get_reconciliation_run(session, scope, period_start, period_end)
    if run is None:
        run = ReconciliationRun(scope=scope, period_start=period_start, period_end=period_end, revision=1)
        session.add(run)
    else:
        session.execute(delete(ReconciliationLine).where(ReconciliationLine.run_id == run.id))
        run.revision += 1
        run.updated_at = utcnow()
    run.status = status
    run.summary = summary
    run.flow_run_id = flow_run_id
    session.flush()
    for batch in chunks(lines, CHUNK_SIZE):
        session.execute(insert(ReconciliationLine), [{**row, "run_id": run.id} for row in batch])
    session.flush()
    return run


def get_reconciliation_run(
    session: Session, scope: str, period_start: datetime, period_end: datetime
) -> ReconciliationRun | None:
    query = select(ReconciliationRun).where(
        ReconciliationRun.scope == scope,
        ReconciliationRun.period_start == period_start,
        ReconciliationRun.period_end == period_end,
    )
    return session.scalar(query)


def reconciliation_lines(session: Session, run_id: int) -> list[ReconciliationLine]:
    """A run's lines in line-key order (the order of the CSV export)."""
    query = select(ReconciliationLine).where(ReconciliationLine.run_id == run_id).order_by(ReconciliationLine.line_key)
    return list(session.scalars(query))


def order_lines_for_reconciliation(
    session: Session, *, bc_order_ids: Iterable[int] = (), mirakl_order_ids: Iterable[str] = ()
) -> list[OrderLineMapping]:
    """The line maps of these BigCommerce orders or these Mirakl logistic orders, in a stable order."""
    found: dict[int, OrderLineMapping] = {}
    for column, values in (
        (OrderLineMapping.bc_order_id, sorted(set(bc_order_ids))),
        (OrderLineMapping.mirakl_order_id, sorted(set(mirakl_order_ids))),
    ):
        for batch in chunks(values, IN_CHUNK_SIZE):
            for row in session.scalars(select(OrderLineMapping).where(column.in_(batch))):
                found[row.id] = row
    return sorted(found.values(), key=lambda row: (row.bc_order_id, row.bc_order_product_id))
