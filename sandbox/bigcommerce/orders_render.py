"""The v2 JSON of orders, order lines and addresses, built from the typed records on every read.

v2 money is a 4-decimal string and dates are RFC-2822 (bigcommerce.md §3.3-3.5); totals are derived from the
lines so a shipment or refund can never leave an order's figures inconsistent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.bigcommerce.settings import ORDER_STATUSES
from sandbox.bigcommerce.store import Order, OrderLine, ShippingAddress
from sandbox.bigcommerce.wire import money_v2, rfc2822

__all__ = [
    "billing_address",
    "country_name",
    "render_address",
    "render_consignments",
    "render_line",
    "render_order",
    "render_status",
]

_COUNTRIES = {"US": "United States", "FR": "France", "DE": "Germany", "GB": "United Kingdom"}
_ZERO = money_v2(Decimal("0"))


def render_status(status_id: int) -> dict[str, Any]:
    name, description, order = ORDER_STATUSES[status_id]
    return {
        "id": status_id,
        "name": name,
        "system_label": name,
        "custom_label": name,
        "system_description": description,
        "order": order,
    }


def country_name(iso2: str) -> str:
    return _COUNTRIES.get(iso2, iso2)


def render_line(line: OrderLine) -> dict[str, Any]:
    total_inc = money_v2(line.total_inc_tax)
    return {
        "id": line.id,
        "order_id": line.order_id,
        "product_id": line.product_id,
        "variant_id": line.variant_id,
        "order_address_id": line.order_address_id,
        "order_pickup_method_id": 0,
        "name": line.name,
        "name_customer": line.name,
        "name_merchant": line.name,
        "sku": line.sku,
        "upc": "",
        "type": "physical",
        "base_price": money_v2(line.price_ex_tax),
        "price_ex_tax": money_v2(line.price_ex_tax),
        "price_inc_tax": money_v2(line.price_inc_tax),
        "price_tax": money_v2(line.price_tax),
        "base_total": money_v2(line.total_ex_tax),
        "total_ex_tax": money_v2(line.total_ex_tax),
        "total_inc_tax": total_inc,
        "total_tax": money_v2(line.price_tax * line.quantity),
        "discounted_total_inc_tax": money_v2(line.discounted_total_inc_tax),
        "weight": "1.0000",
        "quantity": line.quantity,
        "base_cost_price": _ZERO,
        "cost_price_inc_tax": _ZERO,
        "cost_price_ex_tax": _ZERO,
        "cost_price_tax": _ZERO,
        "is_refunded": line.quantity_refunded >= line.quantity,
        "quantity_refunded": line.quantity_refunded,
        "refund_amount": _ZERO,
        "return_id": 0,
        "quantity_shipped": line.quantity_shipped,
        "fixed_shipping_cost": _ZERO,
        "is_bundled_product": False,
        "parent_order_product_id": None,
        # The spec's order-products example: {id: manual-discount, amount: '1.5900', name, code: null, target}.
        "applied_discounts": (
            [
                {
                    "id": "manual-discount",
                    "amount": money_v2(line.discount),
                    "name": "Manual Discount",
                    "code": None,
                    "target": "order",
                }
            ]
            if line.discount
            else []
        ),
        "product_options": [],
        "external_id": None,
    }


def _address_fields(
    first_name: str, last_name: str, street: str, city: str, state: str, zip_code: str, iso2: str
) -> dict[str, Any]:
    return {
        "first_name": first_name,
        "last_name": last_name,
        "company": "",
        "street_1": street,
        "street_2": "",
        "city": city,
        "state": state,
        "zip": zip_code,
        "country": country_name(iso2),
        "country_iso2": iso2,
    }


def _shipping_contact(address: ShippingAddress) -> dict[str, Any]:
    """The address and contact fields a shipping address and its consignment share (orders.v2.oas2.yml,
    shippingAddress_Base and shippingConsignment_Get)."""
    fields = _address_fields(
        address.first_name,
        address.last_name,
        address.street_1,
        address.city,
        address.state,
        address.zip,
        address.country_iso2,
    )
    return {**fields, "email": address.email, "phone": ""}


def render_address(address: ShippingAddress, order: Order) -> dict[str, Any]:
    shipped = sum(line.quantity_shipped for line in order.lines if line.order_address_id == address.id)
    total = sum(line.quantity for line in order.lines if line.order_address_id == address.id)
    return {
        "id": address.id,
        "order_id": address.order_id,
        **_shipping_contact(address),
        "items_total": total,
        "items_shipped": shipped,
        "shipping_method": "Flat Rate",
        "base_cost": money_v2(address.cost_ex_tax),
        "cost_ex_tax": money_v2(address.cost_ex_tax),
        "cost_inc_tax": money_v2(address.cost_inc_tax),
        "cost_tax": money_v2(address.cost_inc_tax - address.cost_ex_tax),
        "cost_tax_class_id": 0,
        "base_handling_cost": _ZERO,
        "handling_cost_ex_tax": _ZERO,
        "handling_cost_inc_tax": _ZERO,
        "handling_cost_tax": _ZERO,
        "handling_cost_tax_class_id": 0,
        "shipping_zone_id": 1,
        "shipping_zone_name": "Default",
        "shipping_quotes": {
            "url": "",
            "resource": f"/orders/{address.order_id}/shipping_addresses/{address.id}/quotes",
        },
        "form_fields": [],
    }


def _number(value: Decimal) -> float:
    """Consignment money is `type: number` in orders.v2.oas2.yml (shippingConsignment_Get), not a v2 string."""
    return float(value)


def _shipping_consignment(address: ShippingAddress, order: Order, base: str, with_lines: bool) -> dict[str, Any]:
    """orders.v2.oas2.yml, shippingConsignment_Get: the address fields, `line_items` and the shipping costs.

    The spec gives the consignment its own `id` ("ID of the shipping consignment") and says nothing of how it
    relates to the shipping address id; the sandbox numbers them alike, and the lines carry `order_address_id`.
    """
    lines = [line for line in order.lines if line.order_address_id == address.id]
    cost_tax = address.cost_inc_tax - address.cost_ex_tax
    return {
        "id": address.id,
        **_shipping_contact(address),
        "form_fields": [],
        # `line_items`: oneOf products_Resource[] (include=consignments) or orderProducts[]
        # (include=consignments.line_items: "include the response returned from the request to the
        # `/orders/{order_id}/products` endpoint in consignments").
        "line_items": [render_line(line) for line in lines]
        if with_lines
        else [
            {"url": f"{base}/products/{line.id}", "resource": f"/orders/{order.id}/products/{line.id}"}
            for line in lines
        ],
        "items_total": sum(line.quantity for line in lines),
        "items_shipped": sum(line.quantity_shipped for line in lines),
        "shipping_method": "Flat Rate",
        "base_cost": _number(address.cost_ex_tax),
        "cost_ex_tax": _number(address.cost_ex_tax),
        "cost_inc_tax": _number(address.cost_inc_tax),
        "cost_tax": _number(cost_tax),
        "cost_tax_class_id": 0,
        "base_handling_cost": 0.0,
        "handling_cost_ex_tax": 0.0,
        "handling_cost_inc_tax": 0.0,
        "handling_cost_tax": 0.0,
        "handling_cost_tax_class_id": 0,
        "shipping_zone_id": 1,
        "shipping_zone_name": "Default",
        "shipping_quotes": {
            "url": f"{base}/consignments/shipping/{address.id}/shipping_quotes",
            "resource": f"/orders/{order.id}/consignments/shipping/{address.id}/shipping_quotes",
        },
    }


def render_consignments(order: Order, store_hash: str, *, with_lines: bool) -> dict[str, Any]:
    """orders.v2.oas2.yml, orderConsignment_Get (`consignment_structure=object`): pickups, shipping, downloads,
    email gift certificates. Every sandbox line ships to an address, so only `shipping` is ever filled."""
    base = f"https://api.bigcommerce.com/stores/{store_hash}/v2/orders/{order.id}"
    return {
        "pickups": [],
        "shipping": [_shipping_consignment(a, order, base, with_lines) for a in order.addresses],
        "downloads": [],
        "email": {"gift_certificates": []},
    }


def render_order(order: Order, store_hash: str, include: frozenset[str] = frozenset()) -> dict[str, Any]:
    base = f"https://api.bigcommerce.com/stores/{store_hash}/v2/orders/{order.id}"
    subtotal_tax = order.subtotal_inc_tax - order.subtotal_ex_tax
    shipping_tax = order.shipping_cost_inc_tax - order.shipping_cost_ex_tax
    name = ORDER_STATUSES[order.status_id][0]
    rendered = {
        "id": order.id,
        "customer_id": order.customer_id,
        "date_created": rfc2822(order.date_created),
        "date_modified": rfc2822(order.date_modified),
        "date_shipped": rfc2822(order.date_shipped) if order.date_shipped else "",
        "status_id": order.status_id,
        "status": name,
        "custom_status": name,
        "subtotal_ex_tax": money_v2(order.subtotal_ex_tax),
        "subtotal_inc_tax": money_v2(order.subtotal_inc_tax),
        "subtotal_tax": money_v2(subtotal_tax),
        "base_shipping_cost": money_v2(order.shipping_cost_ex_tax),
        "shipping_cost_ex_tax": money_v2(order.shipping_cost_ex_tax),
        "shipping_cost_inc_tax": money_v2(order.shipping_cost_inc_tax),
        "shipping_cost_tax": money_v2(shipping_tax),
        "shipping_cost_tax_class_id": 0,
        "base_handling_cost": _ZERO,
        "handling_cost_ex_tax": _ZERO,
        "handling_cost_inc_tax": _ZERO,
        "handling_cost_tax": _ZERO,
        "handling_cost_tax_class_id": 0,
        "base_wrapping_cost": _ZERO,
        "wrapping_cost_ex_tax": _ZERO,
        "wrapping_cost_inc_tax": _ZERO,
        "wrapping_cost_tax": _ZERO,
        "wrapping_cost_tax_class_id": 0,
        "total_ex_tax": money_v2(order.total_ex_tax),
        "total_inc_tax": money_v2(order.total_inc_tax),
        "total_tax": money_v2(subtotal_tax + shipping_tax),
        "is_tax_inclusive_pricing": False,
        "tax_provider_id": "BasicTaxProvider",
        "items_total": order.items_total,
        "items_shipped": order.items_shipped,
        "payment_method": order.payment_method,
        "payment_provider_id": order.payment_provider_id,
        "payment_status": order.payment_status,
        "refunded_amount": _ZERO,  # the spec: always 0, refunds live in v3 payment_actions
        "order_is_digital": False,
        "store_credit_amount": _ZERO,
        "gift_certificate_amount": _ZERO,
        "ip_address": "",
        "ip_address_v6": "",
        "geoip_country": "",
        "geoip_country_iso2": "",
        # Currency Fields (orders.v2.oas2.yml): display `currency_code`, transactional `default_currency_code`.
        "currency_id": 1 if order.currency_code == order.store_default_currency_code else 2,
        "currency_code": order.currency_code,
        "currency_exchange_rate": "1.0000000000",
        "default_currency_id": 1 if order.default_currency_code == order.store_default_currency_code else 2,
        "default_currency_code": order.default_currency_code,
        "store_default_currency_code": order.store_default_currency_code,
        "store_default_to_transactional_exchange_rate": "1.0000000000",
        "staff_notes": order.staff_notes,
        "customer_message": order.customer_message,
        "discount_amount": money_v2(order.discount_amount),
        "coupon_discount": _ZERO,
        "shipping_address_count": len(order.addresses),
        "is_deleted": False,
        "ebay_order_id": "0",
        "cart_id": "",
        "billing_address": order.billing_address,
        "is_email_opt_in": False,
        "credit_card_type": None,
        "order_source": "www",
        "channel_id": 1,
        "external_source": None,
        "external_id": None,
        "external_merchant_id": None,
        "external_order_id": order.external_order_id or "",
        "customer_locale": "en",
        "products": {"url": f"{base}/products", "resource": f"/orders/{order.id}/products"},
        "shipping_addresses": {
            "url": f"{base}/shipping_addresses",
            "resource": f"/orders/{order.id}/shipping_addresses",
        },
        "coupons": {"url": f"{base}/coupons", "resource": f"/orders/{order.id}/coupons"},
    }
    if include & {"consignments", "consignments.line_items"}:
        # order_Resp `consignments`: oneOf orderConsignments_Resource (a link) or orderConsignment_Get, the object
        # structure answered for `include=consignments[.line_items]&consignment_structure=object`. The link is
        # left out otherwise: neither schema requires a property, so a link would match both and break the oneOf.
        rendered["consignments"] = render_consignments(
            order, store_hash, with_lines="consignments.line_items" in include
        )
    return rendered


def billing_address(
    first_name: str, last_name: str, street: str, city: str, state: str, zip_code: str, iso2: str, email: str
) -> dict[str, Any]:
    return {
        **_address_fields(first_name, last_name, street, city, state, zip_code, iso2),
        "phone": "",
        "email": email,
        "form_fields": [],
    }
