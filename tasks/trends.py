"""Per-day trends analysts read to see whether things get better, from the run records in the state store.

Per day: the worst value at risk and out-of-stock-buyable count the drift monitor saw, its worst stock-out ->
unbuyable p95 latency, the quarantine by reason over every stream's runs, and the unexplained amount the
latest reconciliation of the day found. The drift and reconciliation summaries end with the chart, and
`bcmirakl report --days 30` prints the same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from sqlalchemy.orm import Session

from connectors.state import RunRecord, run_records_since

__all__ = ["TREND_MEASURES", "TREND_STREAMS", "DayTrend", "daily_trends", "load_trends", "trend_markdown"]

DRIFT = "drift-monitor"
RECONCILIATION = "commission-reconciliation"
TREND_STREAMS = (DRIFT, RECONCILIATION)
# Column -> what it means, in the order charts and `bcmirakl report` show them.
TREND_MEASURES = {
    "value_at_risk": "value at risk (worst of the day)",
    "oos_buyable": "buyable but out of stock (worst of the day)",
    "latency_p95_s": "stock-out -> unbuyable p95, s (worst of the day)",
    "quarantined": "records quarantined (every stream)",
    "unexplained_amount": "unexplained reconciliation amount (latest of the day)",
}
BAR_WIDTH = 10
MONEY = frozenset({"value_at_risk", "unexplained_amount"})
N = TypeVar("N", Decimal, int, float)


@dataclass
class DayTrend:
    day: date
    value_at_risk: Decimal | None = None
    oos_buyable: int | None = None
    latency_p95_s: float | None = None
    unexplained_amount: Decimal | None = None
    quarantined_by_reason: Counter[str] = field(default_factory=Counter)
    runs: int = 0

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    def value(self, name: str) -> Decimal | int | float | None:
        """A measure by name; None where no run measured it (a day without runs has no quarantine count)."""
        if name == "quarantined":
            return self.quarantined if self.runs else None
        return getattr(self, name)  # type: ignore[no-any-return]


def daily_trends(records: Iterable[RunRecord], days: int, today: date) -> list[DayTrend]:
    """One row per day, oldest first, `days` days up to `today`; a day without runs keeps empty measures."""
    trend = {today - timedelta(days=n): DayTrend(today - timedelta(days=n)) for n in range(days)}
    for record in sorted(records, key=lambda r: r.finished_at):
        row = trend.get(record.finished_at.astimezone(UTC).date())
        if row is None:
            continue
        row.runs += 1
        row.quarantined_by_reason.update(record.quarantined or {})
        measures = record.measures or {}
        stream = record.stream.replace("_", "-")
        if stream == DRIFT and record.state == "completed":
            row.value_at_risk = _worst(row.value_at_risk, _decimal(measures.get("value_at_risk")))
            row.oos_buyable = _worst(row.oos_buyable, _int(measures.get("oos_buyable")))
            row.latency_p95_s = _worst(row.latency_p95_s, _float(measures.get("latency_p95_s")))
        if stream == RECONCILIATION and "unexplained_amount" in measures:
            row.unexplained_amount = _decimal(measures["unexplained_amount"])
    return [trend[day] for day in sorted(trend)]


def load_trends(session: Session, days: int, now: datetime | None = None) -> list[DayTrend]:
    """The last `days` days of trends, today included, from the run records."""
    today = (now or datetime.now(UTC)).date()
    since = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), tzinfo=UTC)
    return daily_trends(run_records_since(session, since), days, today)


def trend_markdown(rows: Sequence[DayTrend], currency: str = "") -> list[str]:
    """A markdown chart: one row per day with runs, each value with a bar scaled to the period's
    largest value of its column, then the period's top quarantine reasons."""
    shown = [row for row in rows if row.runs]
    if not shown:
        return ["No run has measured these yet."]
    tops = {
        name: max((float(v) for r in shown if (v := r.value(name)) is not None), default=0.0) for name in TREND_MEASURES
    }
    money = f" ({currency})" if currency else ""
    headers = [f"{meaning}{money if name in MONEY else ''}" for name, meaning in TREND_MEASURES.items()]
    lines = ["| day | " + " | ".join(headers) + " |", "|---" * (len(headers) + 1) + "|"]
    for row in shown:
        cells = [_cell(row.value(name), tops[name]) for name in TREND_MEASURES]
        lines.append(f"| {row.day.isoformat()} | " + " | ".join(cells) + " |")
    reasons = Counter[str]()
    for row in shown:
        reasons.update(row.quarantined_by_reason)
    if reasons:
        lines += ["", "| quarantine reason over the period | records |", "|---|---|"]
        lines += [f"| {reason} | {count} |" for reason, count in reasons.most_common(10)]
    return lines


def _cell(value: Decimal | int | float | None, top: float) -> str:
    if value is None:
        return "-"
    bar = "█" * round(BAR_WIDTH * float(value) / top) if value and top else ""
    return f"{value} {bar}".rstrip()


def _worst(current: N | None, new: N | None) -> N | None:
    if new is None:
        return current
    return new if current is None else max(current, new)


def _decimal(value: object) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
