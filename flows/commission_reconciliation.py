"""Commission reconciliation, daily and per billing cycle: read -> gate -> reconcile -> record -> publish.

Mirakl is the master for commissions and payouts, BigCommerce for gross sales. The period's TL02 pages and
BigCommerce lines are spilled into a scratch partition store as they are read, so a month at a big marketplace
is gated, reconciled, stored and exported a slice at a time. The gate checks the inputs before any conclusion;
when it fails (a day of TL02 could not be read, a duplicate transaction, a foreign currency), the run publishes
the gate's reasons, stores the period as `gate_failed`, publishes no gap classification at all, and fails, so a
missing day is never reported as a list of false gaps.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

from prefect import flow
from prefect.runtime import flow_run

from bridge.streams import Stream
from flows.run_names import run_name
from tasks.reconciliation.fetch import midnight, read_period
from tasks.reconciliation.held import held_refund_lines
from tasks.reconciliation.partitions import HASH_PARTITIONS, SLICE_LINES, PartitionStore
from tasks.reconciliation.record import (
    check_inputs,
    period_terms,
    publish_reconciliation,
    reconcile_period,
    record_gate_failure,
    record_run,
    summary_of,
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
    return midnight(first), midnight(last + timedelta(days=1)), days


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
    period, label = (period_start, period_end), f"reconciliation-{scope}-{days[0].isoformat()}-{days[-1].isoformat()}"
    async with flow_frame(
        Stream.COMMISSION_RECONCILIATION, f"Commission reconciliation {days[0]} to {days[-1]} ({scope})"
    ) as (rt, report):
        with tempfile.TemporaryDirectory(prefix="bcmirakl-reconciliation-") as scratch:
            store = PartitionStore(Path(scratch), HASH_PARTITIONS, partition_rows=SLICE_LINES)
            read = await read_period(rt, store, days, scope)
            report.absorb(read.tally, "read")
            gate = await check_inputs(rt, store, read)
            report.absorb(gate.tally, "gate")
            if gate.tripped:
                record_gate_failure(rt, period, scope, gate, _run_id())
                gate.raise_if_tripped()  # the run fails: no gap may be classified on inputs that failed
            with rt.sessions() as session:  # refunds the refund mirror held for finance: their gaps name the hold
                held = held_refund_lines(session)
            terms = replace(period_terms(read, rt.config.reconciliation), held_refunds=held)
            result = await reconcile_period(store, terms)
            revision = record_run(rt, period, scope, store.lines(), summary_of(result), _run_id())
            report.absorb(await publish_reconciliation(rt, store, result, read, revision, label), "publish")
        return report


def _run_id() -> str | None:
    run_id = flow_run.get_id()
    return str(run_id) if run_id else None
