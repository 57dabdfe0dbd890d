"""BigCommerce → Mirakl: marketplace lines the operator shipped from BigCommerce become OR23 + OR24, once.

When the operator's warehouse fulfils a seller's lines, Mirakl must learn the tracking (OR23) and that the
logistic order shipped (OR24), or the seller's order stays in SHIPPING and breaches its deadline. Detected
shipments are queued in the outbox, one item per logistic order, because the push may have to wait: Mirakl
accepts OR24 only in SHIPPING, and an unmapped carrier waits in quarantine for operations to add a mapping.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict

from bridge.runtime import Runtime
from bridge.streams import Stream
from common.errors import ConflictError
from connectors.bigcommerce import Order as BcOrder
from connectors.bigcommerce import OrderProduct, Shipment
from connectors.bigcommerce.consignments import embedded_lines_and_addresses
from connectors.mirakl import Order as MiraklOrder
from connectors.state import (
    claim_batch,
    enqueue,
    logistic_orders_for,
    mark_done,
    mark_failed,
    mark_quarantined,
    open_cs_case,
    order_lines_for,
)
from tasks.exactly_once import is_recorded, mark_done_elsewhere, write_once
from tasks.leases import outbox_worker
from tasks.quality import quarantine_records
from tasks.reporting import Tally, emit_alert
from tasks.retry import TASK_RETRY
from tasks.shipments.carriers import CarrierTable, decide_mirakl_tracking
from tasks.shipments.cursors import BC_CURSOR, read_start, shipment_cursor

__all__ = [
    "TrackingItem",
    "bigcommerce_changed_orders",
    "enqueue_bc_shipments",
    "logistic_orders_shipped",
    "push_mirakl_tracking",
    "record_bc_page",
]

KIND = "mirakl-tracking"
CLAIM_SIZE = 50


class TrackingItem(BaseModel):
    """The payload of one queued tracking change: a logistic order shipped in BigCommerce, and how."""

    model_config = ConfigDict(frozen=True)

    mirakl_order_id: str
    bc_order_id: int
    bc_shipment_id: int
    shipping_provider: str
    tracking_carrier: str
    tracking_number: str
    tracking_link: str


def logistic_orders_shipped(
    lines: dict[int, str], products: list[OrderProduct], shipments: list[Shipment]
) -> dict[str, Shipment]:
    """Logistic orders whose every BigCommerce order product is fully shipped, with the shipment that finished it.

    Args:
        lines: BigCommerce order product id → Mirakl logistic order id, for the order's marketplace lines.
        products: the order's products, with their shipped quantities.
        shipments: the order's shipments, oldest first.
    """
    last_shipment: dict[str, Shipment] = {}
    for shipment in sorted(shipments, key=lambda s: s.id):
        for item in shipment.items:
            if item.order_product_id in lines:
                last_shipment[lines[item.order_product_id]] = shipment
    return {
        order_id: last_shipment[order_id] for order_id in _fully_shipped(lines, products) if order_id in last_shipment
    }


def _fully_shipped(lines: dict[int, str], products: list[OrderProduct]) -> list[str]:
    """Logistic orders whose every BigCommerce order product is shipped in full."""
    products_of: dict[str, list[OrderProduct]] = defaultdict(list)
    for product in products:
        if product.id in lines:
            products_of[lines[product.id]].append(product)
    return [order_id for order_id, owned in products_of.items() if all(p.quantity_shipped >= p.quantity for p in owned)]


async def _enqueue_order(rt: Runtime, order: BcOrder, tally: Tally) -> None:
    """An order's lines come from the list page when it embedded them whole (then an order none of whose logistic
    orders is fully shipped costs no call at all), else from GET /orders/{id}/products after its shipments."""
    with rt.sessions() as session:
        if not logistic_orders_for(session, bc_order_id=order.id):
            return
        lines = {
            line.bc_order_product_id: line.mirakl_order_id
            for line in order_lines_for(session, bc_order_id=order.id)
            if line.mirakl_order_id
        }
    embedded = embedded_lines_and_addresses(order)
    if embedded is not None and not _fully_shipped(lines, embedded[0]):
        return
    shipments = await rt.bigcommerce.list_shipments(order.id)
    if not shipments:
        return
    products = embedded[0] if embedded is not None else await rt.bigcommerce.list_order_products(order.id)
    for mirakl_order_id, shipment in logistic_orders_shipped(lines, products, shipments).items():
        if is_recorded(rt.sessions, "mirakl", "OR24", f"or24:{mirakl_order_id}"):
            continue
        item = TrackingItem(
            mirakl_order_id=mirakl_order_id,
            bc_order_id=order.id,
            bc_shipment_id=shipment.id,
            shipping_provider=shipment.shipping_provider or "",
            tracking_carrier=shipment.tracking_carrier or "",
            tracking_number=shipment.tracking_number or "",
            tracking_link=shipment.tracking_link or shipment.generated_tracking_link or "",
        )
        with rt.sessions() as session:
            if enqueue(session, Stream.SHIPMENT_SYNC, KIND, f"ship:{mirakl_order_id}", item.model_dump()):
                tally.add("bigcommerce_shipments_queued")
            session.commit()


async def bigcommerce_changed_orders(rt: Runtime, since: datetime | None) -> AsyncIterator[list[BcOrder]]:
    """Pages of BigCommerce orders modified since the cursor (with overlap), or since the operator's `since`."""
    start = read_start(rt, BC_CURSOR, since)
    async for page in rt.bigcommerce.iter_orders(min_date_modified=start, with_lines=rt.config.orders.embed_lines):
        yield page


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def enqueue_bc_shipments(rt: Runtime, page: list[BcOrder]) -> Tally:
    """Queue OR23/OR24 for the page's marketplace lines shipped in BigCommerce (keyed: a re-read queues nothing)."""
    tally = Tally()
    shipped = set(rt.config.shipments.bc_shipped_status_ids)
    for order in page:
        if order.status_id in shipped:
            await _enqueue_order(rt, order, tally)
    return tally


