"""`bcmirakl report --days N`: the per-day trends of the drift and reconciliation summaries, in the terminal.

Analysts without the Prefect UI see the same rows the summaries chart: value at risk, buyable-but-out-of-stock,
stock-out -> unbuyable p95, quarantine (with the period's top reasons) and the unexplained reconciliation amount.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console

from bcmirakl.tables import rows_table
from tasks.trends import TREND_MEASURES, DayTrend

__all__ = ["print_trends"]


def print_trends(rows: Sequence[DayTrend], currency: str, console: Console) -> None:
    """One row per day (a dash where no run measured it), the columns' meanings, then the top quarantine reasons."""
    table = [{"day": row.day.isoformat(), **{name: _shown(row.value(name)) for name in TREND_MEASURES}} for row in rows]
    console.print(rows_table(table, title=f"Trends per day, last {len(rows)} days (money in {currency})"))
    for name, meaning in TREND_MEASURES.items():
        console.print(f"  {name}: {meaning}", highlight=False)
    reasons = Counter[str]()
    for row in rows:
        reasons.update(row.quarantined_by_reason)
    if reasons:
        console.print()
        top = [{"reason": reason, "records": count} for reason, count in reasons.most_common(10)]
        console.print(rows_table(top, title="Quarantine by reason over the period"))


def _shown(value: object) -> str:
    return "-" if value is None else str(value)
