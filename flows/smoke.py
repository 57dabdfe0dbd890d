"""A smoke flow that proves every connector reaches its system: offers, orders and carriers are read and counted.

It changes nothing anywhere; operators can run it after a credential change to check the wiring.
"""

from __future__ import annotations

from prefect import flow

from bridge.runtime import runtime_scope
from bridge.streams import Stream
from flows.run_names import run_name
from tasks.reporting import RunReport
from tasks.runs import reported_run
from tasks.smoke import count_bigcommerce_orders, count_mirakl_carriers, count_mirakl_offers

__all__ = ["smoke"]


@flow(name="smoke", flow_run_name=run_name("smoke"))
async def smoke() -> RunReport:
    """Read offers, orders and carriers through the connectors and publish what was seen."""
    async with (
        runtime_scope() as rt,
        reported_run(
            rt, RunReport(stream=Stream.SMOKE, title="Connector smoke test", calls_baseline=rt.api_calls())
        ) as report,
    ):
        report.counts["mirakl_offers_read"] = await count_mirakl_offers(rt)
        report.counts["bigcommerce_orders_read"] = await count_bigcommerce_orders(rt)
        report.counts["mirakl_carriers"] = await count_mirakl_carriers(rt)
        report.record_api_calls(rt.api_calls())
        return report
