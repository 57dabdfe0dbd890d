"""Fill a store from the shared `World`, so both emulators agree on which SKUs and orders exist.

Native products get their real price and stock and no ownership mark; listed marketplace products get one variant
with price 0 and stock 0 until the bridge pushes, marked `bcmirakl.owner = mirakl` (app_only); unlisted ones are
absent. Orders arrive in their seeded status with the side effects that status implies (shipped lines, refunds),
so the store never shows a Shipped order without shipments.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sandbox.bigcommerce.catalog_records import product_record, variant_record
from sandbox.bigcommerce.orders_render import billing_address
from sandbox.bigcommerce.refunds import create_refund, plan_refund
from sandbox.bigcommerce.settings import DEFAULT_LOCATION_ID
from sandbox.bigcommerce.shipments import create_shipment
from sandbox.bigcommerce.store import BigCommerceStore, Order, OrderLine, ShippingAddress
from sandbox.minor_units import round_to
from sandbox.seed import SANDBOX_EPOCH, SeedOrder, World

__all__ = ["seed_store"]

_SHIPPING_TAX_RATE = Decimal("0.08")
_SHIPPED_STATUSES = frozenset({2, 10})


def seed_store(store: BigCommerceStore, world: World) -> None:
    store.locations[DEFAULT_LOCATION_ID] = _default_location()
    for native in world.natives:
        _add_single_variant_product(
            store, native.bc_product_id, native.bc_variant_id, native.sku, native.name, native.price,
            native.inventory_level,
        )  # fmt: skip
    for product in world.products:
        if not product.listed or product.bc_product_id is None or product.bc_variant_id is None:
            continue
        _add_single_variant_product(
            store, product.bc_product_id, product.bc_variant_id, product.product_sku, product.title, Decimal("0"), 0
        )
        store.set_offer_owner(product.bc_variant_id, "mirakl")
    for seed in world.orders:
        _add_order(store, seed, world.config.currency)


def _default_location() -> dict[str, object]:
    return {
        "id": DEFAULT_LOCATION_ID,
        "code": "BC-LOCATION-1",
        "label": "Default location",
        "description": "The store's default location",
        "managed_by_external_source": False,
        "type_id": "PHYSICAL",
        "enabled": True,
        "operating_hours": {},
        "time_zone": "Etc/UTC",
        "address": None,
        "storefront_visibility": True,
        "special_hours": [],
        "created_at": SANDBOX_EPOCH.isoformat(),
        "updated_at": SANDBOX_EPOCH.isoformat(),
    }


def _add_single_variant_product(
    store: BigCommerceStore, product_id: int, variant_id: int, sku: str, name: str, price: Decimal, stock: int
) -> None:
    product = product_record(product_id, name=name, sku=sku, price=price, now=SANDBOX_EPOCH)
    variant = variant_record(variant_id, product_id=product_id, sku=sku, price=price, inventory_level=stock, base=True)
    store.add_product(product, [variant])


def _add_order(store: BigCommerceStore, seed: SeedOrder, store_currency: str) -> None:
    address_id = store.next_id("order_address")
    shipping_ex = seed.shipping_cost_ex_tax
    order = Order(
        id=seed.bc_order_id,
        customer_id=seed.customer_id,
        status_id=seed.status_id,
        date_created=seed.created,
        date_modified=seed.created + timedelta(minutes=10),
        billing_address=billing_address(
            seed.first_name,
            seed.last_name,
            seed.street,
            seed.city,
            seed.state,
            seed.zip,
            seed.country_iso2,
            seed.email,
        ),
        default_currency_code=seed.currency,
        currency_code=seed.display_currency,
        store_default_currency_code=store_currency,
    )
    order.addresses.append(
        ShippingAddress(
            id=address_id,
            order_id=order.id,
            first_name=seed.first_name,
            last_name=seed.last_name,
            street_1=seed.street,
            city=seed.city,
            state=seed.state,
            zip=seed.zip,
            country_iso2=seed.country_iso2,
            email=seed.email,
            cost_ex_tax=shipping_ex,
            cost_inc_tax=round_to(shipping_ex * (1 + _SHIPPING_TAX_RATE), store_currency),
        )
    )
    for line in seed.lines:
        order.lines.append(
            OrderLine(
                id=store.next_id("order_product"),
                order_id=order.id,
                product_id=line.bc_product_id,
                variant_id=line.bc_variant_id,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                price_ex_tax=line.price_ex_tax,
                price_inc_tax=round_to(line.price_ex_tax * (1 + line.tax_rate), store_currency),
                order_address_id=address_id,
                discount=line.discount,
            )
        )
    store.add_order(order)
    _replay_history(store, order, seed)


def _replay_history(store: BigCommerceStore, order: Order, seed: SeedOrder) -> None:
    """Give shipped, partially shipped and refunded orders the shipments and refunds their status implies."""
    if not order.lines:
        return
    address_id = order.addresses[0].id
    shipped = order.lines if seed.status_id in _SHIPPED_STATUSES else order.lines[:1] if seed.status_id == 3 else []
    if seed.status_id == 3 and len(order.lines) < 2:
        shipped = []  # a one-line order cannot be partially shipped line by line
    if shipped:
        body = {
            "order_address_id": address_id,
            "items": [{"order_product_id": line.id, "quantity": line.quantity} for line in shipped],
            "shipping_provider": "ups",
            "tracking_number": f"1ZSANDBOX{order.id:06d}",
        }
        create_shipment(store, order, body)
    if seed.status_id in (4, 14):
        order.status_id = 11  # refunds need a paid order; the refund then sets 4 or 14
        refunded: list[dict[str, object]] = [
            {"item_type": "PRODUCT", "item_id": line.id, "quantity": line.quantity} for line in order.lines
        ]
        if seed.status_id == 4:
            refunded.append({"item_type": "SHIPPING", "item_id": address_id, "amount": order.addresses[0].cost_inc_tax})
        else:
            refunded = refunded[:1]
        amount = plan_refund(order, {"items": refunded}).total
        create_refund(store, order, {"items": refunded, "payments": [{"provider_id": "custom", "amount": amount}]})
    order.status_id = seed.status_id
    order.date_modified = seed.created + timedelta(minutes=10)
    if order.date_shipped is not None:
        order.date_shipped = order.date_modified
