"""The summary artifact as a person reads it: a verdict sentence first, labelled measures, then the technical block.

The first line is the verdict (the Prefect UI and the browser check read it): what was written, what needs a
person and where. Business measures come with units and the store currency, in the same rows every run;
API calls, batches and timings sit in a technical block at the end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from tasks.measures import STREAM_ROWS, TABLES, measure, stream_key

__all__ = ["RunSummary", "fmt", "render_summary", "verdict_of", "writes_text"]


class RunSummary(Protocol):
    """What a summary is rendered from: `tasks.reporting.RunReport` (named here so the two modules stay apart)."""

    stream: str
    title: str
    state: str
    failure: str | None
    verdict: str | None
    currency: str
    counts: dict[str, int | float | str]
    quarantined: Counter[str]
    tables: dict[str, list[dict[str, Any]]]
    alerts: list[Any]
    notes: list[str]
    attempts: list[dict[str, Any]]
    trend: list[str]
    budget: list[dict[str, Any]]

    def writes(self) -> Mapping[str, int | float | str]: ...


def fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}"
    return str(value)


def verdict_of(report: RunSummary) -> str:
    """One sentence: what the run wrote, what it set aside and what to do; a failed run says what broke."""
    if report.state == "failed":
        return f"FAILED: {report.failure or 'the run stopped'}"
    if report.verdict:
        return report.verdict
    return _VERDICTS.get(stream_key(report.stream), _generic_verdict)(report)


def render_summary(report: RunSummary) -> str:
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    lines = [verdict_of(report), "", f"# {report.title}", "", f"_{report.state} · generated {generated}_", ""]
    business, technical = _rows(report)
    lines += ["| measure | value | unit |", "|---|---|---|", *business]
    if report.quarantined:
        lines += ["", "## Quarantined by reason", "", "Set aside with the reason; fix at the source, then requeue.", ""]
        lines += ["| reason | rows |", "|---|---|"]
        lines += [f"| {reason} | {count} |" for reason, count in report.quarantined.most_common()]
    if report.alerts:
        lines += ["", "## Alerts raised", ""]
        lines += [f"- `{a.event}` on `{a.resource_id}`" for a in report.alerts]
    if report.attempts:
        lines += ["", "## Earlier attempts of this run", "", "| attempt | state | written |", "|---|---|---|"]
        lines += [
            f"| {a['attempt']} | {a['state']} | {writes_text(a['writes'], report.currency) or 'nothing'} |"
            for a in report.attempts
        ]
    tables = [name for name, rows in report.tables.items() if rows]
    if tables:
        lines += ["", "## Tables", ""] + [
            f"- `{name}` ({len(report.tables[name])} rows): {TABLES.get(name, name)}" for name in tables
        ]
    if report.trend:
        lines += ["", "## Trend (per day)", "", *report.trend]
    if report.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in report.notes]
    lines += ["", "## Technical", "", "| counter | value | unit |", "|---|---|---|", *technical]
    if report.budget:
        lines += ["", "Mirakl calls against budget:", "", "| " + " | ".join(report.budget[0]) + " |"]
        lines += ["|" + "---|" * len(report.budget[0])]
        lines += ["| " + " | ".join(fmt(value) for value in row.values()) + " |" for row in report.budget]
    return "\n".join(lines) + "\n"


def _rows(report: RunSummary) -> tuple[list[str], list[str]]:
    """Business rows (the stream's fixed rows first, a missing one as 0) and technical rows."""
    fixed = STREAM_ROWS.get(stream_key(report.stream), ())
    names = list(fixed) + [name for name in report.counts if name not in fixed]
    business, technical = [], []
    for name in names:
        entry = measure(name)
        unit = report.currency if entry.unit == "money" else entry.unit
        row = f"| {entry.label} | {fmt(report.counts.get(name, 0))} | {unit} |"
        (technical if entry.kind == "technical" else business).append(row)
    return business, technical


def _count(report: RunSummary, name: str) -> int | float:
    value = report.counts.get(name, 0)
    return value if isinstance(value, int | float) else 0


def writes_text(writes: dict[str, object], currency: str = "") -> str:
    """ "4 orders routed, 201.67 USD amount confirmed to Mirakl": money carries the store currency."""
    return ", ".join(f"{_amount(name, value, currency)} {measure(name).label}" for name, value in writes.items())


def _amount(name: str, value: object, currency: str) -> str:
    return f"{fmt(value)} {currency}".strip() if measure(name).unit == "money" else fmt(value)


def _generic_verdict(report: RunSummary) -> str:
    written = writes_text(dict(list(report.writes().items())[:3]), report.currency)
    if not written:
        reads = {name: value for name, value in report.counts.items() if measure(name).kind == "read" and value}
        written = "nothing written" + (f" (read: {writes_text(reads)})" if reads else "")
    parts = [written]
    quarantined = sum(report.quarantined.values())
    if quarantined:
        parts.append(f"{quarantined} records quarantined — see the quarantine table")
    problems = [name for name in report.counts if measure(name).kind == "problem" and _count(report, name)]
    parts += [f"{fmt(report.counts[name])} {measure(name).label}" for name in problems[:2]]
    return ", ".join(parts) + "."


def _offer_verdict(report: RunSummary) -> str:
    quarantined = sum(report.quarantined.values())
    return (
        f"{_count(report, 'pushed')} changes pushed, {quarantined} offers quarantined — fix in Mirakl, "
        f"{_count(report, 'queue_left')} changes left queued for the next run, "
        f"{_count(report, 'sellers_failed')} sellers failed."
    )


def _drift_verdict(report: RunSummary) -> str:
    return (
        f"{_count(report, 'oos_buyable')} variants buyable but out of stock "
        f"({report.counts.get('value_at_risk', 0)} {report.currency} at risk), "
        f"{_count(report, 'price_mismatches')} price mismatches, {_count(report, 'mapping_errors')} mapping errors "
        f"— run offer sync if any stays."
    )


def _reconciliation_verdict(report: RunSummary) -> str:
    if report.counts.get("gate") == "failed":
        return "Inputs failed the gate: nothing classified — see the quarantine table, then rerun the period."
    gaps = sum(_count(report, name) for name in report.counts if name.startswith("class_") and name != "class_rounding")
    return (
        f"Balanced: {report.counts.get('balanced', 'NO')} — {_count(report, 'order_lines')} lines reconciled, "
        f"{gaps} gaps classified (work them from the exceptions CSV), "
        f"{report.counts.get('unexplained_amount', 0)} {report.currency} unexplained."
    )


_VERDICTS: dict[str, Callable[[RunSummary], str]] = {
    "offer-sync": _offer_verdict,
    "drift-monitor": _drift_verdict,
    "commission-reconciliation": _reconciliation_verdict,
}
