"""What each flow run (and each attempt of a retried run) measured, kept so summaries and trends can look back.

A failed attempt's record lets the retried run's summary show every attempt's writes; the per-day trends
(value at risk, out-of-stock-buyable, latency, quarantine by reason, unexplained reconciliation amount) are
read back from these rows by `bcmirakl report` and the drift and reconciliation summaries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connectors.state.models import Base
from connectors.state.types import BigId, UtcDateTime, utcnow

__all__ = ["RUN_STATES", "RunRecord", "attempts_of", "record_run_attempt", "run_records_since"]

RUN_STATES = ("completed", "failed")


class RunRecord(Base):
    """One attempt of one flow run: its state, measures (name -> number or text) and quarantine by reason."""

    __tablename__ = "run_record"
    __table_args__ = (Index(None, "stream", "finished_at"), Index(None, "flow_run_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    stream: Mapped[str] = mapped_column(String(64))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    measures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    quarantined: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


def record_run_attempt(
    session: Session,
    *,
    stream: str,
    flow_run_id: str | None,
    state: str,
    started_at: datetime,
    measures: dict[str, Any],
    quarantined: dict[str, int],
    now: datetime | None = None,
) -> RunRecord:
    """Add this attempt's record; its number follows the attempts already recorded for the same flow run."""
    attempt = 1
    if flow_run_id:
        earlier = session.scalar(select(func.max(RunRecord.attempt)).where(RunRecord.flow_run_id == flow_run_id))
        attempt = (earlier or 0) + 1
    record = RunRecord(
        stream=stream,
        flow_run_id=flow_run_id,
        attempt=attempt,
        state=state,
        started_at=started_at,
        finished_at=now or utcnow(),
        measures=measures,
        quarantined=quarantined,
    )
    session.add(record)
    session.flush()
    return record


def attempts_of(session: Session, flow_run_id: str) -> list[RunRecord]:
    """Earlier attempts of one flow run (a run retried from the UI keeps its id), oldest first."""
    query = select(RunRecord).where(RunRecord.flow_run_id == flow_run_id).order_by(RunRecord.attempt)
    return list(session.scalars(query))


def run_records_since(session: Session, since: datetime, streams: tuple[str, ...] | None = None) -> list[RunRecord]:
    """Records finished at or after `since`, oldest first, optionally for some streams only."""
    query = select(RunRecord).where(RunRecord.finished_at >= since)
    if streams is not None:
        query = query.where(RunRecord.stream.in_(streams))
    return list(session.scalars(query.order_by(RunRecord.finished_at, RunRecord.id)))
