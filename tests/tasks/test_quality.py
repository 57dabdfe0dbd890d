"""The gate contract: every stream gets the gate's result back, failed rows quarantined, and a trip never raises."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from connectors.state import create_state_engine, quarantine_counts, session_factory, upgrade
from expectations import GateResult
from tasks.quality import gate_and_quarantine
from tasks.reporting import RunReport

OVER_REFUND = "refund exceeds amount paid"


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    return session_factory(engine)


def _refunds(within_paid: list[bool]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": [f"or28:{i}" for i in range(len(within_paid))],
            "amount": [10.0] * len(within_paid),
            "refund_within_paid": within_paid,
        }
    )


async def _gate(sessions: sessionmaker[Session], frame: pd.DataFrame, report: RunReport) -> GateResult:
    return await gate_and_quarantine(
        sessions, frame, suite="refunds_out", stream="refund_mirror", key_column="key", report=report
    )


async def test_a_partial_batch_returns_passed_and_failed_rows_and_quarantines_the_failed(
    sessions: sessionmaker[Session],
) -> None:
    report = RunReport(stream="refund_mirror", title="test")
    result = await _gate(sessions, _refunds([True, True, False]), report)

    assert result.verdict == "partial" and not result.tripped
    assert list(result.passed["key"]) == ["or28:0", "or28:1"]
    assert list(result.failed["key"]) == ["or28:2"] and list(result.failed["reason"]) == [OVER_REFUND]
    assert report.quarantined == {OVER_REFUND: 1}
    assert report.alerts == []
    with sessions() as session:
        assert quarantine_counts(session, "refund_mirror") == {OVER_REFUND: 1}


async def test_a_trip_is_returned_with_its_failed_rows_quarantined_and_an_alert_not_raised(
    sessions: sessionmaker[Session],
) -> None:
    report = RunReport(stream="refund_mirror", title="test")
    result = await _gate(sessions, _refunds([False, False, True]), report)

    assert result.verdict == "tripped" and result.tripped
    assert sorted(result.failed["key"]) == ["or28:0", "or28:1"]
    assert report.quarantined == {OVER_REFUND: 2}
    assert [alert.event for alert in report.alerts] == ["bcmirakl.gate.circuit-breaker"]
    assert report.alerts[0].payload == {"suite": "refunds_out", "failed_rows": 2, "total_rows": 3}
