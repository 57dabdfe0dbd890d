"""Inputs become exact frames, and the gate sees a missing day, a duplicate transaction and a foreign currency."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest

from connectors.bigcommerce.models import Order as BcOrder
from connectors.bigcommerce.models import OrderProduct, Refund
from connectors.mirakl.models import Transaction
from connectors.state import OrderLineMapping
from expectations import run_gate
from tasks.reconciliation.frames import (
    DayFetch,
    bc_line_rows,
    bc_refund_rows,
    cancelled_values,
    frame,
    gate_frame,
    transaction_rows,
)
from tasks.reconciliation.money import apply_rate, format_minor, rate_table
from tasks.reconciliation.reconcile import TRANSACTION_COLUMNS

MIDNIGHT = datetime(2026, 11, 2, tzinfo=UTC)


def tl02(id_: str, when: str, amount: str = "12.34", currency: str = "USD") -> Transaction:
    return Transaction.model_validate(
        {
            "id": id_,
            "type": "ORDER_AMOUNT",
            "amount": amount,
            "currency_iso_code": currency,
            "date_created": when,
            "shop": {"id": 2000},
            "entities": {"order": {"id": "C1-A"}, "order_line": {"id": "C1-A-1"}},
        }
    )


def test_transactions_convert_to_exact_minor_units_and_midnight_belongs_to_the_next_day() -> None:
    rows = transaction_rows([tl02("a", "2026-11-01T23:59:59.999Z"), tl02("b", "2026-11-02T00:00:00Z")], MIDNIGHT, "USD")
    assert [(r["transaction_id"], r["amount"], r["order_line_id"]) for r in rows] == [("a", 1234, "C1-A-1")]


def test_minor_units_format_back_to_decimal_strings() -> None:
    text = format_minor(pd.Series([1205, -5, 0, 7, 12345]), pd.Series(["USD", "USD", "EUR", "JPY", "KWD"]))
    assert text.tolist() == ["12.05", "-0.05", "0.00", "7", "12.345"]


def test_rates_apply_half_up_on_both_signs_and_refuse_sub_ppm_precision() -> None:
    assert apply_rate(pd.Series([1005, -1005]), pd.Series([100_000, 100_000])).tolist() == [101, -101]
    with pytest.raises(Exception, match="not a rate"):
        rate_table({2000: Decimal("0.1234567")})


def _gate(days: list[DayFetch], rows: list[dict[str, object]]) -> pd.DataFrame:
    return gate_frame(days, frame(rows, TRANSACTION_COLUMNS), {101: "USD"}, None, None, "USD")


def test_complete_period_passes_the_gate() -> None:
    rows = transaction_rows([tl02("a", "2026-11-01T10:00:00Z")], MIDNIGHT, "USD")
    result = run_gate(_gate([DayFetch(date(2026, 11, 1), len(rows), True)], rows), "reconciliation")
    assert result.verdict == "pass"


def test_an_unread_day_trips_the_gate_even_without_any_row() -> None:
    days = [DayFetch(date(2026, 11, 1), 0, True), DayFetch(date(2026, 11, 2), 0, False, "TransientApiError")]
    result = run_gate(_gate(days, []), "reconciliation")
    assert result.tripped
    assert result.failed[["transaction_id", "reason"]].to_dict("records") == [
        {"transaction_id": "day:2026-11-02", "reason": "incomplete day"}
    ]


def test_duplicate_transaction_and_foreign_currency_trip_the_gate() -> None:
    rows = transaction_rows(
        [
            tl02("a", "2026-11-01T10:00:00Z"),
            tl02("a", "2026-11-01T10:00:00Z"),
            tl02("c", "2026-11-01T11:00:00Z", currency="EUR"),
        ],
        MIDNIGHT,
        "USD",
    )
    result = run_gate(_gate([DayFetch(date(2026, 11, 1), len(rows), True)], rows), "reconciliation")
    reasons = dict(
        zip(result.failed["transaction_id"] + result.failed.index.astype(str), result.failed["reason"], strict=True)
    )
    assert sorted(reasons.values()) == ["duplicate transaction", "duplicate transaction", "wrong currency"]


def _product(pid: int, quantity: int, ex: str, tax: str, discount: str) -> OrderProduct:
    return OrderProduct.model_validate(
        {
            "id": pid,
            "order_id": 7,
            "quantity": quantity,
            "price_ex_tax": str(Decimal(ex) / quantity),
            "price_inc_tax": str((Decimal(ex) + Decimal(tax)) / quantity),
            "total_ex_tax": ex,
            "total_inc_tax": str(Decimal(ex) + Decimal(tax)),
            "total_tax": tax,
            "applied_discounts": [{"id": "manual-discount", "amount": discount, "target": "order"}],
        }
    )


def test_a_product_refund_by_quantity_is_valued_at_what_the_customer_paid_per_unit() -> None:
    # orders.v3.yml: a PRODUCT item reads requested_amount: null; its value is the quantity's paid share.
    product = _product(11, 2, "200.00", "16.00", "20.00")  # paid 180.00 + 16.00 tax = 196.00 for two units
    refund = Refund.model_validate(
        {
            "id": 1,
            "order_id": 7,
            "total_amount": "93.00",
            "items": [
                {
                    "item_type": "PRODUCT",
                    "item_id": 11,
                    "quantity": 1,
                    "requested_amount": None,
                    "adjustments": [{"amount": "-5.00"}],
                },
                {"item_type": "SHIPPING", "item_id": 900, "requested_amount": "5.00"},
            ],
        }
    )
    period = (datetime(2026, 11, 1, tzinfo=UTC), MIDNIGHT)
    rows = bc_refund_rows([refund], {11: product}, "USD", period, "USD")
    assert rows == [{"bc_order_id": 7, "bc_order_product_id": 11, "amount": 9_800 - 500}]


def _order(currency: str) -> BcOrder:
    return BcOrder.model_validate(
        {
            "id": 7,
            "status_id": 11,
            "total_ex_tax": "0",
            "total_inc_tax": "0",
            "currency_code": "EUR",
            "default_currency_code": currency,
            "date_created": "Sun, 01 Nov 2026 10:00:00 +0000",
        }
    )


def test_a_unit_cancelled_before_the_debit_comes_off_the_line_and_is_no_refund() -> None:
    # Mirakl debits (and books as ORDER_AMOUNT and ORDER_AMOUNT_TAX) only what the OR30 left on the line.
    product = _product(11, 2, "200.00", "16.00", "20.00")  # 180.00 + 16.00 tax for two units
    before, after = (
        Refund.model_validate(
            {
                "id": refund_id,
                "order_id": 7,
                "total_amount": "98.00",
                "items": [{"item_type": "PRODUCT", "item_id": 11, "quantity": 1, "requested_amount": None}],
            }
        )
        for refund_id in (1, 2)
    )
    mapping = OrderLineMapping(
        bc_order_id=7, bc_order_product_id=11, mirakl_order_id="7-A", mirakl_order_line_id="7-A-1", quantity=2
    )
    period = (datetime(2026, 11, 1, tzinfo=UTC), MIDNIGHT)
    cancelled = {(1, 11)}
    values = cancelled_values([before, after], {11: product}, cancelled)
    [row] = bc_line_rows(_order("USD"), [product], [mapping], period, "USD", values)
    assert (row["bc_amount"], row["bc_tax"]) == (9_000, 800)  # one unit of two left
    refunds = bc_refund_rows([before, after], {11: product}, "USD", period, "USD", cancelled)
    assert refunds == [{"bc_order_id": 7, "bc_order_product_id": 11, "amount": 9_800}]  # only the one after


def test_bigcommerce_lines_are_on_or01_s_basis_after_discounts_in_the_transactional_currency() -> None:
    order = _order("JPY")
    product = _product(11, 2, "2000", "160", "200")
    mapping = OrderLineMapping(
        bc_order_id=7, bc_order_product_id=11, mirakl_order_id="7-A", mirakl_order_line_id="7-A-1", quantity=2
    )
    [row] = bc_line_rows(order, [product], [mapping], (datetime(2026, 11, 1, tzinfo=UTC), MIDNIGHT), "JPY")
    assert (row["currency"], row["bc_amount"], row["bc_tax"]) == ("JPY", 1_800, 160)
