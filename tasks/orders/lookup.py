"""What the routing reads about an order: its lines and addresses in BigCommerce, its logistic orders in Mirakl."""

from __future__ import annotations

import asyncio

from bridge.runtime import Runtime
from connectors.bigcommerce.consignments import embedded_lines_and_addresses
from connectors.bigcommerce.models import Order, OrderProduct, ShippingAddress
from connectors.mirakl.models import Order as MiraklOrder

__all__ = ["lines_and_addresses", "mirakl_orders_of"]


async def lines_and_addresses(rt: Runtime, order: Order) -> tuple[list[OrderProduct], list[ShippingAddress], bool]:
    """The order's lines and shipping addresses, and whether they cost calls of their own.

    From the consignments its list page embedded when they are whole (no call); otherwise, for a store or API
    version that did not embed them, from GET /orders/{id}/products and /shipping_addresses (two calls).
    """
    embedded = embedded_lines_and_addresses(order)
    if embedded is not None:
        return *embedded, False
    products, addresses = await asyncio.gather(
        rt.bigcommerce.list_order_products(order.id), rt.bigcommerce.list_shipping_addresses(order.id)
    )
    return products, addresses, True


async def mirakl_orders_of(rt: Runtime, commercial_id: str) -> list[MiraklOrder]:
    """Every logistic order of `commercial_id` (OR11 by `commercial_id`): the check before any re-send, `-A` first;
    empty when Mirakl never created it."""
    found: list[MiraklOrder] = []
    async for page in rt.mirakl.iter_orders(commercial_ids=[commercial_id]):
        found.extend(page)
    return sorted(found, key=lambda order: order.order_id)
