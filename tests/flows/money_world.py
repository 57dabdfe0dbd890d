"""Money-scenario helpers shared by the order and money flow tests (issue #10): one order paid, routed and
debited through the flows, and a merchant's refund by quantity in BigCommerce."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.runtime import Runtime, use_runtime
from connectors.bigcommerce import RefundItem, RefundPaymentRequest
from flows.acceptance_guard import acceptance_guard
from flows.commission_reconciliation import commission_reconciliation
from flows.order_routing import order_routing
from sandbox.app import Sandbox
from tests.support.orders import seed_offer_map

__all__ = [
    "bc_product_of",
    "merchant_refunds",
    "pay_only",
    "reconciled_balanced",
    "route",
    "route_and_debit",
    "sellers_accept",
]


def bc_product_of(bc_order: Any, order_line_id: str) -> Any:
    """The sandbox's BigCommerce order product a Mirakl line was routed from (its id ends the Mirakl line id)."""
    return next(x for x in bc_order.lines if order_line_id.endswith(f"-{x.id}"))


def pay_only(sandbox: Sandbox, order_id: int) -> None:
    """The customer pays `order_id` (Awaiting Fulfillment); every other paid order waits, so counts are its own."""
    store = sandbox.bigcommerce.state.store
    for order in store.orders.values():
        if order.status_id == 11:
            order.status_id = 7
    store.set_order_status(store.orders[order_id], 11)


async def route(runtime: Runtime, sandbox: Sandbox, order_id: int) -> None:
    """Only `order_id` is paid, its offers are mapped as offer sync would leave them, and order routing runs."""
    pay_only(sandbox, order_id)
    seed_offer_map(runtime, sandbox, [order_id])
    with use_runtime(runtime):
        await order_routing()


def sellers_accept(sandbox: Sandbox) -> None:
    """The marketplace's clock ticks: the sellers accept, and the orders wait for the customer's debit (PA11)."""
    store = sandbox.mirakl.state.store
    store.orders.tick(store.now())


async def route_and_debit(runtime: Runtime, sandbox: Sandbox, order_id: int) -> None:
    await route(runtime, sandbox, order_id)
    sellers_accept(sandbox)
    with use_runtime(runtime):
        await acceptance_guard()


async def merchant_refunds(runtime: Runtime, bc_order_id: int, quantities: dict[int, int]) -> None:
    """A merchant refunds order products by quantity in the BigCommerce control panel, back to the card."""
    items = [RefundItem(item_type="PRODUCT", item_id=pid, quantity=qty) for pid, qty in quantities.items()]
    quote = await runtime.bigcommerce.create_refund_quote(bc_order_id, items)
    [card] = [m for m in quote.refund_methods if m[0].provider_id == "braintree"]
    payments = [RefundPaymentRequest(provider_id=o.provider_id, amount=o.amount) for o in card]
    await runtime.bigcommerce.create_refund(bc_order_id, items, payments)


async def reconciled_balanced(runtime: Runtime) -> dict[str, dict[str, Any]]:
    """Reconcile the days around today, check nothing but rounding is left unexplained, and return the totals
    table by field (`amount`, `tax`, `refund`, ...)."""
    today = datetime.now(UTC).date()
    with use_runtime(runtime):
        report = await commission_reconciliation(start=today - timedelta(days=1), end=today + timedelta(days=1))
    assert report.counts["gate"] == "passed"
    gaps = {name: count for name, count in report.counts.items() if name.startswith("class_") and count}
    assert set(gaps) <= {"class_rounding"}, report.tables["exceptions"]
    assert all(row["unexplained"] == 0 for row in report.tables["totals"]), report.tables["totals"]
    assert report.counts["balanced"] == "yes"
    return {row["field"]: row for row in report.tables["totals"]}
