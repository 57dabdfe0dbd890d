"""The workers draining the outbox: registration, heartbeat, and who holds the claims in flight.

A claim left in flight by a crashed worker would keep its change from being pushed until the lease expired (ten
minutes, fail-open for a stock-out). So each drain registers as a worker with what identifies its life (the
Prefect flow run, the host and process id) and beats every few seconds, renewing its claims as it does. Whoever
reads `claim_holders` can tell a live holder from a dead one: the rules that need the orchestrator or the
process table live with the tasks (`tasks.leases`); the one rule this store can apply alone, silence, is here,
for `bcmirakl status` and the drift monitor.

Functions flush but never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from connectors.state._sql import IN_CHUNK_SIZE, chunks
from connectors.state.models import OutboxItem, OutboxWorker
from connectors.state.types import utcnow

__all__ = [
    "HEARTBEAT_EVERY",
    "SILENCE_LIMIT",
    "ClaimHolder",
    "beat",
    "claim_holders",
    "forget_workers",
    "register_worker",
    "silent_holders",
]

# How often a live worker beats (and renews its claims).
HEARTBEAT_EVERY = timedelta(seconds=10)
# A worker silent this long is dead: six missed beats, so a slow database or a busy event loop is no false alarm.
SILENCE_LIMIT = timedelta(seconds=60)
# Rows of workers that never ended cleanly and hold nothing are dropped after this long.
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class ClaimHolder:
    """One worker holding items in flight, with what the store knows of it (`registered` False: no row)."""

    stream: str
    worker: str
    items: int
    oldest_claim: datetime
    last_renewal: datetime
    registered: bool
    flow_run_id: str | None = None
    host: str | None = None
    pid: int | None = None
    heartbeat_at: datetime | None = None

    def last_sign_of_life(self) -> datetime:
        """The heartbeat, or for a worker without a row, the last time its claims were taken or renewed."""
        return self.heartbeat_at if self.heartbeat_at is not None else self.last_renewal

    def silent_for(self, now: datetime) -> timedelta:
        return now - self.last_sign_of_life()


def register_worker(
    session: Session,
    worker: str,
    stream: str,
    *,
    flow_run_id: str | None,
    host: str | None,
    pid: int | None,
    now: datetime | None = None,
) -> None:
    """Record a worker before it claims anything; also drops long-silent rows that hold nothing."""
    stamp = now or utcnow()
    session.add(
        OutboxWorker(
            worker=worker,
            stream=stream,
            flow_run_id=flow_run_id,
            host=host,
            pid=pid,
            started_at=stamp,
            heartbeat_at=stamp,
        )
    )
    holding = select(OutboxItem.claimed_by).where(OutboxItem.status == "in_flight", OutboxItem.claimed_by.is_not(None))
    session.execute(
        delete(OutboxWorker)
        .where(OutboxWorker.heartbeat_at < stamp - FORGET_AFTER, OutboxWorker.worker.not_in(holding))
        .execution_options(synchronize_session=False)
    )
    session.flush()


def beat(session: Session, worker: str, now: datetime | None = None) -> int:
    """Show the worker is alive and renew its claims' lease; returns how many items it holds in flight."""
    stamp = now or utcnow()
    session.execute(
        update(OutboxWorker)
        .where(OutboxWorker.worker == worker)
        .values(heartbeat_at=stamp)
        .execution_options(synchronize_session=False)
    )
    renewed = session.execute(
        update(OutboxItem)
        .where(OutboxItem.claimed_by == worker, OutboxItem.status == "in_flight")
        # A renewal is not a change of the item: `updated_at` is kept (its `onupdate` would stamp it), so the
        # drain still tells an item untouched since its claim without reading its payload (`outbox.superseded`).
        .values(claimed_at=stamp, updated_at=OutboxItem.updated_at)
        .execution_options(synchronize_session=False)
    )
    return int(renewed.rowcount)


def forget_workers(session: Session, workers: Iterable[str]) -> None:
    """Drop the rows of workers that ended (cleanly, or were taken over)."""
    for batch in chunks(workers, IN_CHUNK_SIZE):
        session.execute(
            delete(OutboxWorker).where(OutboxWorker.worker.in_(batch)).execution_options(synchronize_session=False)
        )


def claim_holders(session: Session, stream: str | None = None) -> list[ClaimHolder]:
    """Every worker holding items in flight (per stream), registered or not, oldest claim first."""
    query = (
        select(
            OutboxItem.stream,
            OutboxItem.claimed_by,
            func.count(),
            func.min(OutboxItem.claimed_at),
            func.max(OutboxItem.claimed_at),
        )
        .where(OutboxItem.status == "in_flight")
        .group_by(OutboxItem.stream, OutboxItem.claimed_by)
    )
    if stream is not None:
        query = query.where(OutboxItem.stream == stream)
    grouped = list(session.execute(query).tuples())
    names = {worker for _, worker, _, _, _ in grouped if worker is not None}
    rows = {
        row.worker: row
        for batch in chunks(names, IN_CHUNK_SIZE)
        for row in session.scalars(select(OutboxWorker).where(OutboxWorker.worker.in_(batch)))
    }
    holders = []
    for item_stream, worker, count, oldest, newest in grouped:
        row = rows.get(worker or "")
        holders.append(
            ClaimHolder(
                stream=item_stream,
                worker=worker or "",
                items=int(count),
                oldest_claim=_aware(oldest),
                last_renewal=_aware(newest),
                registered=row is not None,
                flow_run_id=row.flow_run_id if row else None,
                host=row.host if row else None,
                pid=row.pid if row else None,
                heartbeat_at=_aware(row.heartbeat_at) if row else None,
            )
        )
    return sorted(holders, key=lambda holder: holder.oldest_claim)


def silent_holders(
    session: Session, now: datetime | None = None, limit: timedelta = SILENCE_LIMIT
) -> list[ClaimHolder]:
    """Holders whose items are stuck in flight: no heartbeat (or claim renewal) for `limit`."""
    stamp = now or utcnow()
    return [holder for holder in claim_holders(session) if holder.silent_for(stamp) > limit]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
