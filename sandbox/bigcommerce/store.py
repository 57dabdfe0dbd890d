"""The emulated store's state: catalog, inventory, orders, shipments, refunds, webhooks, all in memory.

Routes validate and shape; this module owns the records and the indexes that keep every request O(1) or
O(page) (benchmarks push 100k variants through it). Catalog records are kept in their v3 JSON shape with Decimal
money; orders are typed records rendered to v2 by `orders_v2`, because their totals are derived, not stored.
Tests and benchmarks reach it as `app.state.store` to plant situations and check effects.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.bigcommerce.metafields import MetafieldIndex
from sandbox.bigcommerce.settings import (
    DEFAULT_LOCATION_ID,
    OWNER_KEY,
    OWNER_NAMESPACE,
    PAYMENT_STATUS_BY_STATUS_ID,
    BigCommerceSandboxSettings,
)

__all__ = ["BigCommerceStore", "Order", "OrderLine", "ShippingAddress", "calculated_price"]

ZERO = Decimal("0")


@dataclass
class OrderLine:
    id: int
    order_id: int
    product_id: int
    variant_id: int
    sku: str
    name: str
    quantity: int
    price_ex_tax: Decimal
    price_inc_tax: Decimal
    order_address_id: int
    quantity_shipped: int = 0
    quantity_refunded: int = 0
    discount: Decimal = ZERO  # applied_discounts total: off the tax-included total, the tax stays as charged

    @property
    def price_tax(self) -> Decimal:
        return self.price_inc_tax - self.price_ex_tax

    @property
    def total_ex_tax(self) -> Decimal:
        return self.price_ex_tax * self.quantity

    @property
    def total_inc_tax(self) -> Decimal:
        return self.price_inc_tax * self.quantity

    @property
    def discounted_total_inc_tax(self) -> Decimal:
        """`orders.v2.oas2.yml`: "the correct total amount of the line item after deducting all the discounts and
        including the tax"; in the spec's order-products example 65.23 - 1.59 discount = 63.64, tax unchanged."""
        return self.total_inc_tax - self.discount


@dataclass
class ShippingAddress:
    id: int
    order_id: int
    first_name: str
    last_name: str
    street_1: str
    city: str
    state: str
    zip: str
    country_iso2: str
    email: str
    cost_ex_tax: Decimal
    cost_inc_tax: Decimal
    refunded_amount: Decimal = ZERO