@task(cache_policy=NO_CACHE)
def record_bc_page(rt: Runtime, page: list[BcOrder]) -> None:
    """Move the cursor to the page's newest modification, once its shipments are queued."""
    latest = max((o.date_modified for o in page if o.date_modified is not None), default=None)
    if latest is not None:
        with rt.sessions() as session:
            shipment_cursor(rt, BC_CURSOR).advance(session, latest)
            session.commit()


async def _send_tracking(rt: Runtime, order_id: str, payload: TrackingItem, tracking: Any) -> str | None:
    """OR23 then OR24 through the ledger; returns an error text, or None when both are done."""
    detail = {"bc_order_id": payload.bc_order_id, "bc_shipment_id": payload.bc_shipment_id}

    async def set_tracking() -> None:
        await rt.mirakl.set_tracking(order_id, tracking)

    async def ship() -> str:
        try:
            await rt.mirakl.ship_order(order_id)
        except ConflictError:
            return "already-shipped"  # shipped meanwhile (seller or an earlier attempt): the goal is reached
        return "shipped"

    or23 = await write_once(
        rt.sessions, system="mirakl", operation="OR23", key=f"or23:{order_id}", send=set_tracking, detail=detail
    )
    if not or23.done:
        return or23.error or f"OR23 {or23.status}"
    or24 = await write_once(
        rt.sessions, system="mirakl", operation="OR24", key=f"or24:{order_id}", send=ship, detail=detail
    )
    return None if or24.done else (or24.error or f"OR24 {or24.status}")


def _quarantine_carrier(rt: Runtime, tally: Tally, item_id: int, payload: TrackingItem, decision: Any) -> None:
    order_id = payload.mirakl_order_id
    with rt.sessions() as session:
        mark_quarantined(session, [item_id], decision.reason)
        session.commit()
    quarantine_records(
        rt.sessions,
        Stream.SHIPMENT_SYNC,
        [
            {
                "record_key": order_id,
                "reason": decision.reason,
                "payload": {
                    "carrier_name": decision.carrier_name,
                    "mirakl_code": decision.mirakl_code,
                    "bc_order_id": payload.bc_order_id,
                    "bc_shipment_id": payload.bc_shipment_id,
                    "outbox_id": item_id,
                },
            }
        ],
        tally,
    )
    tally.tables.setdefault("quarantined-carriers", []).append(
        {"mirakl_order_id": order_id, "carrier_name": decision.carrier_name, "reason": decision.reason}
    )
    emit_alert(
        tally,
        "bcmirakl.shipments.carrier-unmapped",
        f"bcmirakl.carrier.{decision.carrier_name or 'none'}",
        {
            "carrier_name": decision.carrier_name,
            "mirakl_order_id": order_id,
            "reason": decision.reason,
            "action": f"map BigCommerce carrier '{decision.carrier_name}' to a Mirakl SH21 code "
            "(carriers.yaml or the carrier_override table), then requeue the outbox item",
        },
    )


