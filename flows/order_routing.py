"""Order split-and-route: every paid BigCommerce order's native lines go to the ERP and its marketplace lines
become one Mirakl commercial order (OR01), exactly once; cancelled orders are unwound.

Runs every minute (or on an order webhook); each run sweeps orders modified since the cursor, page by page.
"""

from __future__ import annotations

from collections import Counter

from prefect import flow

from bridge.streams import Stream
from flows.run_names import run_name
from tasks.orders import changed_orders, load_order_cursor, route_order_page
from tasks.outages import report_deferrals
from tasks.reporting import RunReport
from tasks.runs import flow_frame

__all__ = ["order_routing"]


@flow(name="order_routing", flow_run_name=run_name("order-routing {max_pages} pages", max_pages="all"))
async def order_routing(max_pages: int | None = None) -> RunReport:
    """Sweep changed orders; stop early at a page with deferred orders so the cursor never skips them.

    Args:
        max_pages: stop after this many pages of changed orders (a backlog is then finished by the next
            runs); empty: every page changed since the cursor.
    """
    async with flow_frame(Stream.ORDER_ROUTING, "Order split-and-route") as (rt, report):
        since = await load_order_cursor(rt)
        pages, attempted, deferred = 0, 0, Counter[str]()
        async for page in changed_orders(rt, since):
            result = await route_order_page(rt, page)
            report.absorb(result.tally, "route_order_page")
            pages += 1
            attempted += result.attempted
            deferred.update(result.deferred_by_system)
            if result.deferred or (max_pages is not None and pages >= max_pages):
                break
        report.counts["pages"] = pages
        report_deferrals(rt.sessions, report, Stream.ORDER_ROUTING, attempted, deferred, rt.config.outages.alert_share)
        return report
