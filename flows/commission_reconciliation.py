"""Commission reconciliation, daily and per billing cycle: fetch -> gate -> reconcile -> record -> publish.

Mirakl is the master for commissions and payouts, BigCommerce for gross sales. The gate checks the inputs
before any conclusion; when it fails (a day of TL02 could not be read, a duplicate transaction, a foreign
currency), the run publishes the gate's reasons, stores the period as `gate_failed`, publishes no gap
classification at all, and fails, so a missing day is never reported as a list of false gaps.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal

from prefect import flow
from prefect.runtime import flow_run

from bridge.streams import Stream
from flows.run_names import run_name
from tasks.progress import gather_counted
from tasks.reconciliation.fetch import fetch_bigcommerce_side, fetch_billing_cycles, fetch_invoices, fetch_tl02_day
from tasks.reconciliation.frames import frame, gate_frame
from tasks.reconciliation.money import rate_table
from tasks.reconciliation.reconcile import TRANSACTION_COLUMNS, ReconciliationInputs, reconcile
from tasks.reconciliation.record import (
    alert_on_gaps,
    check_inputs,
    export_for_finance,
    record_run,
    report_gate_failure,
    report_reconciliation,
)
from tasks.reporting import RunReport
from tasks.runs import flow_frame

__all__ = ["commission_reconciliation", "resolve_period"]

Scope = Literal["daily", "cycle"]


def resolve_period(start: date | None, end: date | None) -> tuple[datetime, datetime, list[date]]:
    """[start, end] as whole UTC days (end inclusive); both default to yesterday."""
    first = start or (datetime.now(UTC).date() - timedelta(days=1))
    last = end or first
    if last < first:
        raise ValueError(f"period ends ({last}) before it starts ({first})")
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return _midnight(first), _midnight(last + timedelta(days=1)), days


@flow(
    name="commission_reconciliation",
    flow_run_name=run_name("commission-reconciliation {scope} {start}..{end}", start="yesterday", end="same day"),
)
async def commission_reconciliation(
    start: date | None = None, end: date | None = None, scope: Scope = "daily"
) -> RunReport:
    """Reconcile Mirakl's commissions and payouts with BigCommerce's sales for whole UTC days.

    Args:
        start: first day of the period; empty: yesterday.
        end: last day of the period, included; empty: the same day as `start`.
        scope: `daily` (the default) compares order lines, commissions and refunds; `cycle` also checks the
            billing cycle's SBC11 payouts and IV01 invoices: run it once per billing cycle over its days.
    """
    period_start, period_end, days = resolve_period(start, end)
    label = f"reconciliation-{scope}-{days[0].isoformat()}-{days[-1].isoformat()}"
    async with flow_frame(
        Stream.COMMISSION_RECONCILIATION, f"Commission reconciliation {days[0]} to {days[-1]} ({scope})"
    ) as (rt, report):
        fetched = await gather_counted(
            "TL02 days", [fetch_tl02_day(rt, day, _midnight(day), _midnight(day + timedelta(days=1))) for day in days]
        )
        transactions = frame([row for day in fetched for row in day.rows], TRANSACTION_COLUMNS)
        cycles = await fetch_billing_cycles(rt, period_start, period_end) if scope == "cycle" else None
        invoices = await fetch_invoices(rt, period_start, period_end) if scope == "cycle" else None
        order_ids = sorted(transactions["order_id"].dropna().unique().tolist())
        bigcommerce = await fetch_bigcommerce_side(rt, period_start, period_end, order_ids)
        report.counts |= {
            "days": len(days),
            "days_incomplete": sum(not day.complete for day in fetched),
            "mirakl_transactions": len(transactions),
            "bigcommerce_lines": len(bigcommerce.lines),
        }
        gate = gate_frame(fetched, transactions, bigcommerce.currencies, cycles, invoices, rt.config.currency)
        period = (period_start, period_end)
        checked = await check_inputs(rt, gate, report)
        if checked.tripped:
            report_gate_failure(report, fetched)
            record_run(rt, period, scope, None, {"gate": "failed", "quarantined": dict(report.quarantined)}, _run_id())
            checked.raise_if_tripped()  # the run fails: no gap may be classified on inputs that failed

        settings = rt.config.reconciliation
        inputs = ReconciliationInputs(
            transactions,
            bigcommerce.lines,
            bigcommerce.refunds,
            cycles=cycles,
            invoices=invoices,
            rates_ppm=rate_table(settings.commission_rates),
            default_rate_ppm=_ppm(settings.default_commission_rate),
            commission_tax_rate_ppm=_ppm(settings.commission_tax_rate),
        )
        result = await asyncio.to_thread(reconcile, inputs)
        summary = report_reconciliation(report, result, rt.config.currency)
        summary["revision"] = record_run(rt, period, scope, result, summary, _run_id())
        report.counts["revision"] = summary["revision"]
        exported = await export_for_finance(rt, result, label, summary["revision"])
        report.notes += [f"finance export: {url}" for url in exported]
        alert_on_gaps(report, result, summary, label)
        return report


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _ppm(rate: Decimal | None) -> int | None:
    return None if rate is None else rate_table({0: rate})[0]


def _run_id() -> str | None:
    run_id = flow_run.get_id()
    return str(run_id) if run_id else None
