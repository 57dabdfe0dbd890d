"""An order's lines and shipping addresses read from the consignments its list page embedded, when they are whole.

orders.v2.oas2.yml, GET /orders parameter `order_includes`: "`consignments.line_items&consignment_structure=object`
- include the response returned from the request to the `/orders/{order_id}/products` endpoint in consignments.
This will also includes the resources associated with `include=consignments`." So one order-list page can bring
what two calls per order (`/products`, `/shipping_addresses`) brought before. The embedded copy is used only when
it provably holds the whole order; anything else answers None and the caller reads the order's lines and
addresses the old way, one order at a time:

- no object structure (a store or API version that ignores the include, or answers links);
- a pickup, download or gift-certificate consignment (lines the bridge does not route from embedded form);
- a shipping consignment whose lines are links, or whose lines disagree on `order_address_id` (the spec never
  says the consignment `id` is the shipping address id, so the address id is taken from its lines);
- line quantities that do not add up to the order's `items_total` ("The total number of items in the order").
"""

from __future__ import annotations

from connectors.bigcommerce.models import Order, OrderProduct, ShippingAddress, ShippingConsignment

__all__ = ["embedded_lines_and_addresses"]

_ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "street_1",
    "street_2",
    "city",
    "zip",
    "state",
    "email",
    "phone",
    "country",
    "country_iso2",
    "shipping_method",
    "items_total",
    "items_shipped",
    "cost_ex_tax",
    "cost_inc_tax",
    "shipping_zone_id",
)


def embedded_lines_and_addresses(order: Order) -> tuple[list[OrderProduct], list[ShippingAddress]] | None:
    """The order's lines and shipping addresses from its embedded consignments, or None when they are not whole."""
    consignments = order.consignments
    if consignments is None:
        return None
    if consignments.pickups or consignments.downloads or any(consignments.email.values()):
        return None
    products: list[OrderProduct] = []
    addresses: list[ShippingAddress] = []
    for consignment in consignments.shipping:
        lines = consignment.line_items
        if lines is None:
            return None
        if not lines:
            continue
        address = _address(order.id, consignment, lines)
        if address is None:
            return None
        products.extend(lines)
        addresses.append(address)
    if order.items_total is None or sum(line.quantity for line in products) != order.items_total:
        return None
    return sorted(products, key=lambda line: line.id), addresses


def _address(order_id: int, consignment: ShippingConsignment, lines: list[OrderProduct]) -> ShippingAddress | None:
    address_ids = {line.order_address_id for line in lines}
    if len(address_ids) != 1 or None in address_ids or any(line.order_id != order_id for line in lines):
        return None
    (address_id,) = address_ids
    fields = {name: getattr(consignment, name) for name in _ADDRESS_FIELDS}
    return ShippingAddress(id=address_id, order_id=order_id, **fields)
