"""The ledger of external writes: each call to Mirakl or BigCommerce is recorded before and after.

A row exists from the moment a write is attempted, keyed by (system, operation, idempotency key); a rerun
after any crash finds it and can tell a finished write from one that must be checked or retried, so no
write is ever made twice. Details hold ids and amounts only, never customer data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from connectors.state._sql import among, execute_many, insert_for
from connectors.state.models import LedgerEntry
from connectors.state.types import utcnow

__all__ = [
    "ledger_begin",
    "ledger_begin_many",
    "ledger_finish",
    "ledger_finish_many",
    "ledger_forget",
    "ledger_get",
    "ledger_started",
]

FINAL_OUTCOMES = ("succeeded", "failed")


def ledger_begin(
    session: Session,
    system: str,
    operation: str,
    key: str,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
    owner: Mapping[str, Any] | None = None,
) -> LedgerEntry:
    """Record that a write is about to happen; if it was already recorded, return that row unchanged.

    `owner` (`flow_run_id`, `host`, `pid`) says who makes the write, so a row that run leaves `started` can be
    told from one still in flight."""
    statement = (
        insert_for(session, LedgerEntry.__table__)
        .values(
            system=system,
            operation=operation,
            idempotency_key=key,
            outcome="started",
            detail=detail,
            started_at=now or utcnow(),
            **dict(owner or {}),
        )
        .on_conflict_do_nothing(index_elements=["system", "operation", "idempotency_key"])
    )
    session.execute(statement)
    return session.scalars(_entry_query(system, operation, key)).one()


def ledger_begin_many(
    session: Session,
    system: str,
    operation: str,
    entries: Sequence[tuple[str, dict[str, Any] | None]],
    now: datetime | None = None,
) -> None:
    """`ledger_begin` for many writes of one operation at once, (key, detail) each, in one statement.

    For a worker that records a whole claim's calls before making the first: one round trip, not one per call.
    """
    if not entries:
        return
    stamp = now or utcnow()
    statement = insert_for(session, LedgerEntry.__table__).on_conflict_do_nothing(
        index_elements=["system", "operation", "idempotency_key"]
    )
    rows = [
        {
            "system": system,
            "operation": operation,
            "idempotency_key": key,
            "outcome": "started",
            "detail": detail,
            "started_at": stamp,
        }
        for key, detail in entries
    ]
    execute_many(session, statement, rows)


def ledger_finish_many(
    session: Session,
    system: str,
    operation: str,
    keys: Sequence[str],
    outcome: str,
    now: datetime | None = None,
) -> int:
    """`ledger_finish` for many writes of one operation at once (no external ids); returns rows closed."""
    if outcome not in FINAL_OUTCOMES:
        raise ValueError(f"ledger outcome must be one of {FINAL_OUTCOMES}, got {outcome!r}")
    if not keys:
        return 0
    table = LedgerEntry.__table__
    statement = (
        update(table)
        .where(table.c.system == system, table.c.operation == operation, among(session, table.c.idempotency_key, keys))
        .values(outcome=outcome, finished_at=now or utcnow())
    )
    return session.execute(statement).rowcount


def ledger_finish(
    session: Session,
    entry: LedgerEntry,
    outcome: str,
    external_id: str | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """Record how the write ended, with the id the external system gave it."""
    if outcome not in FINAL_OUTCOMES:
        raise ValueError(f"ledger outcome must be one of {FINAL_OUTCOMES}, got {outcome!r}")
    entry.outcome = outcome
    if external_id is not None:
        entry.external_id = external_id
    entry.finished_at = now or utcnow()
    session.flush()
    return entry


def ledger_forget(session: Session, entry: LedgerEntry) -> bool:
    """Drop a `started` row whose write is known not to have happened, so the stream decides afresh whether to
    make it; a finished row is never dropped. Returns whether a row went."""
    result = session.execute(delete(LedgerEntry).where(LedgerEntry.id == entry.id, LedgerEntry.outcome == "started"))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def ledger_get(session: Session, system: str, operation: str, key: str) -> LedgerEntry | None:
    return session.scalar(_entry_query(system, operation, key))


def ledger_started(session: Session, system: str, operations: Sequence[str]) -> list[LedgerEntry]:
    """The rows of these operations still `started`: writes whose outcome no run has recorded yet."""
    query = select(LedgerEntry).where(
        LedgerEntry.system == system, LedgerEntry.operation.in_(operations), LedgerEntry.outcome == "started"
    )
    return list(session.scalars(query.order_by(LedgerEntry.id)))


def _entry_query(system: str, operation: str, key: str) -> Select[tuple[LedgerEntry]]:
    return (
        select(LedgerEntry)
        .where(
            LedgerEntry.system == system,
            LedgerEntry.operation == operation,
            LedgerEntry.idempotency_key == key,
        )
        .execution_options(populate_existing=True)
    )
