"""Accept-order SLA guard: no marketplace order the bridge routed may time out silently in Mirakl.

Runs every minute: releases STAGING orders once BigCommerce is paid (OR02) or drops cancelled ones (OR03),
confirms or refuses debits (PA11 -> PA01), sends refused lines back to BigCommerce, warns before and at each
acceptance or debit deadline, and publishes a seller scorecard.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow

from bridge.streams import Stream
from flows.run_names import run_name
from tasks.acceptance.guard import (
    fetch_watched_orders,
    publish_scorecard,
    record_progress,
    release_staging,
    settle_debits,
    settle_refusals,
    watch_deadlines,
)
from tasks.reporting import RunReport
from tasks.runs import flow_frame

__all__ = ["acceptance_guard"]


@flow(name="acceptance_guard", flow_run_name=run_name("acceptance-guard deadlines at {now}", now="run time"))
async def acceptance_guard(now: datetime | None = None) -> RunReport:
    """One pass over every waiting order the bridge routed.

    Args:
        now: the clock the deadlines are measured against; empty: the current time. Set it to replay a
            past run or to test a deadline without waiting.
    """
    async with flow_frame(Stream.ACCEPTANCE_GUARD, "Accept-order SLA guard") as (rt, report):
        clock = now or datetime.now(UTC)
        # read: every routed order still waiting in Mirakl
        orders = await fetch_watched_orders(rt)
        report.counts["orders_watched"] = len(orders)
        # decide + write: release or drop staged orders, settle debits; either moves orders, so read them again
        released = await release_staging(rt, orders)
        report.absorb(released.tally, "release_staging")
        if released.orders:
            orders = await fetch_watched_orders(rt)
        debits = await settle_debits(rt)
        report.absorb(debits.tally, "settle_debits")
        if debits.orders:
            orders = await fetch_watched_orders(rt)
        report.absorb(await settle_refusals(rt, orders), "settle_refusals")
        # decide: each waiting order's deadline, warned once per order and phase (no gate: no batch is pushed)
        report.absorb(await watch_deadlines(rt, orders, clock), "watch_deadlines")
        # record: outcomes, states and CX metafields, then the seller scorecard
        report.absorb(await record_progress(rt, orders), "record_progress")
        report.absorb(await publish_scorecard(rt), "publish_scorecard")
        return report
