"""Records a page reader set aside are never lost: what no stream settled itself is quarantined when the run
completes, counted in its report, and alerted once per episode (the first run without any closes the case)."""

from __future__ import annotations

from sqlalchemy import select

from bridge.runtime import Runtime
from bridge.streams import Stream
from connectors.http import RejectedRecord
from connectors.state import QuarantineRecord, unresolved_cs_cases
from tasks.rejections import CASE_KIND, EVENT, settle_rejections
from tasks.reporting import RunReport


def rejected_alerts(report: RunReport) -> int:
    return sum(1 for alert in report.alerts if alert.event == EVENT)


async def test_rejections_left_in_the_clients_logs_are_quarantined_counted_and_alerted_once_per_episode(
    runtime: Runtime,
) -> None:
    runs = [RunReport(stream=Stream.ORDER_ROUTING, title=str(n)) for n in range(4)]
    runtime.bigcommerce.transport.rejections.add([RejectedRecord("iter_orders", "101", "status_id: not an int")])
    settle_rejections(runtime, runs[0], run_id="run-0")
    runtime.mirakl.transport.rejections.add([RejectedRecord("OR11", "BC101-A", "order_lines.0.quantity: missing")])
    settle_rejections(runtime, runs[1])
    with runtime.sessions() as session:
        assert [c.key for c in unresolved_cs_cases(session) if c.kind == CASE_KIND] == [
            f"stream:{Stream.ORDER_ROUTING}"
        ]
    settle_rejections(runtime, runs[2])
    runtime.mirakl.transport.rejections.add([RejectedRecord("OR11", "BC102-A", "order_id: missing")])
    settle_rejections(runtime, runs[3])

    assert [r.counts.get("records_rejected") for r in runs] == [1, 1, None, 1]  # shown only when there are some
    assert [rejected_alerts(r) for r in runs] == [1, 0, 0, 1]  # a new episode after the clean run
    assert any("case is closed" in note for note in runs[2].notes)
    assert runs[0].tables["rejected-records"] == [
        {"operation": "iter_orders", "record_key": "101", "reason": "status_id: not an int"}
    ]
    assert runs[0].quarantined == {"iter_orders record rejected: status_id: not an int": 1}
    with runtime.sessions() as session:
        rows = session.scalars(select(QuarantineRecord).order_by(QuarantineRecord.id)).all()
    assert [(r.stream, r.record_key, r.run_id) for r in rows] == [
        (Stream.ORDER_ROUTING, "101", "run-0"),
        (Stream.ORDER_ROUTING, "BC101-A", None),
        (Stream.ORDER_ROUTING, "BC102-A", None),
    ]
    assert rows[0].payload == {"operation": "iter_orders", "raw": None}  # no raw copy of a record with customer data
    assert runtime.mirakl.transport.rejections.records == runtime.bigcommerce.transport.rejections.records == []
