"""Creating a v2 shipment: the checks a real store makes, and the order it leaves Shipped or Partially Shipped.

Ships by order-product id and order-address id (bigcommerce.md §4.1); quantities are bounded by what is left
unshipped, and `shipping_provider` by the spec's enum or `carrier_<id>` (§4.2). Invalid bodies answer the v2
400 array. After posting, status becomes 2 when every line is fully shipped and 3 otherwise (§11 q7: the
observed behaviour, which the bridge must re-read rather than assume).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sandbox.bigcommerce.errors import ApiError
from sandbox.bigcommerce.orders_render import render_address
from sandbox.bigcommerce.settings import SHIPPING_PROVIDERS
from sandbox.bigcommerce.store import BigCommerceStore, Order
from sandbox.bigcommerce.wire import money_v2, parse_money, rfc2822

__all__ = ["create_shipment"]

_CARRIER = re.compile(r"^carrier_\w+$")
_DISPLAY_NAMES = {
    "auspost": "Australia Post",
    "canadapost": "Canada Post",
    "endicia": "Endicia",
    "usps": "USPS",
    "fedex": "FedEx",
    "ups": "UPS",
    "upsready": "UPS",
    "upsonline": "UPS",
    "shipperhq": "ShipperHQ",
    "royalmail": "Royal Mail",
}
_TEXT_LIMITS = {"tracking_number": 50, "tracking_link": 500, "comments": 65_535, "shipping_method": 250}


def _bad(message: str) -> ApiError:
    return ApiError("v2", 400, message)


def _validated_items(order: Order, body: dict[str, Any], address_id: int) -> Counter[int]:
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise _bad("The required field 'items' was not supplied.")
    wanted: Counter[int] = Counter()
    for item in items:
        if not isinstance(item, dict):
            raise _bad("The field 'items' is invalid.")
        product_id, quantity = item.get("order_product_id"), item.get("quantity")
        if not isinstance(product_id, int) or isinstance(product_id, bool) or order.line(product_id) is None:
            raise _bad(f"The order product ID '{product_id}' does not exist on order {order.id}.")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise _bad(f"The field 'quantity' for order product {product_id} must be a positive integer.")
        line = order.line(product_id)
        assert line is not None
        if line.order_address_id != address_id:
            raise _bad(f"The order product {product_id} is not shipped to order address {address_id}.")
        wanted[product_id] += quantity
    for product_id, quantity in wanted.items():
        line = order.line(product_id)
        assert line is not None
        if quantity > line.quantity - line.quantity_shipped:
            raise _bad(
                f"The quantity specified for order product {product_id} is greater than the quantity "
                f"left to ship ({line.quantity - line.quantity_shipped})."
            )
    return wanted


def _validated_text(body: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in ("tracking_number", "tracking_link", "comments", "shipping_method", "tracking_carrier"):
        value = body.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str) or len(value) > _TEXT_LIMITS.get(name, 100):
            raise _bad(f"The field '{name}' is invalid.")
        values[name] = value
    provider = body.get("shipping_provider", "")
    if not isinstance(provider, str) or not (provider in SHIPPING_PROVIDERS or _CARRIER.match(provider)):
        raise _bad(f"The field 'shipping_provider' is invalid. '{provider}' is not a supported shipping provider.")
    values["shipping_provider"] = provider
    return values


def create_shipment(store: BigCommerceStore, order: Order, body: Any) -> dict[str, Any]:
    """Validate everything first, then ship: a rejected shipment changes nothing."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.")
    address_id = body.get("order_address_id")
    address = order.address(address_id) if isinstance(address_id, int) else None
    if address is None:
        raise _bad(f"The field 'order_address_id' is invalid: no shipping address {address_id} on order {order.id}.")
    wanted = _validated_items(order, body, address.id)
    text = _validated_text(body)
    cost = parse_money(body.get("merchant_shipping_cost", 0), allow_string=True)
    if cost is None or cost < 0:
        raise _bad("The field 'merchant_shipping_cost' is invalid.")

    for product_id, quantity in wanted.items():
        line = order.line(product_id)
        assert line is not None
        line.quantity_shipped += quantity
    fully_shipped = all(line.quantity_shipped >= line.quantity for line in order.lines)
    store.set_order_status(order, 2 if fully_shipped else 3)
    if fully_shipped:
        order.date_shipped = order.date_modified

    provider, carrier, number = text["shipping_provider"], text["tracking_carrier"], text["tracking_number"]
    generated = ""
    if number and not text["tracking_link"] and (provider or carrier):
        generated = f"https://track.aftership.com/{carrier or provider}/{number}"
    shipping_address = render_address(address, order)
    products = {line.id: line.product_id for line in order.lines}
    shipment = {
        "id": store.next_id("shipment"),
        "order_id": order.id,
        "customer_id": order.customer_id,
        "order_address_id": address.id,
        "date_created": rfc2822(store.now()),
        "tracking_number": number,
        "merchant_shipping_cost": money_v2(cost),
        "shipping_method": text["shipping_method"],
        "comments": text["comments"],
        "shipping_provider": provider,
        "tracking_carrier": carrier,
        "tracking_link": text["tracking_link"],
        "generated_tracking_link": generated,
        "shipping_provider_display_name": _DISPLAY_NAMES.get(provider, ""),
        "billing_address": {k: v for k, v in order.billing_address.items() if k != "form_fields"},
        "shipping_address": {k: shipping_address[k] for k in order.billing_address if k in shipping_address},
        "items": [
            {"order_product_id": pid, "product_id": products[pid], "quantity": qty} for pid, qty in wanted.items()
        ],
    }
    store.shipments.append(shipment)
    return shipment
