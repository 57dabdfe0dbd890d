"""Money on a real store, through the flows: discounts, display vs transactional currency, refunds by quantity,
and currencies without cents (JPY) or with three decimals (KWD), routed, debited, refunded and reconciled.

Order 103 of the seed is the real-store order: two marketplace lines of two discounted units each (shops 2000
and 2001), shown in a display currency that is not the one the shopper pays in. Order 106's shopper pays in a
currency that is not the store's.
"""

from __future__ import annotations

from decimal import Decimal

from bridge.runtime import Runtime, use_runtime
from connectors.money import quantum, round_money
from connectors.state import get_order_route, unresolved_cs_cases
from flows.order_routing import order_routing
from flows.refund_mirror import refund_mirror
from sandbox.app import Sandbox
from tests.flows.money_world import bc_product_of, pay_only, reconciled_balanced, route_and_debit
from tests.support.order_world import SandboxControl
from tests.support.orders import seed_offer_map
from tests.support.sandbox_api import bc_refunds, mirakl_orders

REAL_STORE_ORDER = 103
FOREIGN_PAYMENT_ORDER = 106


async def test_a_discounted_order_paid_in_the_store_currency_is_routed_debited_refunded_and_reconciled(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl, currency: str
) -> None:
    bc_order = sandbox.bigcommerce.state.store.orders[REAL_STORE_ORDER]
    assert bc_order.currency_code != bc_order.default_currency_code == currency  # display != transactional
    await route_and_debit(runtime, sandbox, REAL_STORE_ORDER)

    first, second = await mirakl_orders(sandbox, str(REAL_STORE_ORDER))
    assert (first["currency_iso_code"], first["order_state"], second["order_state"]) == (
        currency,
        "SHIPPING",
        "SHIPPING",
    )
    [line] = first["order_lines"]
    bc_line = bc_product_of(bc_order, line["order_line_id"])
    price = Decimal(line["price"])
    assert bc_line.discount > 0 and price == bc_line.total_ex_tax - bc_line.discount  # after discount

    # The seller refunds one of the two units; the bridge pays it back in BigCommerce by quantity (PRODUCT).
    [refund_id] = await control.seller_refunds(first["order_id"], line["order_line_id"], price / 2)
    with use_runtime(runtime):
        mirrored = await refund_mirror()
    assert mirrored.counts["refunds_confirmed_to_mirakl"] == 1
    [first, _] = await mirakl_orders(sandbox, str(REAL_STORE_ORDER))
    states = [r["state"] for x in first["order_lines"] for r in x["refunds"] if r["id"] == refund_id]
    assert states == ["REFUNDED"]  # PA02: the money moved
    [bc_refund] = await bc_refunds(sandbox, REAL_STORE_ORDER)
    [item] = bc_refund["items"]
    assert (item["item_type"], item["quantity"], item["requested_amount"]) == ("PRODUCT", 1, None)
    assert Decimal(bc_refund["total_amount"]) == round_money(bc_line.discounted_total_inc_tax / 2, currency)

    totals = await reconciled_balanced(runtime)
    refunded = round_money(bc_line.discounted_total_inc_tax / 2, currency)
    assert abs(totals["refund"]["left_total"] - refunded) <= quantum(currency)
    assert totals["refund"]["left_total"] > 0  # the refund by quantity is valued, not read as nothing


async def test_an_order_paid_in_another_currency_than_the_store_s_is_an_exception_and_never_an_or01(
    runtime: Runtime, sandbox: Sandbox, currency: str
) -> None:
    bc_order = sandbox.bigcommerce.state.store.orders[FOREIGN_PAYMENT_ORDER]
    assert bc_order.default_currency_code != currency
    pay_only(sandbox, FOREIGN_PAYMENT_ORDER)
    seed_offer_map(runtime, sandbox, [FOREIGN_PAYMENT_ORDER])
    with use_runtime(runtime):
        report = await order_routing()

    assert await mirakl_orders(sandbox, str(FOREIGN_PAYMENT_ORDER)) == []
    with runtime.sessions() as session:
        assert get_order_route(session, FOREIGN_PAYMENT_ORDER).status == "exception"
        cases = [c for c in unresolved_cs_cases(session) if str(FOREIGN_PAYMENT_ORDER) in str(c.key)]
    reasons = {row["reason"] for row in report.tables["exceptions"]}
    assert f"paid in {bc_order.default_currency_code}, the store and Mirakl work in {currency}" in reasons
    assert cases  # an exception case a person sees, not only a log line
