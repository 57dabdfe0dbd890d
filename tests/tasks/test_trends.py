"""Per-day trends: the worst drift of each day, every stream's quarantine, the day's latest unexplained amount;
the same rows in the summaries' chart and in `bcmirakl report`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bcmirakl.cli import main
from connectors.state import RunRecord, create_state_engine, record_run_attempt, session_factory, upgrade
from tasks.trends import daily_trends, trend_markdown

TODAY = date(2026, 11, 30)


def record(
    stream: str,
    day: date,
    hour: int,
    state: str = "completed",
    quarantined: dict[str, int] | None = None,
    **measures: object,
) -> RunRecord:
    at = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return RunRecord(
        stream=stream, state=state, started_at=at, finished_at=at, measures=measures, quarantined=quarantined or {}
    )


def test_each_day_keeps_the_worst_drift_every_streams_quarantine_and_the_latest_unexplained_amount() -> None:
    yesterday = TODAY - timedelta(days=1)
    records = [
        record("drift-monitor", yesterday, 9, oos_buyable=4, value_at_risk="120.50", latency_p95_s=30.0),
        record("drift-monitor", yesterday, 17, oos_buyable=1, value_at_risk="10.00", latency_p95_s=95.5),
        record("drift-monitor", TODAY, 9, state="failed", oos_buyable=99),  # a failed run measured nothing whole
        record("offer-sync", TODAY, 10, quarantined={"price above the ceiling": 3}),
        record("order_routing", TODAY, 11, quarantined={"price above the ceiling": 1, "no offer": 2}),
        record("commission_reconciliation", TODAY, 6, unexplained_amount="4.00"),
        record("commission_reconciliation", TODAY, 7, unexplained_amount="0.00"),
    ]
    rows = daily_trends(records, 3, TODAY)

    assert [row.day for row in rows] == [TODAY - timedelta(days=2), yesterday, TODAY]
    empty, worst, today = rows
    assert empty.oos_buyable is None and empty.value("quarantined") is None
    assert (worst.oos_buyable, worst.value_at_risk, worst.latency_p95_s) == (4, Decimal("120.50"), 95.5)
    assert today.oos_buyable is None
    assert today.quarantined_by_reason == {"price above the ceiling": 4, "no offer": 2}
    assert today.unexplained_amount == Decimal("0.00")


def test_the_chart_shows_measured_days_with_bars_scaled_to_the_periods_largest_value() -> None:
    yesterday = TODAY - timedelta(days=1)
    records = [
        record("drift-monitor", yesterday, 9, oos_buyable=4, value_at_risk="100", quarantined={"no offer": 5}),
        record("drift-monitor", TODAY, 9, oos_buyable=2, value_at_risk="50"),
    ]
    lines = trend_markdown(daily_trends(records, 3, TODAY), "EUR")
    assert lines[0].startswith("| day | value at risk (worst of the day) (EUR) | buyable but out of stock")
    rows = [line for line in lines if line.startswith(("| 2026-11-28", "| 2026-11-29", "| 2026-11-30"))]
    assert rows == [  # the day no run measured is left out
        f"| {yesterday.isoformat()} | 100 {'█' * 10} | 4 {'█' * 10} | - | 5 {'█' * 10} | - |",
        f"| {TODAY.isoformat()} | 50 {'█' * 5} | 2 {'█' * 5} | - | 0 | - |",
    ]
    assert "| no offer | 5 |" in lines


def test_a_chart_without_measurements_says_so() -> None:
    assert trend_markdown(daily_trends([], 3, TODAY)) == ["No run has measured these yet."]


def test_bcmirakl_report_prints_the_same_rows_from_the_state_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = create_state_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with session_factory(engine)() as session:
        measures = {"oos_buyable": 7, "value_at_risk": "321.40", "latency_p95_s": 12.5}
        record_run_attempt(
            session,
            stream="drift-monitor",
            flow_run_id=None,
            state="completed",
            started_at=now,
            measures=measures,
            quarantined={"no offer": 2},
        )
        session.commit()
    engine.dispose()
    monkeypatch.setenv("BCMIRAKL_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "250")

    assert main(["report", "--days", "3"]) == 0
    out = capsys.readouterr().out
    today_row = next(line for line in out.splitlines() if now.date().isoformat() in line)
    assert "321.40" in today_row and "7" in today_row and "12.5" in today_row
    assert "no offer" in out
