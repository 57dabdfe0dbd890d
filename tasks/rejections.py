"""Records the connectors' page readers set aside: quarantined with their reason, counted, alerted once per episode.

A page reader (`connectors.http.records`) never lets one bad record stop a feed: it yields the valid records and
sets the rejected ones aside. This module is where every stream settles them. A stream that acts on its own
rejections (the offer sync blocks the offers behind them) quarantines them in its own transaction and counts them
with `report_rejections`; whatever is left in the clients' rejection logs is quarantined by `settle_rejections`
when the run completes, so no stream can drop one silently. An episode (runs in a row with rejections) opens one
case and raises one alert; the first clean run closes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bridge.runtime import Runtime
from connectors.http import RejectedRecord
from connectors.state import open_cs_case, quarantine_many, resolve_cs_case
from tasks.reporting import RunReport, emit_alert

__all__ = [
    "CASE_KIND",
    "COUNT",
    "EVENT",
    "alert_rejections",
    "quarantine_rows",
    "report_rejections",
    "settle_rejections",
]

CASE_KIND = "records_rejected"
COUNT = "records_rejected"
EVENT = "bcmirakl.gate.records-rejected"  # routed with the other data-quality alerts
TABLE = "rejected-records"


def quarantine_rows(rejected: Iterable[RejectedRecord]) -> list[dict[str, Any]]:
    """Quarantine rows: keyed by the record's key, with the reason and the bounded raw row (when kept)."""
    return [
        {
            "record_key": record.key,
            "reason": _reason(record),
            "payload": {"operation": record.operation, "raw": record.raw},
        }
        for record in rejected
    ]


def report_rejections(report: RunReport, rejected: Sequence[RejectedRecord]) -> None:
    """Count rejected records in the run's report, by reason, with a row each in the `rejected-records` table."""
    report.add(COUNT, len(rejected))
    report.quarantined.update(_reason(record) for record in rejected)
    report.tables.setdefault(TABLE, []).extend(
        {"operation": r.operation, "record_key": r.key, "reason": r.reason} for r in rejected
    )


def alert_rejections(sessions: sessionmaker[Session], report: RunReport) -> None:
    """One alert when a stream starts rejecting records; the case closes on the first run without any."""
    rejected = int(report.counts.get(COUNT, 0) or 0)
    key = f"stream:{report.stream}"
    with sessions() as session:
        if rejected:
            opened = open_cs_case(session, report.stream, key, CASE_KIND, {"records_rejected": rejected})
        else:
            opened = False
            if resolve_cs_case(session, report.stream, key, CASE_KIND):
                report.notes.append("no record rejected any more: the rejected-records case is closed")
        session.commit()
    if opened:
        emit_alert(report, EVENT, f"bcmirakl.stream.{report.stream}", {"stream": report.stream, "records": rejected})


def settle_rejections(rt: Runtime, report: RunReport, run_id: str | None = None) -> None:
    """Quarantine what is left in the clients' rejection logs, count it, and alert once per episode."""
    left = rt.mirakl.transport.rejections.take() + rt.bigcommerce.transport.rejections.take()
    if left:
        with rt.sessions() as session:
            quarantine_many(session, report.stream, quarantine_rows(left), run_id=run_id)
            session.commit()
        report_rejections(report, left)
    alert_rejections(rt.sessions, report)


def _reason(record: RejectedRecord) -> str:
    return f"{record.operation} record rejected: {record.reason}"