@dataclass
class Order:
    id: int
    customer_id: int
    status_id: int
    date_created: datetime
    date_modified: datetime
    billing_address: dict[str, Any]
    lines: list[OrderLine] = field(default_factory=list)
    addresses: list[ShippingAddress] = field(default_factory=list)
    date_shipped: datetime | None = None
    external_order_id: str | None = None
    staff_notes: str = ""
    customer_message: str = ""
    refunded_total: Decimal = ZERO
    payment_method: str = "Credit Card"
    payment_provider_id: str = "braintree"
    # "the gateway must support refunds" (bigcommerce.md §5.2): when it does not, quotes offer no refund to it.
    gateway_refunds: bool = True
    # `orders.v2.oas2.yml` Currency Fields: `default_currency_code` is "the transactional currency the shopper
    # pays in"; `currency_code` is "the display currency used to present prices to the shopper on the storefront".
    default_currency_code: str = "USD"
    currency_code: str = "USD"
    store_default_currency_code: str = "USD"

    @property
    def subtotal_ex_tax(self) -> Decimal:
        return sum((line.total_ex_tax for line in self.lines), ZERO)

    @property
    def subtotal_inc_tax(self) -> Decimal:
        return sum((line.total_inc_tax for line in self.lines), ZERO)

    @property
    def shipping_cost_ex_tax(self) -> Decimal:
        return sum((a.cost_ex_tax for a in self.addresses), ZERO)

    @property
    def shipping_cost_inc_tax(self) -> Decimal:
        return sum((a.cost_inc_tax for a in self.addresses), ZERO)

    @property
    def total_ex_tax(self) -> Decimal:
        return self.subtotal_ex_tax - self.discount_amount + self.shipping_cost_ex_tax

    @property
    def discount_amount(self) -> Decimal:
        return sum((line.discount for line in self.lines), ZERO)

    @property
    def total_inc_tax(self) -> Decimal:
        """What the shopper paid: the lines after their discounts, plus shipping."""
        return self.subtotal_inc_tax - self.discount_amount + self.shipping_cost_inc_tax

    @property
    def items_total(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def items_shipped(self) -> int:
        return sum(line.quantity_shipped for line in self.lines)

    @property
    def payment_status(self) -> str:
        if self.refunded_total > 0:
            return "refunded" if self.refunded_total >= self.total_inc_tax else "partially refunded"
        return PAYMENT_STATUS_BY_STATUS_ID[self.status_id]

    def line(self, order_product_id: int) -> OrderLine | None:
        return next((line for line in self.lines if line.id == order_product_id), None)

    def address(self, order_address_id: int) -> ShippingAddress | None:
        return next((a for a in self.addresses if a.id == order_address_id), None)


class BigCommerceStore:
    """One store's records plus the indexes the routes look things up by."""

    def __init__(self, settings: BigCommerceSandboxSettings) -> None:
        self.settings = settings
        self.products: dict[int, dict[str, Any]] = {}
        self.variants: dict[int, dict[str, Any]] = {}
        self.product_ids: list[int] = []
        self.variant_ids: list[int] = []
        self.variant_ids_by_product: dict[int, list[int]] = {}
        self.variant_id_by_sku: dict[str, int] = {}
        self.product_id_by_sku: dict[str, int] = {}
        self.product_id_by_name: dict[str, int] = {}
        self.metafields = MetafieldIndex()
        self.locations: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, Order] = {}
        self.shipments: list[dict[str, Any]] = []
        self.refunds: list[dict[str, Any]] = []
        # Refund payment transactions by order id (orders.v3.yml `Transaction`, event "refund" or "pending").
        self.refund_transactions: dict[int, list[dict[str, Any]]] = {}
        # How the provider answers the next refund payments: "settled", "pending" (the asynchronous payment
        # request has not run yet) or "declined" (`is_declined`); a test switch, as a gateway outage would be.
        self.refund_payment_outcome = "settled"
        self.hooks: list[dict[str, Any]] = []
        self.inventory_transactions: list[dict[str, Any]] = []
        self.request_count = 0
        self.variant_writes: Counter[int] = Counter()  # variant id -> accepted batch updates, for exactly-once tests
        self._next_ids: dict[str, int] = {
            "product": 1,
            "variant": 1,
            "order": 1,
            "order_product": 200_001,
            "order_address": 900_001,
            "shipment": 1,
            "refund": 1,
            "refund_payment": 1,
            "transaction": 70_001,
            "hook": 1001,
        }
        self._latest_order_change = datetime.min.replace(tzinfo=UTC)

    # -- ids and clocks ---------------------------------------------------------------------------------------

    def next_id(self, kind: str) -> int:
        value = self._next_ids[kind]
        self._next_ids[kind] = value + 1
        return value

    def reserve_ids(self, kind: str, above: int) -> None:
        """Seeded records bring their own ids; later ones must not collide with them."""
        self._next_ids[kind] = max(self._next_ids[kind], above + 1)

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    def touch_order(self, order: Order) -> None:
        """Bump `date_modified` strictly forward, so a `min_date_modified` sweep always sees the change."""
        stamp = max(self.now(), self._latest_order_change + timedelta(seconds=1))
        order.date_modified = stamp
        self._latest_order_change = stamp

    def add_order(self, order: Order) -> None:
        self.orders[order.id] = order
        self.reserve_ids("order", order.id)
        self._latest_order_change = max(self._latest_order_change, order.date_modified)

    # -- catalog ----------------------------------------------------------------------------------------------

    def add_product(self, product: dict[str, Any], variants: list[dict[str, Any]]) -> dict[str, Any]:
        """Index a product and its variants (both already in their v3 shape with ids)."""
        product_id = product["id"]
        self.products[product_id] = product
        self.product_ids.append(product_id)
        self.reserve_ids("product", product_id)
        if product.get("sku"):
            self.product_id_by_sku[product["sku"]] = product_id
        self.product_id_by_name[product["name"]] = product_id
        self.variant_ids_by_product[product_id] = []
        for variant in variants:
            self.variants[variant["id"]] = variant
            self.variant_ids.append(variant["id"])
            self.variant_ids_by_product[product_id].append(variant["id"])
            if variant["sku"]:
                self.variant_id_by_sku[variant["sku"]] = variant["id"]
            self.reserve_ids("variant", variant["id"])
        product["base_variant_id"] = variants[0]["id"] if variants else None
        product["inventory_level"] = sum(v["inventory_level"] for v in variants)
        return product

    def variant(self, variant_id: int) -> dict[str, Any] | None:
        return self.variants.get(variant_id)

    def variant_by_sku(self, sku: str) -> dict[str, Any] | None:
        variant_id = self.variant_id_by_sku.get(sku)
        return None if variant_id is None else self.variants[variant_id]

    def set_variant_fields(self, variant: dict[str, Any], changes: dict[str, Any]) -> None:
        """Apply validated changes; stock goes through `set_inventory_level` so the product total follows."""
        for name, value in changes.items():
            if name == "inventory_level":
                self.set_inventory_level(variant["id"], value)
            elif name == "sku" and value != variant["sku"]:
                self.variant_id_by_sku.pop(variant["sku"], None)
                self.variant_id_by_sku[value] = variant["id"]
                variant["sku"] = value
            else:
                variant[name] = value
        variant["calculated_price"] = calculated_price(variant, self.products[variant["product_id"]])
        self.products[variant["product_id"]]["date_modified"] = self.now()

    def set_inventory_level(self, variant_id: int, level: int) -> None:
        variant = self.variants[variant_id]
        product = self.products[variant["product_id"]]
        product["inventory_level"] += level - variant["inventory_level"]
        variant["inventory_level"] = level

    def offer_owner(self, variant_id: int) -> str | None:
        record = self.metafields.find("variant", variant_id, OWNER_NAMESPACE, OWNER_KEY)
        return None if record is None else record["value"]

    def set_offer_owner(self, variant_id: int, owner: str | None) -> None:
        """Mark (or, with None, unmark) a variant as owned by `owner`, as the seeding does for Mirakl offers."""
        record = self.metafields.find("variant", variant_id, OWNER_NAMESPACE, OWNER_KEY)
        if owner is None:
            if record is not None:
                self.metafields.delete(record["id"])
            return
        if record is not None:
            self.metafields.update(record["id"], {"value": owner}, self.now())
            return
        body = {"namespace": OWNER_NAMESPACE, "key": OWNER_KEY, "value": owner, "permission_set": "app_only"}
        self.metafields.create("variant", variant_id, body, self.now())

    @property
    def default_location_id(self) -> int:
        return DEFAULT_LOCATION_ID

    # -- orders -----------------------------------------------------------------------------------------------

    def order(self, order_id: int) -> Order | None:
        return self.orders.get(order_id)

    def set_order_status(self, order: Order, status_id: int) -> None:
        order.status_id = status_id
        self.touch_order(order)


def calculated_price(variant: dict[str, Any], product: dict[str, Any]) -> Decimal:
    """Storefront price: a positive sale price wins, then the variant price, then the product's."""
    sale = variant.get("sale_price")
    if sale is not None and sale > 0:
        return Decimal(sale)
    price = variant.get("price")
    return Decimal(price if price is not None else product["price"])
