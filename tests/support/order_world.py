"""Test helper: route a seeded BigCommerce order to Mirakl by hand, as the order stream would, without its code.

Shipment and refund tests need marketplace orders that are paid in Mirakl (SHIPPING) and present in the order
map; this builds them with the public clients and the sandbox's seller controls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from bridge.runtime import Runtime
from connectors.mirakl import (
    BillingAddress,
    DebitConfirmation,
    OrderCreate,
    OrderCustomer,
    OrderOfferCreate,
    ShippingAddress,
    TaxAmount,
)
from connectors.state import upsert_logistic_orders, upsert_order_lines, upsert_order_routes
from sandbox.app import Sandbox

# Seeded orders paid in BigCommerce whose two marketplace lines belong to sellers who accept orders.
TWO_SELLER_ORDERS = (100, 109)


@dataclass
class RoutedOrder:
    bc_order_id: int
    commercial_id: str
    logistic_order_ids: list[str]
    # Mirakl order line id -> (BigCommerce order product id, logistic order id)
    lines: dict[str, tuple[int, str]] = field(default_factory=dict)
    line_amounts: dict[str, Decimal] = field(default_factory=dict)  # Mirakl line id -> tax-included amount paid

    def line_of(self, logistic_order_id: str) -> str:
        return next(line for line, (_, order) in self.lines.items() if order == logistic_order_id)


class SandboxControl:
    """The sandbox's test-only endpoints (sellers shipping and refunding, admins changing statuses)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url=sandbox.base_url)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        response = await self.client.post(path, json=body) if body is not None else await self.client.post(path)
        response.raise_for_status()
        return response

    async def seller_ships(self, order_id: str, carrier_code: str = "UPS", tracking: str = "1ZTEST0001") -> None:
        await self.post(
            f"/mirakl/_sandbox/orders/{order_id}/ship", {"carrier_code": carrier_code, "tracking_number": tracking}
        )

    async def seller_refunds(self, order_id: str, line_id: str, amount: Decimal) -> list[str]:
        body = {"order_line_id": line_id, "amount": str(amount)}
        return (await self.post(f"/mirakl/_sandbox/orders/{order_id}/refund", body)).json()["refund_ids"]

    async def bc_status(self, bc_order_id: int, status_id: int) -> None:
        await self.post(f"/bigcommerce/_sandbox/orders/{bc_order_id}/status", {"status_id": status_id})

    async def aclose(self) -> None:
        await self.client.aclose()


def _address() -> dict[str, Any]:
    return {
        "lastname": "Buyer",
        "firstname": "Test",
        "street_1": "1 Test Street",
        "zip_code": "78701",
        "city": "Austin",
        "country": "United States",
        "country_iso_code": "USA",
    }


async def route_world_order(rt: Runtime, sandbox: Sandbox, control: SandboxControl, bc_order_id: int) -> RoutedOrder:
    """Create the Mirakl order of a seeded BigCommerce order, let sellers accept, debit it, write the order map."""
    seed = next(order for order in sandbox.world.orders if order.bc_order_id == bc_order_id)
    products = {p.sku: p for p in await rt.bigcommerce.list_order_products(bc_order_id)}
    offers, product_of_offer = [], {}
    for line in (line for line in seed.lines if line.marketplace):
        product = products[line.sku]  # its quantity, not the seed's: a test may have changed it in the store
        offer = next(
            o
            for o in sandbox.world.offers_for(line.sku)
            if o.price == line.price_ex_tax and o.active and o.quantity >= product.quantity
        )
        unit_tax = product.price_inc_tax - product.price_ex_tax
        offers.append(
            OrderOfferCreate(
                offer_id=offer.offer_id,
                quantity=product.quantity,
                offer_price=product.price_ex_tax,
                price=product.price_ex_tax * product.quantity,
                shipping_price=Decimal("0"),
                shipping_type_code="EXP",  # every seeded shop ships express in the US, not all standard
                taxes=[TaxAmount(code="TAX", amount=unit_tax * product.quantity)],
            )
        )
        product_of_offer[offer.offer_id] = product
    customer = OrderCustomer(
        customer_id=f"C{bc_order_id}",
        email="buyer@example.invalid",
        firstname="Test",
        lastname="Buyer",
        billing_address=BillingAddress(**_address()),
        shipping_address=ShippingAddress(**_address()),
    )
    order = OrderCreate(
        commercial_id=str(bc_order_id),
        customer=customer,
        offers=offers,
        shipping_zone_code="US",
        scored=True,
        order_tax_mode="TAX_EXCLUDED",
    )
    created = await rt.mirakl.create_order(order)
    await control.post("/mirakl/_sandbox/tick")
    ours = {o.order_id for o in created.orders}
    confirmations = [
        DebitConfirmation(order_id=d.order_id, customer_id=d.customer_id, payment_status="OK", amount=d.amount)
        async for page in rt.mirakl.iter_pending_debits()
        for d in page
        if d.order_id in ours
    ]
    await rt.mirakl.confirm_debits(confirmations)
    routed = RoutedOrder(bc_order_id, str(bc_order_id), sorted(ours))
    line_rows = []
    for logistic in created.orders:
        for line in logistic.order_lines:
            product = product_of_offer[line.offer_id]
            routed.lines[line.order_line_id] = (product.id, logistic.order_id)
            routed.line_amounts[line.order_line_id] = product.price_inc_tax * product.quantity
            line_rows.append(
                {
                    "bc_order_id": bc_order_id,
                    "bc_order_product_id": product.id,
                    "mirakl_order_id": logistic.order_id,
                    "mirakl_order_line_id": line.order_line_id,
                    "offer_id": line.offer_id,
                    "shop_id": logistic.shop_id,
                    "quantity": line.quantity,
                    "amount": line.price,
                }
            )
    with rt.sessions() as session:
        upsert_order_routes(
            session,
            [
                {
                    "bc_order_id": bc_order_id,
                    "commercial_id": routed.commercial_id,
                    "status": "routed",
                    "routed_at": datetime.now(UTC),
                }
            ],
        )
        upsert_logistic_orders(
            session,
            [
                {
                    "mirakl_order_id": o.order_id,
                    "commercial_id": routed.commercial_id,
                    "bc_order_id": bc_order_id,
                    "shop_id": o.shop_id,
                    "state": "SHIPPING",
                }
                for o in created.orders
            ],
        )
        upsert_order_lines(session, line_rows)
        session.commit()
    return routed
