"""Contract tests: every client operation against the in-process BigCommerce sandbox, through its URL prefix.

The sandbox is written from BigCommerce's specs without importing the bridge, so these tests catch a wrong
assumption on either side (paths, paging, envelopes, error bodies, money and date formats).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

sandbox_bigcommerce = pytest.importorskip(
    "sandbox.bigcommerce", reason="sandbox.bigcommerce (the BigCommerce emulator) is not importable yet"
)
sandbox_seed = pytest.importorskip("sandbox.seed", reason="sandbox.seed is not importable yet")
sandbox_faults = pytest.importorskip("sandbox.faults", reason="sandbox.faults is not importable yet")

from fastapi import FastAPI  # noqa: E402

from connectors.bigcommerce import (  # noqa: E402
    BigCommerceClient,
    InventoryAdjustment,
    MetafieldCreate,
    MetafieldUpdate,
    ProductCreate,
    RefundItem,
    RefundItemAdjustment,
    RefundPaymentRequest,
    ShipmentCreate,
    ShipmentItem,
    VariantUpdate,
)
from connectors.http import NotFoundError, PermanentApiError  # noqa: E402

PAID_ORDER = 100  # seeded: Awaiting Fulfillment, captured, one shipping address


class Store:
    """The sandbox app (to steer faults and read state) and a client wired to it in-process."""

    def __init__(self) -> None:
        self.app = sandbox_bigcommerce.create_bigcommerce_app(sandbox_seed.build_world(), None)
        outer = FastAPI()
        outer.mount("/bigcommerce", self.app)
        self.waits: list[float] = []
        self.client = BigCommerceClient.create(
            "http://sandbox.test/bigcommerce",
            "sandbox",
            "sandbox-token",
            transport=httpx.ASGITransport(app=outer),
            sleep=self._sleep,
            rand=lambda: 0.0,
        )

    async def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    emulated = Store()
    async with emulated.client:
        yield emulated


async def _all(pages):
    return [record async for page in pages for record in page]


async def test_wrong_token_is_an_auth_error_from_the_sandbox():
    outer = FastAPI()
    outer.mount("/bigcommerce", sandbox_bigcommerce.create_bigcommerce_app(sandbox_seed.build_world(), None))
    client = BigCommerceClient.create(
        "http://sandbox.test/bigcommerce", "sandbox", "wrong", transport=httpx.ASGITransport(app=outer)
    )
    async with client:
        with pytest.raises(PermanentApiError) as caught:
            await client.list_order_statuses()

    assert caught.value.status == 401


async def test_products_and_variants_page_through_the_whole_catalog(store):
    products = await _all(store.client.iter_products(limit=7))
    variants = await _all(store.client.iter_variants(limit=20))
    one = await _all(store.client.iter_products(**{"sku:in": [products[3].sku]}))

    assert len({p.id for p in products}) == len(products) > 7
    assert {v.product_id for v in variants} == {p.id for p in products}
    assert [p.id for p in one] == [products[3].id]
    assert store.client.transport.calls["iter_variants"] == -(-len(variants) // 20)


async def test_create_product_makes_a_hidden_unbuyable_draft(store):
    created = await store.client.create_product(ProductCreate(name="Unmapped Mirakl product", sku="MK-UNMAPPED-1"))
    variants = await _all(store.client.iter_variants(**{"product_id:in": [created.id]}))

    assert (created.is_visible, created.availability, created.inventory_tracking) == (False, "disabled", "variant")
    assert [v.sku for v in variants] == ["MK-UNMAPPED-1"]


async def test_update_variants_applies_good_items_and_reports_the_bad_one(store):
    first, second, third = (await anext(aiter(store.client.iter_variants(limit=3))))[:3]
    items = [
        VariantUpdate(id=first.id, price=Decimal("19.99"), purchasing_disabled=True),
        VariantUpdate(id=second.id, price=Decimal("-1")),
        VariantUpdate(id=third.id, inventory_level=0),
    ]

    result = await store.client.update_variants(items)
    reread = {v.id: v for v in await _all(store.client.iter_variants(**{"product_id:in": [first.product_id]}))}

    assert sorted(v.id for v in result.updated) == sorted([first.id, third.id])
    assert list(result.rejected) == [second.id]
    assert "price" in result.rejected[second.id]
    assert (reread[first.id].price, reread[first.id].purchasing_disabled) == (Decimal("19.99"), True)
    assert store.client.transport.calls["update_variants"] == 2


async def test_variant_metafields_create_update_and_list_by_cursor(store):
    variant_ids = [v.id for v in (await anext(aiter(store.client.iter_variants(limit=2))))]
    items = [
        MetafieldCreate(namespace="contract", key="offer_id", value=f"OF-{i}", permission_set="read", resource_id=i)
        for i in variant_ids
    ]
    created = await store.client.create_variant_metafields(items)
    duplicate = await store.client.create_variant_metafields(items[:1])
    updated = await store.client.update_variant_metafields(
        [MetafieldUpdate(id=created.saved[0].id, value="OF-changed")]
    )
    listed = await _all(store.client.iter_variant_metafields(namespace="contract", limit=1))

    assert [m.resource_id for m in created.saved] == variant_ids and created.rejected == []
    assert duplicate.saved == [] and [item.resource_id for item, _ in duplicate.rejected] == variant_ids[:1]
    assert [m.value for m in updated.saved] == ["OF-changed"]
    assert sorted(m.value for m in listed) == sorted(["OF-changed", f"OF-{variant_ids[1]}"])
    assert store.client.transport.calls["iter_variant_metafields"] >= 2


async def test_inventory_absolute_adjustment_and_items_by_sku(store):
    target = (await anext(aiter(store.client.iter_variants(limit=1))))[0]
    location = await store.client.default_location_id()

    transaction = await store.client.adjust_inventory_absolute(
        [InventoryAdjustment(location_id=location, variant_id=target.id, quantity=42)], "contract test"
    )
    items = await _all(store.client.iter_inventory_items(**{"sku:in": [target.sku]}))

    assert transaction
    assert [i.identity.variant_id for i in items] == [target.id]
    assert items[0].locations[0].location_id == location


async def test_orders_window_lines_addresses_and_statuses(store):
    since = datetime(2026, 11, 1, tzinfo=UTC)
    pages = [page async for page in store.client.iter_orders(min_date_modified=since, limit=5)]
    orders = [o for page in pages for o in page]
    paid = await _all(store.client.iter_orders(status_id=11))
    order = await store.client.get_order(PAID_ORDER)
    lines = await store.client.list_order_products(PAID_ORDER)
    addresses = await store.client.list_shipping_addresses(PAID_ORDER)
    statuses = await store.client.list_order_statuses()

    assert [o.date_modified for o in orders] == sorted(o.date_modified for o in orders)
    assert all(len(page) == 5 for page in pages[:-1])
    assert {o.status_id for o in paid} == {11}
    assert order.total_inc_tax == sum((line.total_inc_tax for line in lines), Decimal(0)) + order.shipping_cost_inc_tax
    assert {line.order_address_id for line in lines} == {a.id for a in addresses}
    assert sorted(s.id for s in statuses) == list(range(15))
    with pytest.raises(NotFoundError):
        await store.client.get_order(999_999)


async def test_update_order_and_shipments(store):
    updated = await store.client.update_order(PAID_ORDER, external_order_id="MIRAKL-100")
    lines = await store.client.list_order_products(PAID_ORDER)
    shipment = await store.client.create_shipment(
        PAID_ORDER,
        ShipmentCreate(
            order_address_id=lines[0].order_address_id,
            items=[ShipmentItem(order_product_id=lines[0].id, quantity=lines[0].quantity)],
            tracking_number="1Z999AA10123456784",
            shipping_provider="ups",
        ),
    )
    shipments = await store.client.list_shipments(PAID_ORDER)

    assert updated.external_order_id == "MIRAKL-100"
    assert [s.id for s in shipments] == [shipment.id]
    assert shipments[0].items[0].order_product_id == lines[0].id
    assert await store.client.list_shipments(PAID_ORDER + 1) == []


async def test_order_metafield_upsert_creates_then_updates(store):
    upsert = store.client.upsert_order_metafield
    created = await upsert(PAID_ORDER, "mirakl", "commercial_id", "C-1", permission_set="read")
    same = await upsert(PAID_ORDER, "mirakl", "commercial_id", "C-1", permission_set="read")
    changed = await upsert(PAID_ORDER, "mirakl", "commercial_id", "C-2", permission_set="read")
    listed = await store.client.list_order_metafields(PAID_ORDER, namespace="mirakl")

    assert created.id == same.id == changed.id
    assert [(m.key, m.value) for m in listed] == [("commercial_id", "C-2")]
    assert store.client.transport.calls["create_order_metafield"] == 1
    assert store.client.transport.calls["update_order_metafield"] == 1


async def test_refund_quote_then_refund_then_listing(store):
    line = (await store.client.list_order_products(PAID_ORDER))[0]
    items = [RefundItem(item_type="PRODUCT", item_id=line.id, quantity=1)]

    quote = await store.client.create_refund_quote(PAID_ORDER, items)
    method = quote.refund_methods[0]
    refund = await store.client.create_refund(
        PAID_ORDER,
        items,
        [RefundPaymentRequest(provider_id=p.provider_id, amount=p.amount, offline=bool(p.offline)) for p in method],
    )
    per_order = await store.client.list_order_refunds(PAID_ORDER)
    filtered = await _all(store.client.iter_refunds(**{"order_id:in": [PAID_ORDER]}))

    assert refund.total_amount == quote.total_refund_amount
    assert [r.id for r in per_order] == [r.id for r in filtered] == [refund.id]
    assert refund.items[0].item_id == line.id


async def test_a_product_refund_with_an_adjustment_refunds_less_and_lists_the_adjustment(store):
    line = (await store.client.list_order_products(PAID_ORDER))[0]
    fee = RefundItemAdjustment(amount=Decimal("-5.00"), description="Restocking fee")
    items = [RefundItem(item_type="PRODUCT", item_id=line.id, quantity=1, adjustments=[fee])]

    quote = await store.client.create_refund_quote(PAID_ORDER, items)
    payments = [RefundPaymentRequest(provider_id=p.provider_id, amount=p.amount) for p in quote.refund_methods[0]]
    refund = await store.client.create_refund(PAID_ORDER, items, payments)
    [listed] = await store.client.list_order_refunds(PAID_ORDER)

    assert quote.total_refund_amount == refund.total_amount == line.price_inc_tax - Decimal("5.00")
    assert [(a.amount, a.description) for a in listed.items[0].adjustments] == [(Decimal("-5"), "Restocking fee")]


async def test_webhooks_create_and_list(store):
    hook = await store.client.create_webhook(
        "store/order/statusUpdated", "https://bridge.example.invalid/hooks", {"X-Bridge-Secret": "s3cret"}
    )

    assert [h.id for h in await store.client.list_webhooks()] == [hook.id]
    assert hook.is_active and hook.scope == "store/order/statusUpdated"


async def test_sandbox_429_is_waited_out_and_retried(store):
    store.app.state.faults.add_rule(sandbox_faults.FaultRule(path=r"/v2/order_statuses", burst_429=1))

    statuses = await store.client.list_order_statuses()

    assert len(statuses) == 15
    assert store.client.transport.calls["list_order_statuses"] == 2
    assert store.waits and store.waits[0] > 0
