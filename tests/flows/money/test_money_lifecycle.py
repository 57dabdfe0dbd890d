"""Issue #10's end-to-end money scenario, through the flows against the sandbox, in USD, JPY and KWD.

Order 103 of the seed is the real-store order: two marketplace lines of two discounted units each (shops 2000 and
2001), shown in a display currency that is not the one the shopper pays in. It is routed (order_routing); one
unit of the first line is refunded in BigCommerce before the customer is debited, so the acceptance guard
cancels it in Mirakl (OR30) and confirms PA01 only for what is still owed; the sellers ship (shipment_sync); one
unit of the second line is refunded in BigCommerce after the debit, by quantity, and reaches Mirakl as OR28
(refund_mirror); and the day reconciles (commission_reconciliation) with nothing unexplained and `balanced`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bridge.runtime import Runtime, use_runtime
from connectors.money import quantum
from flows.acceptance_guard import acceptance_guard
from flows.refund_mirror import refund_mirror
from flows.shipment_sync import shipment_sync
from sandbox.app import Sandbox
from tests.flows.money_world import bc_product_of, merchant_refunds, reconciled_balanced, route, sellers_accept
from tests.support.order_world import SandboxControl
from tests.support.sandbox_api import bc_refunds, bc_shipments, mirakl_debits, mirakl_orders

REAL_STORE_ORDER = 103


def _unit_gross(mirakl_line: dict[str, Any]) -> Decimal:
    """One unit of a two-unit Mirakl line as OR11 shows it, tax included (the order is TAX_EXCLUDED)."""
    return (Decimal(mirakl_line["price"]) + sum(Decimal(t["amount"]) for t in mirakl_line["taxes"])) / 2


async def _lines(sandbox: Sandbox) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """OR11: the two Mirakl orders of the real-store order and their single lines, as Mirakl shows them now."""
    first, second = await mirakl_orders(sandbox, str(REAL_STORE_ORDER))
    [line_a], [line_b] = first["order_lines"], second["order_lines"]
    return first, second, line_a, line_b


async def test_a_discounted_order_is_cancelled_in_part_before_debit_shipped_refunded_after_and_reconciled(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl, currency: str
) -> None:
    bc_order = sandbox.bigcommerce.state.store.orders[REAL_STORE_ORDER]
    assert bc_order.currency_code != bc_order.default_currency_code == currency  # display != transactional
    await route(runtime, sandbox, REAL_STORE_ORDER)
    sellers_accept(sandbox)
    first, second, line_a, line_b = await _lines(sandbox)
    price_a, price_b = Decimal(line_a["price"]), Decimal(line_b["price"])
    product_a = bc_product_of(bc_order, line_a["order_line_id"])
    product_b = bc_product_of(bc_order, line_b["order_line_id"])
    assert product_a.discount > 0 and price_a == product_a.total_ex_tax - product_a.discount  # after discount
    asked = (await mirakl_debits(sandbox))[first["order_id"]]  # PA11, before anything is cancelled

    # Before the debit: customer service refunds one of line A's two units in BigCommerce.
    await merchant_refunds(runtime, REAL_STORE_ORDER, {product_a.id: 1})
    with use_runtime(runtime):
        guard = await acceptance_guard()

    first, second, line_a, line_b = await _lines(sandbox)
    assert [(c["quantity"], Decimal(c["amount"])) for c in line_a["cancelations"]] == [(1, price_a / 2)]  # OR30
    assert (first["order_state"], second["order_state"]) == ("SHIPPING", "SHIPPING")
    debits = {row["mirakl_order_id"]: row for row in guard.tables["debits"]}
    assert debits[first["order_id"]]["amount"] == debits[first["order_id"]]["expected"]
    assert abs(debits[first["order_id"]]["amount"] - (asked - _unit_gross(line_a))) <= quantum(currency)
    assert guard.counts["or30_sent"] == 1 and guard.counts["pa01_sent"] == 2

    # The sellers ship what is left: one unit of line A, both of line B.
    await control.seller_ships(first["order_id"], "UPS", "1ZMONEY0001")
    await control.seller_ships(second["order_id"], "UPS", "1ZMONEY0002")
    with use_runtime(runtime):
        shipped = await shipment_sync()

    assert shipped.counts["shipments_to_bigcommerce"] == 2
    shipments = await bc_shipments(sandbox, REAL_STORE_ORDER)
    quantities = sorted((i["order_product_id"], i["quantity"]) for s in shipments for i in s["items"])
    assert quantities == sorted([(product_a.id, 1), (product_b.id, 2)])

    # After the debit: one of line B's units is refunded in BigCommerce, by quantity; Mirakl gets OR28, then PA02.
    await merchant_refunds(runtime, REAL_STORE_ORDER, {product_b.id: 1})
    with use_runtime(runtime):
        mirrored = await refund_mirror()

    assert mirrored.counts["refunds_to_mirakl"] == 1 and mirrored.counts["refunds_confirmed_to_mirakl"] == 1
    _, _, line_a, line_b = await _lines(sandbox)
    [refund] = line_b["refunds"]
    assert (Decimal(refund["amount"]), refund["state"]) == (price_b / 2, "REFUNDED")
    assert line_a["refunds"] == []  # the unit cancelled before the debit is never refunded again

    totals = await reconciled_balanced(runtime)
    # Only the refund after the debit is a refund on both sides; the one before it made the debit smaller.
    _before, after = await bc_refunds(sandbox, REAL_STORE_ORDER)
    assert abs(totals["refund"]["left_total"] - Decimal(after["total_amount"])) <= quantum(currency)
    assert totals["refund"]["right_total"] > 0  # Mirakl booked the refund (REFUND_ORDER_AMOUNT), not nothing
