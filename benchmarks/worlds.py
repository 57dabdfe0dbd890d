"""The sandboxes the benchmarks serve, built inside the sandbox's own process (see `benchmarks.process`).

Each factory takes the base URL the sandbox will be reached at plus the benchmark's size, and returns the
sandbox and a small JSON-able `info` the bridge side needs (ids of planted data). Planting happens here, before
the server starts, through the emulator's own objects: what a store's history would hold, not something the
bridge under measurement does. This module imports the sandbox only, so the sandbox process carries none of the
bridge's code.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.app import Sandbox, create_sandbox
from sandbox.bigcommerce import BigCommerceSandboxSettings
from sandbox.bigcommerce.store import Order, OrderLine, ShippingAddress
from sandbox.mirakl import MiraklSandboxSettings
from sandbox.seed import SANDBOX_EPOCH, SeedConfig

__all__ = ["OFFERS_PER_PRODUCT", "UNCONSTRAINED_QUOTA", "offer_world", "order_world"]

# The seeded world averages about 1.44 offers per product (1-3 sellers each, sampled from four).
OFFERS_PER_PRODUCT = 1.44
# A quota that never binds (a full cycle measures CPU, not pacing); the benchmark rescales it when it must bind.
UNCONSTRAINED_QUOTA = 1_000_000
CENT = Decimal("0.01")


def _mirakl() -> MiraklSandboxSettings:
    """Call budgets not enforced here: the bridge keeps them on a simulated clock in its own process, which this
    process cannot read (the sandbox's enforcement is the tests' witness, in process)."""
    return MiraklSandboxSettings(enforce_call_budgets=False)


def offer_world(
    base_url: str, offers: int, quota: int = UNCONSTRAINED_QUOTA, window_ms: int = 1000
) -> tuple[Sandbox, dict[str, Any]]:
    """About `offers` Mirakl offers over `offers / 1.44` products, no orders."""
    sandbox = create_sandbox(
        seed=SeedConfig(marketplace_products=max(1, int(offers / OFFERS_PER_PRODUCT)), orders=0),
        base_url=base_url,
        bigcommerce=BigCommerceSandboxSettings(quota=quota, window_ms=window_ms),
        mirakl=_mirakl(),
    )
    return sandbox, {"offers": len(sandbox.mirakl.state.store.catalog.offers)}  # deleted and inactive included


def order_world(base_url: str, orders: int, quota: int, window_ms: int) -> tuple[Sandbox, dict[str, Any]]:
    """The default world plus `orders` paid mixed baskets; `info["offer_rows"]` are the offer-map rows to seed."""
    sandbox = create_sandbox(
        seed=SeedConfig(orders=12),
        base_url=base_url,
        bigcommerce=BigCommerceSandboxSettings(quota=quota, window_ms=window_ms),
        mirakl=_mirakl(),
    )
    return sandbox, {"offer_rows": plant_orders(sandbox, orders)}


def plant_orders(sandbox: Sandbox, count: int) -> list[dict[str, Any]]:
    """Mixed baskets on two open sellers' offers (with ample Mirakl stock); returns the offer-map rows."""
    world = sandbox.world
    open_shops = sorted(s.shop_id for s in world.sellers if s.shop_state == "OPEN" and not s.refuses_orders)[:2]
    catalog = sandbox.mirakl.state.store.catalog
    picks = []
    for shop_id in open_shops:
        offer = next(
            o
            for o in world.offers
            if o.shop_id == shop_id
            and o.active
            and o.product_sku.startswith("MKP")
            and o.product_sku not in {p[0].product_sku for p in picks}
        )
        product = next(p for p in world.products if p.product_sku == offer.product_sku)
        catalog.offers[offer.offer_id].quantity = 10 * count + 10
        catalog.offers[offer.offer_id].active = True
        picks.append((offer, product))
    native = world.natives[1]
    store = sandbox.bigcommerce.state.store
    for i in range(count):
        order_id = 10_000 + i
        address_id = store.next_id("order_address")
        order = Order(
            id=order_id,
            customer_id=20 + i % 50,
            status_id=11,
            date_created=SANDBOX_EPOCH + timedelta(seconds=i),
            date_modified=SANDBOX_EPOCH + timedelta(seconds=i),
            billing_address=dict(store.orders[100].billing_address),
        )
        template = store.orders[100].addresses[0]
        order.addresses.append(
            ShippingAddress(
                address_id,
                order_id,
                template.first_name,
                template.last_name,
                template.street_1,
                template.city,
                template.state,
                template.zip,
                template.country_iso2,
                template.email,
                Decimal("5.00"),
                Decimal("5.40"),
            )
        )
        lines = [(native.bc_product_id, native.bc_variant_id, native.sku, native.price)]
        lines += [(p.bc_product_id, p.bc_variant_id, p.product_sku, o.price) for o, p in picks]
        for product_id, variant_id, sku, price in lines:
            order.lines.append(
                OrderLine(
                    store.next_id("order_product"),
                    order_id,
                    product_id,
                    variant_id,
                    sku,
                    sku,
                    1,
                    price,
                    (price * Decimal("1.08")).quantize(CENT, rounding=ROUND_HALF_UP),
                    address_id,
                )
            )
        store.add_order(order)
    return [
        {
            "product_sku": p.product_sku,
            "bc_product_id": p.bc_product_id,
            "bc_variant_id": p.bc_variant_id,
            "owner": "mirakl",
            "offer_id": o.offer_id,
            "shop_id": o.shop_id,
        }
        for o, p in picks
    ]
