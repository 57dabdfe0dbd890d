"""Refund mirror: BigCommerce refunds of marketplace lines reach Mirakl, seller refunds reach the customer.

Every five minutes: BigCommerce refunds since the cursor become OR28 refunds per Mirakl order line (gated, an
over-refund quarantined); then every refund waiting in PA12 is paid back through BigCommerce and confirmed with
PA02. The BigCommerce side runs first so that a refund created by OR28 is known when PA12 lists it.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from bridge.streams import Stream
from flows.run_names import run_name
from tasks.refunds.inbound import pay_mirakl_refunds, read_waiting_refunds
from tasks.refunds.outbound import (
    bigcommerce_refunds,
    decide_or28_rows,
    gate_or28_rows,
    record_refund_page,
    send_or28,
    valid_reason_codes,
)
from tasks.reporting import RunReport
from tasks.runs import flow_frame

__all__ = ["refund_mirror"]


@flow(name="refund_mirror", flow_run_name=run_name("refund-mirror since {since}", since="cursor"))
async def refund_mirror(since: datetime | None = None) -> RunReport:
    """Mirror refunds both ways: BigCommerce refunds of marketplace lines to Mirakl, Mirakl refunds to BigCommerce.

    Args:
        since: re-read BigCommerce refunds created from this time (UTC) instead of the cursor, to repair a
            gap; nothing is refunded twice. Empty: continue from where the last run stopped.
    """
    async with flow_frame(Stream.REFUND_MIRROR, "Refund mirror") as (rt, report):
        # BigCommerce -> Mirakl, page by page: read, decide, gate, write (OR28), record (the cursor).
        reasons = await valid_reason_codes(rt)
        async for refunds in bigcommerce_refunds(rt, since):
            page = await decide_or28_rows(rt, refunds, reasons)
            report.absorb(page.tally, "decide_or28_rows")
            if page.rows:
                gated = await gate_or28_rows(rt, page.rows)
                report.absorb(gated.tally, "gate_or28_rows")
                if gated.tripped:
                    # The page's good rows go with the next run, which re-reads it from the unmoved cursor and
                    # no longer meets the quarantined ones (they are recorded as decided).
                    report.notes.append("refunds_out gate tripped: push stopped, cursor held at this page")
                    break
                report.absorb(await send_or28(rt, gated.passed), "send_or28")
            report.absorb(record_refund_page(rt, page), "record_refund_page")
        # Mirakl -> BigCommerce: read PA12 whole, then pay each refund and confirm it (PA02).
        report.absorb(await pay_mirakl_refunds(rt, await read_waiting_refunds(rt)), "pay_mirakl_refunds")
        return report
