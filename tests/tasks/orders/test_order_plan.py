"""Planning a paid order: the split, what the customer paid per line, shipping shares, taxes, and problems."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bridge.config import BridgeConfig, load_config
from connectors.bigcommerce.models import Order, OrderProduct, ShippingAddress
from connectors.money import allocate
from tasks.orders.plan import OfferRef, build_plan, gate_rows, mirakl_line_id

D = Decimal


@pytest.fixture
def config() -> BridgeConfig:
    return load_config()


def order(**overrides: Any) -> Order:
    billing = {
        "first_name": "A",
        "last_name": "B",
        "street_1": "1 St",
        "city": "Austin",
        "zip": "78701",
        "country": "United States",
        "country_iso2": "US",
        "email": "a@example.com",
    }
    data = {
        "id": 500,
        "customer_id": 7,
        "status_id": 11,
        "total_ex_tax": "100",
        "total_inc_tax": "108",
        "currency_code": "USD",
        "default_currency_code": "USD",
        "billing_address": billing,
    }
    return Order.model_validate(data | overrides)


def product(pid: int, variant: int, qty: int, price: str, tax_rate: str = "0.08", address: int = 9) -> OrderProduct:
    ex = D(price) * qty
    tax = (ex * D(tax_rate)).quantize(D("0.01"))
    return OrderProduct.model_validate(
        {
            "id": pid,
            "order_id": 500,
            "variant_id": variant,
            "order_address_id": address,
            "quantity": qty,
            "price_ex_tax": price,
            "price_inc_tax": str(D(price) + tax / qty),
            "total_ex_tax": str(ex),
            "total_inc_tax": str(ex + tax),
            "total_tax": str(tax),
        }
    )


def address(cost_ex: str = "10.00", cost_inc: str = "10.80", country: str = "US") -> ShippingAddress:
    return ShippingAddress.model_validate(
        {
            "id": 9,
            "order_id": 500,
            "first_name": "A",
            "last_name": "B",
            "street_1": "1 St",
            "city": "Austin",
            "zip": "78701",
            "country": "United States",
            "country_iso2": country,
            "email": "a@example.com",
            "cost_ex_tax": cost_ex,
            "cost_inc_tax": cost_inc,
        }
    )


OWNED = {11: OfferRef(5001, 2000), 12: OfferRef(5002, 2001)}


def test_allocate_splits_in_cents_and_gives_the_remainder_to_the_heaviest_share() -> None:
    assert allocate(D("10.00"), [D("1"), D("1"), D("1")], "USD") == [D("3.34"), D("3.33"), D("3.33")]
    assert sum(allocate(D("7.77"), [D("12.5"), D("80"), D("3")], "USD")) == D("7.77")


def test_mirakl_owned_variants_are_marketplace_lines_and_the_rest_native(config: BridgeConfig) -> None:
    products = [product(1, 10, 1, "20.00"), product(2, 11, 2, "15.00"), product(3, 12, 1, "50.00")]
    plan = build_plan(order(), products, [address()], OWNED, config)
    assert [p.id for p in plan.native] == [1]
    assert [(line.order_product_id, line.offer.offer_id) for line in plan.marketplace] == [(2, 5001), (3, 5002)]
    assert [line.line_id for line in plan.marketplace] == [mirakl_line_id(500, 2), mirakl_line_id(500, 3)]
    assert plan.problems == []


def test_each_marketplace_line_carries_price_shipping_share_taxes_and_the_expected_debit(config: BridgeConfig) -> None:
    products = [product(1, 10, 1, "20.00"), product(2, 11, 2, "15.00"), product(3, 12, 1, "50.00")]
    plan = build_plan(order(), products, [address("10.00", "10.80")], OWNED, config)
    line = plan.marketplace[0].offer_line
    assert (line.offer_price, line.quantity, line.price) == (D("15.00"), 2, D("30.00"))
    assert line.shipping_price == D("3.00")  # 30 of 100 goods value
    assert line.taxes[0].amount == D("2.40") and line.shipping_taxes[0].amount == D("0.24")
    assert plan.marketplace[0].expected_debit == D("35.64")
    body = plan.commercial_order(config)
    assert body.commercial_id == "500" and body.shipping_zone_code == "US" and body.scored is True
    assert body.customer.shipping_address.country_iso_code == "USA"


def test_tax_mode_mirakl_refuses_lines_that_bigcommerce_taxed(config: BridgeConfig) -> None:
    mirakl_tax = config.model_copy(update={"orders": config.orders.model_copy(update={"tax_mode": "mirakl"})})
    products = [product(2, 11, 1, "15.00"), product(3, 12, 1, "50.00", tax_rate="0")]
    plan = build_plan(order(), products, [address("0", "0")], OWNED, mirakl_tax)
    assert [p.kind for p in plan.problems] == ["tax_not_zero"]
    assert plan.marketplace[0].offer_line.taxes is None and plan.marketplace[0].expected_debit == D("50.00")


def test_an_unmapped_country_makes_every_marketplace_line_a_problem(config: BridgeConfig) -> None:
    products = [product(2, 11, 1, "15.00"), product(3, 12, 1, "50.00")]
    plan = build_plan(order(), products, [address(country="XX")], OWNED, config)
    assert plan.marketplace == [] and [(p.order_product_id, p.kind) for p in plan.problems] == [
        (2, "unknown_country"),
        (3, "unknown_country"),
    ]


def test_the_transactional_currency_is_sent_not_the_display_currency(config: BridgeConfig) -> None:
    paid_in_usd = order(currency_code="EUR", default_currency_code="USD")
    plan = build_plan(paid_in_usd, [product(2, 11, 1, "15.00")], [address()], OWNED, config)
    assert [line.offer_line.currency_iso_code for line in plan.marketplace] == ["USD"]
    assert plan.problems == []


def test_an_order_paid_in_another_currency_is_an_exception_with_its_reason(config: BridgeConfig) -> None:
    paid_in_eur = order(currency_code="USD", default_currency_code="EUR")
    plan = build_plan(paid_in_eur, [product(2, 11, 1, "15.00")], [address()], OWNED, config)
    assert plan.marketplace == []
    assert [(p.order_product_id, p.kind, p.reason) for p in plan.problems] == [
        (2, "currency_mismatch", "paid in EUR, the store and Mirakl work in USD")
    ]


def test_gate_rows_flag_a_foreign_currency(config: BridgeConfig) -> None:
    plan = build_plan(order(), [product(2, 11, 1, "15.00")], [address()], OWNED, config)
    assert gate_rows([plan], "EUR") == [
        {
            "line_id": "500-2",
            "bc_order_id": 500,
            "offer_id": 5001,
            "quantity": 1,
            "offer_price": D("15.00"),
            "currency_ok": False,
        }
    ]
