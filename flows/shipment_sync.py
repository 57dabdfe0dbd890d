"""Shipment sync: seller shipments reach the BigCommerce order, operator shipments reach Mirakl, carriers checked.

Every five minutes: Mirakl logistic orders shipped since the last run become BigCommerce shipments of exactly
their order products; marketplace lines shipped from BigCommerce are queued and sent to Mirakl as OR23 + OR24
once the logistic order is in SHIPPING, never with a carrier code missing from Mirakl's list (SH21).
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow

from bridge.streams import Stream
from flows.run_names import run_name
from tasks.reporting import RunReport
from tasks.runs import flow_frame
from tasks.shipments.deadlines import overdue_shipments
from tasks.shipments.inbound import create_bc_shipments, mirakl_shipped_orders, record_mirakl_sweep
from tasks.shipments.outbound import (
    bigcommerce_changed_orders,
    enqueue_bc_shipments,
    push_mirakl_tracking,
    record_bc_page,
)
from tasks.shipments.reference import check_carrier_list, load_carrier_reference

__all__ = ["shipment_sync"]


@flow(name="shipment_sync", flow_run_name=run_name("shipment-sync since {since}", since="cursor"))
async def shipment_sync(since: datetime | None = None) -> RunReport:
    """Mirror shipments both ways: Mirakl sellers' shipments to BigCommerce, native tracking to Mirakl.

    Args:
        since: re-read both sides from this time (UTC) instead of the cursors, to repair a gap; nothing is
            sent twice. Empty: continue from where the last run stopped.
    """
    async with flow_frame(Stream.SHIPMENT_SYNC, "Shipment sync") as (rt, report):
        now = datetime.now(UTC)
        table, carriers = await load_carrier_reference(rt, now)  # read: carrier table + SH21 (cached a day)
        report.absorb(check_carrier_list(rt, table, carriers, now), "carrier reference")
        async for shipped in mirakl_shipped_orders(rt, since):  # Mirakl -> BigCommerce: read, write once
            report.absorb(await create_bc_shipments(rt, shipped, table), "shipments to BigCommerce")
        record_mirakl_sweep(rt, now)
        async for orders in bigcommerce_changed_orders(rt, since):  # BigCommerce -> Mirakl: read, queue, record
            report.absorb(await enqueue_bc_shipments(rt, orders), "BigCommerce shipments queued")
            record_bc_page(rt, orders)
        if carriers.usable:  # gate: without any SH21 list the queue waits, no carrier code is sent unchecked
            report.absorb(await push_mirakl_tracking(rt, table, set(carriers.carriers)), "tracking to Mirakl")
        report.absorb(await overdue_shipments(rt, now), "overdue shipments")
        return report
