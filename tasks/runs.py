"""The end of a successful flow run: settle rejected records, publish its report and mark the stream's last success.

`bcmirakl status` shows, per stream, when it last completed; streams that keep no read cursor (the acceptance
guard, the drift monitor, reconciliation) would otherwise show nothing. The mark has a table of its own
(`connectors.state.mark_success`), apart from the read cursors, written only once the run's work and report
are done.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect.runtime import flow_run

from bridge.runtime import Runtime
from connectors.state import mark_success
from tasks.budget_report import mirakl_budget_rows
from tasks.rejections import settle_rejections
from tasks.reporting import RunReport, publish_report

__all__ = ["complete_run"]


async def complete_run(rt: Runtime, report: RunReport) -> RunReport:
    """Quarantine the records the run's page readers set aside, publish `report` (with the run's Mirakl calls
    against budget) as the run's artifacts, then record that the stream completed now."""
    settle_rejections(rt, report, str(flow_run.get_id() or "") or None)
    report.budget = mirakl_budget_rows(rt)
    waited = sum(row["waited_s"] for row in report.budget)
    if waited:
        report.counts["mirakl_budget_wait_s"] = round(waited, 1)
    await publish_report(report, rt.artifacts_dir)
    with rt.sessions() as session:
        mark_success(session, report.stream, datetime.now(UTC))
        session.commit()
    return report
