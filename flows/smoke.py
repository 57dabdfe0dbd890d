"""A smoke flow that proves every connector reaches its system: offers, orders and carriers are read and counted.

It changes nothing anywhere; operators can run it after a credential change to check the wiring.
"""

from __future__ import annotations

from prefect import flow

from bridge.streams import Stream
from flows.run_names import run_name
from tasks.reporting import RunReport
from tasks.runs import flow_frame
from tasks.smoke import count_bigcommerce_orders, count_mirakl_carriers, count_mirakl_offers

__all__ = ["smoke"]


@flow(name="smoke", flow_run_name=run_name("smoke"))
async def smoke() -> RunReport:
    """Read offers, orders and carriers through the connectors and publish what was seen."""
    async with flow_frame(Stream.SMOKE, "Connector smoke test") as (rt, report):
        report.counts["mirakl_offers_read"] = await count_mirakl_offers(rt)
        report.counts["bigcommerce_orders_read"] = await count_bigcommerce_orders(rt)
        report.counts["mirakl_carriers"] = await count_mirakl_carriers(rt)
        return report
