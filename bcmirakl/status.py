"""`bcmirakl status`: how the bridge is doing, read from the state store alone.

Operators need an answer without the Prefect UI (or when the server is down): per stream, when it last
recorded progress and how long ago, what is waiting in its queue, what is quarantined and why, which cases
wait for a person, and which Mirakl deadlines are closest.

"Last success" is the latest of the stream's completed-run mark (`stream_run`, written by
`tasks.runs.reported_run`) and the `updated_at` of its cursors (named `<stream>` or `<stream>:<part>`, also `.`
or `/` as separator): streams move a cursor only once a page's effects are recorded, so it is the last moment
the stream is known to have completed work. A stream that never completed a run shows a dash.
"Deadlines at risk" are the acceptance guard's warnings (ledger rows `bcmirakl.acceptance.at-risk` and
`.breached`, written once per order and phase with the computed deadline) for orders still waiting in Mirakl,
plus any open exception case whose kind mentions a deadline; soonest deadline first.
"Stuck" counts items in flight whose worker has been silent past `SILENCE_LIMIT` (no heartbeat, no claim
renewal): a drain died holding them and no run has taken them over yet; the section below names the workers.
Streams are named by `bridge.streams.Stream`, one spelling in every table (migration `0008` rewrote older rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bcmirakl.status_carriers import CarrierListStatus, carrier_list_rows, collect_carrier_lists
from bcmirakl.tables import plain_console, rows_table
from bridge.streams import Stream
from connectors.state import (
    ClaimHolder,
    ExceptionCase,
    LedgerEntry,
    LogisticOrder,
    OutboxItem,
    QuarantineRecord,
    StreamCursor,
    last_successes,
    silent_holders,
)

__all__ = ["StatusReport", "StreamStatus", "collect_status", "print_status", "render_status"]

CURSOR_SEPARATORS = (":", ".", "/")
DEADLINE_OPERATIONS = ("bcmirakl.acceptance.at-risk", "bcmirakl.acceptance.breached")
# Mirakl states in which an order still waits for the operator (acceptance, debit) or the bridge (staging).
WAITING_STATES = {"STAGING", "WAITING_ACCEPTANCE", "WAITING_DEBIT", "WAITING_DEBIT_PAYMENT"}


@dataclass(frozen=True)
class StreamStatus:
    stream: str
    last_success: datetime | None
    lag: timedelta | None
    queue: dict[str, int]
    quarantined: int
    unresolved_cs_cases: int
    stuck: int = 0


@dataclass(frozen=True)
class StatusReport:
    generated_at: datetime
    streams: list[StreamStatus]
    quarantine_by_reason: list[tuple[str, str, int]]
    exceptions_by_kind: list[tuple[str, str, int, datetime]]
    deadlines: list[tuple[str, str, str, str]]
    stuck_claims: list[ClaimHolder]
    carrier_lists: list[CarrierListStatus] = field(default_factory=list)


@dataclass(frozen=True)
class _Case:
    stream: str
    key: str
    kind: str
    detail: dict[str, Any]
    opened_at: datetime


def collect_status(
    session: Session, known_streams: Iterable[str] = (), now: datetime | None = None, deadline_limit: int = 10
) -> StatusReport:
    """Read everything the status table shows; `known_streams` are listed even when they left no trace yet."""
    stamp = now or datetime.now(UTC)
    cursors = [(name, _aware(at)) for name, at in session.execute(select(StreamCursor.stream, StreamCursor.updated_at))]
    cursors += [(name, _aware(at)) for name, at in last_successes(session).items()]
    queues = _queue_by_stream(session)
    stuck = silent_holders(session, stamp)
    quarantine_rows = [
        (stream, reason, count)
        for stream, reason, count in session.execute(
            select(QuarantineRecord.stream, QuarantineRecord.reason, func.count())
            .where(QuarantineRecord.resolved_at.is_(None))
            .group_by(QuarantineRecord.stream, QuarantineRecord.reason)
        ).tuples()
    ]
    open_cases = [
        _Case(c.stream, c.key, c.kind, c.detail or {}, _aware(c.opened_at))
        for c in session.scalars(
            select(ExceptionCase).where(ExceptionCase.resolved_at.is_(None)).order_by(ExceptionCase.opened_at)
        )
    ]
    names = (
        {name for name in known_streams}
        | set(queues)
        | {s for s, _, _ in quarantine_rows}
        | {c.stream for c in open_cases}
    )
    names |= {_stream_of(cursor, names) for cursor, _ in cursors}
    streams = []
    for name in sorted(names):
        times = [at for cursor, at in cursors if _stream_of(cursor, {name}) == name]
        last = max(times) if times else None
        streams.append(
            StreamStatus(
                stream=name,
                last_success=last,
                lag=stamp - last if last else None,
                queue=queues.get(name, {}),
                quarantined=sum(count for s, _, count in quarantine_rows if s == name),
                unresolved_cs_cases=sum(1 for case in open_cases if case.stream == name),
                stuck=sum(holder.items for holder in stuck if holder.stream == name),
            )
        )
    return StatusReport(
        generated_at=stamp,
        streams=streams,
        quarantine_by_reason=sorted(quarantine_rows, key=lambda row: (-row[2], row[0], row[1])),
        exceptions_by_kind=_exceptions_by_kind(open_cases),
        deadlines=_deadlines(session, open_cases)[:deadline_limit],
        stuck_claims=stuck,
        carrier_lists=collect_carrier_lists(session),
    )


def render_status(report: StatusReport) -> str:
    """The tables `bcmirakl status` prints, as plain text (what a pipe or a log file gets)."""
    console = plain_console()
    print_status(report, console)
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


def print_status(report: StatusReport, console: Console) -> None:
    """Print the status through rich: on a terminal, failed and stuck counts stand out in colour."""
    console.print(f"bridge status at {report.generated_at.isoformat(timespec='seconds')}", highlight=False)
    console.print()
    console.print(
        rows_table(
            [
                {
                    "stream": s.stream,
                    "last success": s.last_success.isoformat(timespec="seconds") if s.last_success else "-",
                    "lag": _duration(s.lag) if s.lag is not None else "-",
                    "queued": s.queue.get("pending", 0) + s.queue.get("in_flight", 0),
                    "stuck": s.stuck,
                    "failed": s.queue.get("failed", 0),
                    "quarantined": s.quarantined,
                    "open cases": s.unresolved_cs_cases,
                }
                for s in report.streams
            ]
        )
    )
    sections: list[tuple[str, list[dict[str, Any]]]] = [
        (
            "stuck in flight (worker silent; the stream's next run takes them over)",
            [
                {
                    "stream": h.stream,
                    "worker": h.worker,
                    "items": h.items,
                    "silent": _duration(report.generated_at - h.last_sign_of_life()),
                    "last renewal": h.last_renewal.isoformat(timespec="seconds"),
                }
                for h in report.stuck_claims
            ],
        ),
        (
            "quarantined records by reason",
            [{"stream": s, "reason": r, "records": n} for s, r, n in report.quarantine_by_reason],
        ),
        (
            "open exception cases",
            [
                {"stream": s, "kind": k, "cases": n, "oldest": at.isoformat(timespec="seconds")}
                for s, k, n, at in report.exceptions_by_kind
            ],
        ),
        (
            "next deadlines at risk",
            [{"stream": s, "order": key, "kind": k, "deadline": d} for s, key, k, d in report.deadlines],
        ),
        ("carrier list (what shipment sync checks carrier codes against)", carrier_list_rows(report.carrier_lists)),
    ]
    for title, rows in sections:
        console.print()
        console.print(f"{title}:", highlight=False)
        console.print(rows_table(rows) if rows else "  none", highlight=False)


def _queue_by_stream(session: Session) -> dict[str, dict[str, int]]:
    queues: dict[str, dict[str, int]] = {}
    query = select(OutboxItem.stream, OutboxItem.status, func.count()).group_by(OutboxItem.stream, OutboxItem.status)
    for stream, status, count in session.execute(query).tuples():
        per_status = queues.setdefault(stream, {})
        per_status[status] = per_status.get(status, 0) + count
    return queues


def _stream_of(cursor: str, streams: Iterable[str]) -> str:
    """The stream a cursor belongs to: an exact name, or a known name followed by a separator."""
    for stream in streams:
        if cursor == stream or any(cursor.startswith(stream + sep) for sep in CURSOR_SEPARATORS):
            return stream
    return cursor


def _exceptions_by_kind(cases: list[_Case]) -> list[tuple[str, str, int, datetime]]:
    grouped: dict[tuple[str, str], list[datetime]] = {}
    for case in cases:
        grouped.setdefault((case.stream, case.kind), []).append(case.opened_at)
    return sorted(((s, k, len(at), min(at)) for (s, k), at in grouped.items()), key=lambda row: row[3])


def _deadlines(session: Session, cases: list[_Case]) -> list[tuple[str, str, str, str]]:
    latest: dict[str, tuple[str, str, str, str]] = {}
    warnings = session.execute(
        select(LedgerEntry.operation, LedgerEntry.idempotency_key, LedgerEntry.detail, LogisticOrder.state)
        .outerjoin(LogisticOrder, LogisticOrder.mirakl_order_id == LedgerEntry.detail["mirakl_order_id"].as_string())
        .where(LedgerEntry.system == "prefect", LedgerEntry.operation.in_(DEADLINE_OPERATIONS))
        .order_by(LedgerEntry.id)
    ).tuples()
    for operation, key, detail, state in warnings:
        if state is not None and state not in WAITING_STATES:
            continue  # decided since the warning: no longer at risk
        info = detail or {}
        level = operation.rsplit(".", 1)[-1]
        order = str(info.get("mirakl_order_id") or key)
        latest[key] = (
            Stream.ACCEPTANCE_GUARD,
            order,
            f"{info.get('phase', '?')} {level}",
            str(info.get("deadline") or "-"),
        )
    rows = list(latest.values())
    rows += [
        (case.stream, case.key, case.kind, str(case.detail.get("deadline") or "-"))
        for case in cases
        if "deadline" in case.kind.lower()
    ]
    # ISO timestamps sort chronologically as text; rows without a deadline go last.
    return sorted(rows, key=lambda row: (row[3] == "-", row[3]))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d"
