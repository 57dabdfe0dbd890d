"""`bcmirakl report --days N`: the per-day trends of the drift and reconciliation summaries, in the terminal.

Analysts without the Prefect UI see the same rows the summaries chart: value at risk, buyable-but-out-of-stock,
stock-out -> unbuyable p95, quarantine (with the period's top reasons) and the unexplained reconciliation amount.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from tasks.trends import TREND_MEASURES, DayTrend

__all__ = ["print_trends", "trends_table"]


def trends_table(rows: Sequence[DayTrend], currency: str) -> Table:
    table = Table(title=f"Trends per day, last {len(rows)} days (store currency {currency})", title_justify="left")
    table.add_column("day")
    for meaning in TREND_MEASURES.values():
        table.add_column(meaning, justify="right")
    for row in rows:
        values = [row.value(name) for name in TREND_MEASURES]
        table.add_row(row.day.isoformat(), *("—" if value is None else str(value) for value in values))
    return table


def print_trends(rows: Sequence[DayTrend], currency: str, console: Console | None = None) -> None:
    out = console or Console()
    out.print(trends_table(rows, currency))
    reasons = Counter[str]()
    for row in rows:
        reasons.update(row.quarantined_by_reason)
    if reasons:
        table = Table(title="Quarantine by reason over the period", title_justify="left")
        table.add_column("reason")
        table.add_column("records", justify="right")
        for reason, count in reasons.most_common(10):
            table.add_row(reason, str(count))
        out.print(table)
