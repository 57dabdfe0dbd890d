"""Refund arithmetic between BigCommerce quantities and Mirakl line amounts, in both directions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.bigcommerce import OrderProduct
from connectors.bigcommerce import Refund as BcRefund
from connectors.mirakl import Order as MiraklOrder
from connectors.state import OrderLineMapping
from tasks.refund_amounts import bc_items_for_mirakl_refund, or28_rows, reason_code_for

D = Decimal


def product(pid: int, quantity: int, inc: str = "10.80", refunded: int = 0) -> OrderProduct:
    return OrderProduct(
        id=pid,
        order_id=7,
        quantity=quantity,
        quantity_refunded=refunded,
        order_address_id=900,
        price_ex_tax=D("10.00"),
        price_inc_tax=D(inc),
        total_ex_tax=D("10.00") * quantity,
        total_inc_tax=D(inc) * quantity,
    )


def mirakl(line: dict[str, Any], order_id: str = "7-A", tax_mode: str = "TAX_EXCLUDED") -> tuple[MiraklOrder, Any]:
    order = MiraklOrder.model_validate(
        {"order_id": order_id, "currency_iso_code": "USD", "order_tax_mode": tax_mode, "order_lines": [line]}
    )
    return order, order.order_lines[0]


def bc_refund(refund_id: int, items: list[dict[str, Any]]) -> BcRefund:
    return BcRefund.model_validate({"id": refund_id, "order_id": 7, "total_amount": 0, "items": items})


LINE = {
    "order_line_id": "7-A-1",
    "quantity": 2,
    "price": "20.00",
    "shipping_price": "4.00",
    "taxes": [{"code": "TAX", "amount": "1.60"}],
    "shipping_taxes": [{"code": "TAX", "amount": "0.40"}],
}
MAPPINGS = {
    11: OrderLineMapping(
        bc_order_id=7, bc_order_product_id=11, mirakl_order_id="7-A", mirakl_order_line_id="7-A-1", quantity=2
    )
}


def test_one_unit_of_two_refunds_half_the_line_and_its_taxes() -> None:
    refund = bc_refund(3, [{"item_type": "PRODUCT", "item_id": 11, "quantity": 1}])
    [row], skipped = or28_rows(refund, {11: product(11, 2)}, MAPPINGS, {"7-A-1": mirakl(LINE)}, "14", {})
    assert skipped == 0
    assert (row["key"], row["amount"], row["shipping_amount"], row["refund_within_paid"]) == (
        "or28:3:7-A-1",
        D("10.00"),
        D("0.00"),
        True,
    )
    assert row["taxes"] == [{"code": "TAX", "amount": D("0.80")}]


def adjusted(refund_id: int, *amounts: str) -> BcRefund:
    fees = [{"amount": amount, "description": "Restocking fee"} for amount in amounts]
    return bc_refund(refund_id, [{"item_type": "PRODUCT", "item_id": 11, "quantity": 1, "adjustments": fees}])


def test_an_adjustment_comes_off_the_unit_tax_included_so_the_seller_returns_what_the_customer_got() -> None:
    [row], _ = or28_rows(adjusted(3, "-5.00"), {11: product(11, 2)}, MAPPINGS, {"7-A-1": mirakl(LINE)}, "14", {})
    # The customer got 10.80 - 5.00 back; ex tax that is 5.37 plus 0.43 tax, at the line's 8 % rate.
    assert (row["amount"], row["taxes"]) == (D("5.37"), [{"code": "TAX", "amount": D("0.43")}])
    assert row["amount"] + row["taxes"][0]["amount"] == D("10.80") - D("5.00")
    assert (row["quantity"], row["refund_within_paid"]) == (1, True)


def test_in_a_tax_included_order_the_amount_is_the_unit_price_minus_the_adjustments() -> None:
    line = {**LINE, "price": "21.60"}  # 2 units at 10.80, of which 1.60 tax
    lines = {"7-A-1": mirakl(line, tax_mode="TAX_INCLUDED")}
    [row], _ = or28_rows(adjusted(3, "-3.00", "-2.00"), {11: product(11, 2)}, MAPPINGS, lines, "14", {})
    assert (row["amount"], row["taxes"]) == (D("10.80") - D("5.00"), [{"code": "TAX", "amount": D("0.43")}])


def test_an_item_adjusted_down_to_nothing_sends_nothing_and_never_a_negative_amount() -> None:
    lines = {"7-A-1": mirakl(LINE)}
    for fees in (("-10.80",), ("-10.00", "-5.00")):
        rows, skipped = or28_rows(adjusted(3, *fees), {11: product(11, 2)}, MAPPINGS, lines, "14", {})
        assert (rows, skipped) == ([], 0)


def test_the_paid_check_counts_the_adjusted_amount() -> None:
    # The seller already refunded 14.00 of the 20.00 line: a whole unit (10.00) no longer fits, 5.37 does.
    lines = {"7-A-1": mirakl({**LINE, "refunds": [{"id": "900", "amount": "14.00", "shipping_amount": "0"}]})}
    whole = bc_refund(3, [{"item_type": "PRODUCT", "item_id": 11, "quantity": 1}])
    [unadjusted], _ = or28_rows(whole, {11: product(11, 2)}, MAPPINGS, lines, "14", {})
    pending: dict[str, tuple[Decimal, Decimal]] = {}
    [row], _ = or28_rows(adjusted(4, "-5.00"), {11: product(11, 2)}, MAPPINGS, lines, "14", pending)
    assert (unadjusted["refund_within_paid"], row["refund_within_paid"]) == (False, True)
    assert pending == {"7-A-1": (D("0.63"), D("4.00"))}


def test_a_shipping_refund_is_spread_over_the_refunded_lines_ex_tax() -> None:
    refund = bc_refund(
        3,
        [
            {"item_type": "PRODUCT", "item_id": 11, "quantity": 1},
            {"item_type": "SHIPPING", "item_id": 900, "requested_amount": "2.20"},
        ],
    )
    [row], _ = or28_rows(refund, {11: product(11, 2)}, MAPPINGS, {"7-A-1": mirakl(LINE)}, "14", {})
    assert (row["shipping_amount"], row["shipping_taxes"]) == (D("2.00"), [{"code": "TAX", "amount": D("0.20")}])


def test_two_refunds_of_one_line_in_one_batch_are_checked_together_against_what_was_paid() -> None:
    pending: dict[str, tuple[Decimal, Decimal]] = {}
    lines = {"7-A-1": mirakl({**LINE, "refunds": [{"id": "900", "amount": "5.00", "shipping_amount": "0"}]})}
    first, second = (
        or28_rows(
            bc_refund(refund_id, [{"item_type": "PRODUCT", "item_id": 11, "quantity": 1}]),
            {11: product(11, 2)},
            MAPPINGS,
            lines,
            "14",
            pending,
        )[0]
        for refund_id in (3, 4)
    )
    assert [first[0]["refund_within_paid"], second[0]["refund_within_paid"]] == [True, False]  # 5 + 10 + 10 > 20
    assert pending == {"7-A-1": (D("5.00"), D("4.00"))}


def test_decided_rows_are_left_out_and_interrupted_ones_skip_the_paid_check() -> None:
    lines = {"7-A-1": mirakl({**LINE, "refunds": [{"id": "900", "amount": "20.00", "shipping_amount": "0"}]})}
    refund = bc_refund(3, [{"item_type": "PRODUCT", "item_id": 11, "quantity": 2}])
    done, _ = or28_rows(refund, {11: product(11, 2)}, MAPPINGS, lines, "14", {}, lambda _: "succeeded")
    [resumed], _ = or28_rows(refund, {11: product(11, 2)}, MAPPINGS, lines, "14", {}, lambda _: "started")
    assert done == [] and resumed["refund_within_paid"] is True


def test_lines_refused_in_mirakl_are_skipped() -> None:
    refund = bc_refund(3, [{"item_type": "PRODUCT", "item_id": 11, "quantity": 1}])
    rows, skipped = or28_rows(
        refund, {11: product(11, 2)}, MAPPINGS, {"7-A-1": mirakl({**LINE, "order_line_state": "REFUSED"})}, "14", {}
    )
    assert (rows, skipped) == ([], 1)


def test_reason_codes_come_from_the_mapping_then_the_default_and_must_exist_in_re01() -> None:
    mapping = {"Damaged": "11", "Lost": "99"}
    assert reason_code_for("damaged ", mapping, "14", {"11", "14"}) == "11"
    assert reason_code_for("Changed mind", mapping, "14", {"11", "14"}) == "14"
    assert reason_code_for("Lost", mapping, None, {"11", "14"}) is None


def test_a_mirakl_refund_of_whole_units_is_paid_as_products_and_shipping() -> None:
    order, line = mirakl(
        {
            **LINE,
            "refunds": [
                {
                    "id": "901",
                    "amount": "10.00",
                    "shipping_amount": "2.00",
                    "taxes": [{"code": "TAX", "amount": "0.80"}],
                    "shipping_taxes": [{"code": "TAX", "amount": "0.20"}],
                }
            ],
        }
    )
    plan = bc_items_for_mirakl_refund("901", order, line, product(11, 2), 7)
    assert plan.total == D("13.00")
    assert [(i.item_type, i.item_id, i.quantity, i.amount) for i in plan.items] == [
        ("PRODUCT", 11, 1, None),
        ("SHIPPING", 900, None, D("2.20")),
    ]
    assert plan.items[0].reason == "Mirakl refund 901 (line 7-A-1)"


def test_a_partial_mirakl_refund_is_paid_as_an_order_amount() -> None:
    order, line = mirakl(
        {
            **LINE,
            "refunds": [
                {"id": "902", "amount": "2.50", "shipping_amount": "0", "taxes": [{"code": "TAX", "amount": "0.20"}]}
            ],
        }
    )
    plan = bc_items_for_mirakl_refund("902", order, line, product(11, 2), 7)
    assert [(i.item_type, i.item_id, i.amount) for i in plan.items] == [("ORDER", 7, D("2.70"))]
    assert plan.total == D("2.70")


def test_a_mirakl_refund_of_one_discounted_unit_is_paid_back_by_quantity() -> None:
    discounted = product(11, 2).model_copy(
        update={"applied_discounts": [{"id": "manual-discount", "amount": "2.00", "target": "order"}]}
    )  # two units of 10.80 incl. tax, 2.00 off: the customer paid 9.80 a unit
    line = {
        **LINE,
        "price": "18.00",
        "refunds": [{"id": "R1", "amount": "9.00", "taxes": [{"code": "TAX", "amount": "0.80"}]}],
    }
    order, mirakl_line = mirakl(line)
    plan = bc_items_for_mirakl_refund("R1", order, mirakl_line, discounted, 7)
    assert [(i.item_type, i.quantity) for i in plan.items] == [("PRODUCT", 1)] and plan.total == D("9.80")