async def _push_one(
    rt: Runtime,
    tally: Tally,
    item_id: int,
    payload: TrackingItem,
    order: MiraklOrder | None,
    table: CarrierTable,
    known_codes: set[str],
    now: datetime,
) -> None:
    order_id = payload.mirakl_order_id
    if order is None or order.order_state in ("REFUSED", "CANCELED"):
        with rt.sessions() as session:
            mark_failed(session, item_id, f"logistic order {order_id} is {order.order_state if order else 'unknown'}")
            session.commit()
        tally.add("tracking_not_sendable")
        return
    if order.order_state in rt.config.shipments.mirakl_shipped_states:
        with rt.sessions() as session:
            mark_done(session, [item_id])
            session.commit()
        tally.add("tracking_already_shipped_in_mirakl")
        return
    if order.order_state != "SHIPPING":
        retry_at = now + timedelta(minutes=rt.config.shipments.not_shipping_retry_minutes)
        with rt.sessions() as session:
            mark_failed(session, item_id, f"waiting for SHIPPING (is {order.order_state})", retry_at=retry_at)
            session.commit()
        tally.add("tracking_waiting_for_shipping_state")
        return
    decision = decide_mirakl_tracking(
        table,
        known_codes,
        shipping_provider=payload.shipping_provider,
        tracking_carrier=payload.tracking_carrier,
        tracking_number=payload.tracking_number,
        tracking_link=payload.tracking_link,
        allow_unregistered=rt.config.shipments.allow_unregistered_carriers,
    )
    if decision.tracking is None:
        _quarantine_carrier(rt, tally, item_id, payload, decision)
        return
    error = await _send_tracking(rt, order_id, payload, decision.tracking)
    with rt.sessions() as session:
        if error is None:
            mark_done(session, [item_id])
        else:
            mark_failed(session, item_id, error)
            open_cs_case(
                session,
                Stream.SHIPMENT_SYNC,
                order_id,
                "mirakl-tracking-refused",
                {"error": error, **payload.model_dump()},
            )
        session.commit()
    if error is not None:
        tally.add("tracking_refused_by_mirakl")
        return
    # Mirakl now shows the order SHIPPED with this tracking: that is not a new shipment for BigCommerce.
    tracking_key = f"bc-shipment:{order_id}:{payload.tracking_number or 'untracked'}"
    mark_done_elsewhere(
        rt.sessions, "bigcommerce", "create_shipment", tracking_key, str(payload.bc_shipment_id), f"or24:{order_id}"
    )
    tally.add("shipments_to_mirakl")
    tally.tables.setdefault("to-mirakl", []).append(
        {
            "mirakl_order_id": order_id,
            "bc_order_id": payload.bc_order_id,
            "bc_shipment_id": payload.bc_shipment_id,
            "carrier": decision.mirakl_code or decision.carrier_name,
            "tracking_number": payload.tracking_number,
        }
    )


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def push_mirakl_tracking(
    rt: Runtime, table: CarrierTable, known_codes: set[str], now: datetime | None = None
) -> Tally:
    """Drain the queue: carrier-checked OR23 + OR24 for logistic orders in SHIPPING, in claimed batches.

    Returns what this attempt sent, held and quarantined: items a failed attempt finished are out of the queue,
    so a retry neither sends nor counts them again.
    """
    tally = Tally()
    # A registered worker: a drain killed mid-batch has its claims taken over by the next run at once; each
    # item's OR23/OR24 then go through the ledger, which recovers a call made before the crash.
    async with outbox_worker(rt, Stream.SHIPMENT_SYNC) as lease:
        while True:
            current = now or datetime.now(UTC)
            with rt.sessions() as session:
                claimed = claim_batch(session, Stream.SHIPMENT_SYNC, KIND, CLAIM_SIZE, lease.worker, current)
                items = [(i.id, TrackingItem.model_validate(i.payload)) for i in claimed]
                session.commit()
            if not items:
                return tally
            order_ids = [payload.mirakl_order_id for _, payload in items]
            orders = {o.order_id: o async for page in rt.mirakl.iter_orders(order_ids=order_ids) for o in page}
            for item_id, payload in items:
                order = orders.get(payload.mirakl_order_id)
                await _push_one(rt, tally, item_id, payload, order, table, known_codes, current)
