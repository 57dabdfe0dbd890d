"""Mirakl → BigCommerce: a seller's shipment becomes the BigCommerce shipment of exactly its order products.

The customer bought in BigCommerce and expects the tracking there. Each shipped logistic order gives one
BigCommerce shipment per tracking number (and shipping address), holding only the order products that the
seller's lines carry, in the quantities still unshipped, so a partial shipment stays partial. The carrier is
translated through the carrier table; a carrier BigCommerce does not know gets a custom tracking link.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from bridge.streams import Stream
from connectors.bigcommerce import OrderProduct, Shipment, ShipmentCreate, ShipmentItem
from connectors.mirakl import Order as MiraklOrder
from connectors.mirakl import OrderLine as MiraklOrderLine
from connectors.state import (
    OrderLineMapping,
    get_logistic_order,
    ledger_get,
    open_cs_case,
    order_lines_for,
)
from tasks.exactly_once import mark_done_elsewhere, write_once
from tasks.reporting import Tally
from tasks.retry import TASK_RETRY
from tasks.shipments.carriers import CarrierTable
from tasks.shipments.cursors import MIRAKL_CURSOR, read_start, shipment_cursor

__all__ = [
    "BcShipmentPlan",
    "create_bc_shipments",
    "mirakl_shipped_orders",
    "plan_bc_shipments",
    "record_mirakl_sweep",
]

_CLOSED_LINE_STATES = frozenset({"REFUSED", "CANCELED"})


@dataclass(frozen=True)
class BcShipmentPlan:
    """One BigCommerce shipment for a logistic order and tracking number; `shipment` is None when BigCommerce
    already shows every product shipped (by an earlier, possibly interrupted, attempt or by the operator)."""

    key: str
    bc_order_id: int
    mirakl_order_id: str
    tracking_number: str
    product_ids: frozenset[int]
    shipment: ShipmentCreate | None


def _units_left(line: MiraklOrderLine, mapping: OrderLineMapping) -> int:
    """The units the seller ships on a line: its quantity less the units cancelled before the debit.

    OR11's line `quantity` is "Product's quantity for the order line" and stays as ordered after a partial OR30;
    a cancellation carries its units in `quantity` ("The quantity of goods to cancel", OR30_Request), which OR11
    calls "informative only". The bridge's own cancellations of units refunded before the debit always send it
    (`tasks.acceptance.prepaid_refunds`), so those units are never shown shipped; a cancellation without a quantity
    (an amount only) removes no unit.
    """
    cancelled = sum(c.quantity or 0 for c in line.cancelations)
    return max((line.quantity or mapping.quantity) - cancelled, 0)


def plan_bc_shipments(
    order: MiraklOrder,
    bc_order_id: int,
    lines: list[OrderLineMapping],
    products: list[OrderProduct],
    table: CarrierTable,
) -> list[BcShipmentPlan]:
    """The BigCommerce shipments a shipped logistic order needs; empty when BigCommerce already shipped it all."""
    by_mirakl_line = {line.mirakl_order_line_id: line for line in lines if line.mirakl_order_line_id}
    by_product = {product.id: product for product in products}
    by_address: dict[int, list[ShipmentItem | None]] = {}
    shipped: dict[int, set[int]] = {}
    for mirakl_line in order.order_lines:
        if mirakl_line.order_line_state in _CLOSED_LINE_STATES:
            continue
        mapping = by_mirakl_line.get(mirakl_line.order_line_id)
        product = by_product.get(mapping.bc_order_product_id) if mapping else None
        if mapping is None or product is None or product.order_address_id is None:
            continue
        quantity = min(_units_left(mirakl_line, mapping), product.quantity - product.quantity_shipped)
        shipped.setdefault(product.order_address_id, set()).add(product.id)
        items = by_address.setdefault(product.order_address_id, [])
        items.append(ShipmentItem(order_product_id=product.id, quantity=quantity) if quantity > 0 else None)
    tracking = order.shipping_tracking or ""
    entry = table.bigcommerce_for(order.shipping_carrier_code)
    native = entry is not None and bool(entry.shipping_provider or entry.tracking_carrier)
    plans = []
    for address_id, slots in sorted(by_address.items()):
        suffix = f":{address_id}" if len(by_address) > 1 else ""
        items = [item for item in slots if item is not None]
        key = f"bc-shipment:{order.order_id}:{tracking or 'untracked'}{suffix}"
        if not items:
            plans.append(
                BcShipmentPlan(key, bc_order_id, order.order_id, tracking, frozenset(shipped[address_id]), None)
            )
            continue
        shipment = ShipmentCreate(
            order_address_id=address_id,
            items=items,
            tracking_number=tracking or None,
            shipping_provider=entry.shipping_provider if native and entry else "",
            tracking_carrier=entry.tracking_carrier if native and entry else "",
            tracking_link=None if native else (order.shipping_tracking_url or None),
            shipping_method=order.shipping_company or order.shipping_carrier_code or None,
            comments=f"Shipped by marketplace seller {order.shop_id} (Mirakl order {order.order_id})",
        )
        plans.append(
            BcShipmentPlan(key, bc_order_id, order.order_id, tracking, frozenset(shipped[address_id]), shipment)
        )
    return plans


def _same_shipment(found: Shipment, plan: BcShipmentPlan) -> bool:
    found_products = {item.order_product_id for item in found.items}
    return (found.tracking_number or "") == plan.tracking_number and bool(plan.product_ids & found_products)


async def _create(rt: Runtime, plan: BcShipmentPlan, tally: Tally) -> None:
    async def send() -> Shipment:
        assert plan.shipment is not None, "a plan without shipment is only ever recovered"
        return await rt.bigcommerce.create_shipment(plan.bc_order_id, plan.shipment)

    async def recover() -> str | None:
        found = [s for s in await rt.bigcommerce.list_shipments(plan.bc_order_id) if _same_shipment(s, plan)]
        return str(found[0].id) if found else None

    recovered_here = False
    if plan.shipment is None:
        # Nothing left to ship: only an attempt interrupted after BigCommerce created the shipment is closed here.
        with rt.sessions() as session:
            entry = ledger_get(session, "bigcommerce", "create_shipment", plan.key)
        found = await recover() if entry is not None and entry.outcome == "started" else None
        if found is None:
            tally.add("mirakl_shipped_already_in_bigcommerce")
            return
        mark_done_elsewhere(rt.sessions, "bigcommerce", "create_shipment", plan.key, found, "recovered")
        recovered_here = True
    outcome = await write_once(
        rt.sessions,
        system="bigcommerce",
        operation="create_shipment",
        key=plan.key,
        send=send,
        external_id=lambda shipment: str(shipment.id),
        recover=recover,
        detail={"bc_order_id": plan.bc_order_id, "mirakl_order_id": plan.mirakl_order_id},
    )
    if outcome.done:
        # The shipment came from Mirakl: its BigCommerce echo must not go back as OR23/OR24.
        for operation in ("OR23", "OR24"):
            key = f"{operation.lower()}:{plan.mirakl_order_id}"
            mark_done_elsewhere(rt.sessions, "mirakl", operation, key, outcome.external_id, plan.key)
    status = "recovered" if recovered_here else outcome.status
    if status in ("sent", "recovered"):
        tally.add("shipments_to_bigcommerce")
        tally.tables.setdefault("to-bigcommerce", []).append(
            {
                "mirakl_order_id": plan.mirakl_order_id,
                "bc_order_id": plan.bc_order_id,
                "bc_shipment_id": outcome.external_id,
                "tracking_number": plan.tracking_number,
                "items": sum(item.quantity for item in plan.shipment.items) if plan.shipment else None,
                "status": status,
            }
        )
    elif status == "failed":
        tally.add("shipments_to_bigcommerce_refused")
        with rt.sessions() as session:
            open_cs_case(
                session,
                Stream.SHIPMENT_SYNC,
                plan.key,
                "bigcommerce-shipment-refused",
                {"bc_order_id": plan.bc_order_id, "mirakl_order_id": plan.mirakl_order_id, "error": outcome.error},
            )
            session.commit()


async def mirakl_shipped_orders(rt: Runtime, since: datetime | None) -> AsyncIterator[list[MiraklOrder]]:
    """Pages of logistic orders shipped in Mirakl since the cursor (with overlap), or since the operator's `since`."""
    start = read_start(rt, MIRAKL_CURSOR, since)
    states = list(rt.config.shipments.mirakl_shipped_states)
    # No end bound: Mirakl dates are compared to the second, and the overlap makes a later re-read harmless.
    async for page in rt.mirakl.iter_orders(order_state_codes=states, start_update_date=start):
        yield page


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def create_bc_shipments(rt: Runtime, page: list[MiraklOrder], table: CarrierTable) -> Tally:
    """Create the BigCommerce shipments of a page of shipped logistic orders, each exactly once; returns what it did."""
    tally = Tally()
    for order in page:
        with rt.sessions() as session:
            logistic = get_logistic_order(session, order.order_id)
            lines = order_lines_for(session, mirakl_order_id=order.order_id) if logistic else []
        if logistic is None or logistic.bc_order_id is None or not lines:
            tally.add("mirakl_shipped_not_bridged")
            continue
        products = await rt.bigcommerce.list_order_products(logistic.bc_order_id)
        for plan in plan_bc_shipments(order, logistic.bc_order_id, lines, products, table):
            await _create(rt, plan, tally)
    return tally


@task(cache_policy=NO_CACHE)
def record_mirakl_sweep(rt: Runtime, until: datetime) -> None:
    """The sweep reached `until` (the run's start): the next one reads from there, less the overlap."""
    with rt.sessions() as session:
        shipment_cursor(rt, MIRAKL_CURSOR).advance(session, until)
        session.commit()
