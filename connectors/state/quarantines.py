"""The quarantine: records a gate or an API refused, kept with the reason until someone resolves them.

Nothing is dropped silently; counts per reason feed the run artifacts and the drift monitor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from connectors.state._sql import CHUNK_SIZE, IN_CHUNK_SIZE, chunks, insert_for
from connectors.state.models import QuarantineRecord
from connectors.state.types import utcnow

__all__ = [
    "quarantine",
    "quarantine_counts",
    "quarantine_many",
    "resolve_quarantine",
    "resolve_rejections",
    "unresolved_quarantine",
]


def quarantine(
    session: Session,
    stream: str,
    record_key: str,
    reason: str,
    payload: Mapping[str, Any] | None = None,
    run_id: str | None = None,
) -> QuarantineRecord:
    record = QuarantineRecord(
        stream=stream,
        record_key=record_key,
        reason=reason,
        payload=dict(payload) if payload is not None else None,
        run_id=run_id,
    )
    session.add(record)
    session.flush()
    return record


def quarantine_many(
    session: Session,
    stream: str,
    records: Iterable[Mapping[str, Any]],
    run_id: str | None = None,
    now: datetime | None = None,
) -> int:
    """Quarantine a gate's failed rows at once; each mapping has `record_key`, `reason` and `payload`."""
    stamp = now or utcnow()
    rows = (
        {
            "stream": stream,
            "record_key": record["record_key"],
            "reason": record["reason"],
            "payload": record.get("payload"),
            "run_id": run_id,
            "created_at": stamp,
        }
        for record in records
    )
    written = 0
    for batch in chunks(rows, CHUNK_SIZE):
        session.execute(insert_for(session, QuarantineRecord.__table__), batch)
        written += len(batch)
    return written


def quarantine_counts(session: Session, stream: str | None = None) -> dict[str, int]:
    """Unresolved records per reason."""
    query = (
        select(QuarantineRecord.reason, func.count())
        .where(QuarantineRecord.resolved_at.is_(None))
        .group_by(QuarantineRecord.reason)
    )
    if stream is not None:
        query = query.where(QuarantineRecord.stream == stream)
    return {reason: count for reason, count in session.execute(query).tuples()}


def unresolved_quarantine(session: Session, stream: str) -> list[QuarantineRecord]:
    """A stream's records nobody has resolved yet, oldest first."""
    query = (
        select(QuarantineRecord)
        .where(QuarantineRecord.stream == stream, QuarantineRecord.resolved_at.is_(None))
        .order_by(QuarantineRecord.id)
    )
    return list(session.scalars(query))


def resolve_quarantine(session: Session, ids: Iterable[int], now: datetime | None = None) -> int:
    stamp = now or utcnow()
    resolved = 0
    for batch in chunks(ids, IN_CHUNK_SIZE):
        result = session.execute(
            update(QuarantineRecord)
            .where(QuarantineRecord.id.in_(batch), QuarantineRecord.resolved_at.is_(None))
            .values(resolved_at=stamp)
            .execution_options(synchronize_session="fetch")
        )
        resolved += result.rowcount
    return resolved


def resolve_rejections(
    session: Session, stream: str, record_keys: Iterable[str], reason_prefix: str, now: datetime | None = None
) -> int:
    """Resolve the open records of these keys whose reason starts with `reason_prefix`: a later write succeeded.

    Only the reason that the success answers is resolved (an API's rejection of a push, say), never another
    refusal of the same key (a gate's verdict on a seller's offer stands until that offer changes). When no
    record of the stream is open with that reason, nothing is asked key by key: a push settling 100k products
    found none at each claim, in a statement per 1,000 keys.
    """
    stamp = now or utcnow()
    open_with_reason = and_(
        QuarantineRecord.stream == stream,
        QuarantineRecord.resolved_at.is_(None),
        QuarantineRecord.reason.startswith(reason_prefix, autoescape=True),
    )
    keys = set(record_keys)
    if not keys or session.scalar(select(QuarantineRecord.id).where(open_with_reason).limit(1)) is None:
        return 0
    resolved = 0
    for batch in chunks(keys, IN_CHUNK_SIZE):
        result = session.execute(
            update(QuarantineRecord)
            .where(open_with_reason, QuarantineRecord.record_key.in_(batch))
            .values(resolved_at=stamp)
            .execution_options(synchronize_session=False)
        )
        resolved += result.rowcount
    return resolved
