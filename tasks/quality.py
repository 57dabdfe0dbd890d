"""Gate an outgoing batch and quarantine what fails, the same way in every stream.

The gate (Great Expectations, `expectations.run_gate`) is CPU-bound and synchronous, so it runs in a worker
thread; failed rows go to the quarantine table with their reason before anything is pushed and are counted in
the run's report, and a tripped circuit breaker raises an alert. The gate answers with its `GateResult`
(passed rows, failed rows with reasons, verdict, breaker state) and never raises to signal a trip: each stream
reads `result.tripped` and decides what a trip stops (a page, a seller, the run).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from connectors.state import quarantine_many
from expectations import GateResult, run_gate
from tasks.reporting import Tally, emit_alert

__all__ = ["gate_and_quarantine", "quarantine_records"]


def _payload(row: pd.Series, columns: Sequence[str]) -> dict[str, Any]:
    return {c: (None if pd.isna(row[c]) else str(row[c])) for c in columns if c in row.index}


async def gate_and_quarantine(
    sessions: sessionmaker[Session],
    frame: pd.DataFrame,
    *,
    suite: str,
    stream: str,
    key_column: str,
    report: Tally,
    payload_columns: Sequence[str] | None = None,
    run_id: str | None = None,
    alert: bool = True,
) -> GateResult:
    """Gate `frame` and quarantine its failed rows (ids and amounts only); alert, not raise, when it trips.

    `alert` False leaves the alert to a caller that gates one batch in several frames and alerts once.
    """
    result = await asyncio.to_thread(run_gate, frame, suite)
    if not result.failed.empty:
        columns = list(payload_columns or [c for c in frame.columns if c != key_column])
        records = [
            {"record_key": str(row[key_column]), "reason": str(row["reason"]), "payload": _payload(row, columns)}
            for _, row in result.failed.iterrows()
        ]
        quarantine_records(sessions, stream, records, report, run_id)
    if result.tripped and alert:
        emit_alert(
            report,
            "bcmirakl.gate.circuit-breaker",
            f"bcmirakl.stream.{stream}",
            {"suite": suite, "failed_rows": len(result.failed), "total_rows": len(frame)},
        )
    return result


def quarantine_records(
    sessions: sessionmaker[Session],
    stream: str,
    records: list[dict[str, Any]],
    report: Tally,
    run_id: str | None = None,
) -> None:
    """Store records with `record_key`, `reason`, `payload` and count them by reason in the report."""
    if not records:
        return
    with sessions() as session:
        quarantine_many(session, stream, records, run_id=run_id)
        session.commit()
    for record in records:
        report.quarantined[record["reason"]] += 1
