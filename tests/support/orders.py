"""Order-flow test helpers: the offer map offer sync would have left, and the Mirakl orders a routing created.

Shared by the order routing and acceptance guard flow tests, which both start from routed seed orders.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bridge.runtime import Runtime
from connectors.state import upsert_offer_map
from sandbox.app import Sandbox

__all__ = ["clone_order", "mirakl_orders", "seed_offer_map"]


def seed_offer_map(rt: Runtime, sandbox: Sandbox, order_ids: Iterable[int]) -> None:
    """What offer sync would have written: each marketplace line's variant -> the offer the customer bought."""
    world = sandbox.world
    rows = []
    for order in (o for o in world.orders if o.bc_order_id in set(order_ids)):
        for line in (x for x in order.lines if x.marketplace):
            offer = next(o for o in world.offers_for(line.sku) if o.price == line.price_ex_tax)
            rows.append(
                {
                    "product_sku": line.sku,
                    "bc_product_id": line.bc_product_id,
                    "bc_variant_id": line.bc_variant_id,
                    "owner": "mirakl",
                    "offer_id": offer.offer_id,
                    "shop_id": offer.shop_id,
                }
            )
    with rt.sessions() as session:
        upsert_offer_map(session, rows)
        session.commit()


def mirakl_orders(sandbox: Sandbox, commercial_id: str) -> list[Any]:
    """The sandbox's own Mirakl order objects of one commercial order (the BigCommerce order id), in creation order:
    for setup, and for tests that still read them; outcomes read through OR11 with `sandbox_api.mirakl_orders`."""
    book = sandbox.mirakl.state.store.orders
    return [book.orders[i] for i in book.by_commercial.get(commercial_id, [])]


def clone_order(sandbox: Sandbox, template_id: int, count: int) -> list[int]:
    """`count` copies of a seeded order (new order, line and address ids, changed a second apart), with Mirakl stock
    for all of them; returns the new order ids."""
    store = sandbox.bigcommerce.state.store
    template = store.orders[template_id]
    first = max(store.orders) + 1
    for n in range(count):
        order_id = first + n
        address_ids = {a.id: store.next_id("order_address") for a in template.addresses}
        order = replace(
            template,
            id=order_id,
            date_modified=template.date_modified + timedelta(seconds=n + 1),
            lines=[
                replace(
                    x,
                    id=store.next_id("order_product"),
                    order_id=order_id,
                    order_address_id=address_ids[x.order_address_id],
                )
                for x in template.lines
            ],
            addresses=[replace(a, id=address_ids[a.id], order_id=order_id) for a in template.addresses],
        )
        store.add_order(order)
    for offer in sandbox.mirakl.state.store.catalog.offers.values():
        offer.quantity = max(offer.quantity, 10 * (count + 1))
    return list(range(first, first + count))
