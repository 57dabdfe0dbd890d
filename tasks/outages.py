"""An outage is told, not hidden: a run that deferred its work because a system was down alerts, once per outage.

Streams that meet a transient error on one item defer that item to the next run and complete (order routing
defers the order, offer sync leaves the change queued). That is right for a blip, but when a system is down
every item is deferred and the run still ends COMPLETED: no `run failed` alert, only a count in the summary.
So each such stream reports what it attempted and what it deferred per system; when the deferred share reaches
`outages.alert_share`, an `outage` case opens for that (stream, system) and `bcmirakl.outage.deferred` fires,
once, when the case opens. The case shows in `bcmirakl status` while the outage lasts and closes by itself at
the first run of the stream that defers nothing, so the next outage alerts again.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session, sessionmaker

from connectors.state import open_cs_case, resolve_cs_case, unresolved_cs_cases
from tasks.reporting import RunReport, emit_alert

__all__ = ["OUTAGE_EVENT", "OUTAGE_KIND", "report_deferrals"]

OUTAGE_EVENT = "bcmirakl.outage.deferred"
OUTAGE_KIND = "outage"


def report_deferrals(
    sessions: sessionmaker[Session],
    report: RunReport,
    stream: str,
    attempted: int,
    deferred_by_system: Mapping[str, int],
    alert_share: float,
) -> None:
    """Record the run's deferrals; open (and alert) or close the stream's outage cases.

    Args:
        stream: the stream's exception-case name (the one its other cases use).
        attempted: items the run tried to send (orders, queued changes).
        deferred_by_system: items deferred on transient errors, by the system that failed.
        alert_share: the deferred share (0-1] at which a system counts as down.
    """
    deferred = sum(deferred_by_system.values())
    share = deferred / attempted if attempted else 0.0
    if deferred:
        report.counts["deferred_share"] = round(share, 3)
    opened: list[tuple[str, int]] = []
    with sessions() as session:
        if deferred and share >= alert_share:
            for system, count in sorted(deferred_by_system.items()):
                detail = {"system": system, "deferred": count, "attempted": attempted}
                if count and open_cs_case(session, stream, system, OUTAGE_KIND, detail):
                    opened.append((system, count))
        elif not deferred:
            for case in unresolved_cs_cases(session, stream):
                if case.kind == OUTAGE_KIND:
                    resolve_cs_case(session, stream, case.key, OUTAGE_KIND)
                    report.notes.append(f"{case.key} is back: nothing was deferred")
        session.commit()
    for system, count in opened:
        emit_alert(
            report,
            OUTAGE_EVENT,
            f"bcmirakl.system.{system}",
            {"stream": stream, "system": system, "deferred": count, "attempted": attempted},
        )
