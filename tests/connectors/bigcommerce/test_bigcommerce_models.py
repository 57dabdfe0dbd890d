"""Payload models: v2 money strings and RFC-2822 dates, request serialisation, customer data kept out of repr."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from connectors.bigcommerce import (
    InventoryAdjustment,
    Order,
    OrderProduct,
    ProductCreate,
    Refund,
    RefundItem,
    RefundItemAdjustment,
    RefundPaymentRequest,
    RefundQuote,
    Shipment,
    ShipmentCreate,
    ShipmentItem,
    Variant,
    VariantUpdate,
    validate_record,
)
from connectors.http import RecordRejectedError, parse_page
from tests.connectors.bigcommerce.bc_doubles import load_fixture


def test_v2_order_money_strings_become_exact_decimals_and_dates_aware_utc():
    order = Order.model_validate(load_fixture("order_v2.json"))

    assert order.total_inc_tax == Decimal("62.6793")
    assert order.subtotal_tax == Decimal("4.6793")
    assert order.currency_exchange_rate == Decimal("1.0000000000")
    assert order.date_created == datetime(2019, 3, 5, 21, 40, 11, tzinfo=UTC)
    assert order.date_modified.utcoffset().total_seconds() == 0
    assert order.date_shipped is None


def test_rfc2822_offsets_are_kept_and_iso_dates_also_parse():
    shifted = Order.model_validate(
        {**load_fixture("order_v2.json"), "date_modified": "Thu, 20 Apr 2017 11:32:00 -0400"}
    )
    refund = Refund.model_validate(load_fixture("refund.json")["data"])

    assert shifted.date_modified == datetime(2017, 4, 20, 15, 32, tzinfo=UTC)
    assert refund.created == datetime(2026, 11, 3, 16, 44, 15, tzinfo=UTC)


def test_order_repr_never_shows_the_billing_address():
    order = Order.model_validate(load_fixture("order_v2.json"))

    text = repr(order) + str(order) + repr(order.billing_address)
    assert "buyer@example.invalid" not in text
    assert "Example Street" not in text
    assert order.billing_address.country_iso2 == "US"


def test_order_lines_and_shipments_parse_from_sample_payloads():
    lines = [OrderProduct.model_validate(raw) for raw in load_fixture("order_products_v2.json")]
    shipment = Shipment.model_validate(load_fixture("shipment_v2.json"))

    assert [(line.id, line.variant_id, line.quantity, line.total_inc_tax) for line in lines] == [
        (194, 501, 2, Decimal("28.3397")),
        (195, 502, 1, Decimal("28.3396")),
    ]
    assert shipment.items[0].order_product_id == 194
    assert shipment.date_created == datetime(2019, 3, 7, 10, tzinfo=UTC)


def test_v3_number_money_becomes_decimal_without_float_noise():
    variant = Variant.model_validate(load_fixture("variants_page.json")["data"][1])
    quote = RefundQuote.model_validate(load_fixture("refund_quote.json")["data"])

    assert variant.price == Decimal("26.1")
    assert variant.sale_price == Decimal("24.99")
    assert quote.refund_methods[1][0].amount == Decimal("28.34")


def test_variant_update_sends_only_what_was_set_with_money_as_json_number():
    update = VariantUpdate(id=501, price=Decimal("12.50"), purchasing_disabled=True)

    assert update.to_api() == {"id": 501, "price": 12.5, "purchasing_disabled": True}


def test_rfc2822_without_weekday_and_naive_iso_parse_as_utc():
    order = Order.model_validate({**load_fixture("order_v2.json"), "date_modified": "05 Mar 2019 21:40:11 +0000"})
    refund = Refund.model_validate({**load_fixture("refund.json")["data"], "created": "2026-11-03T16:44:15"})

    assert order.date_modified == datetime(2019, 3, 5, 21, 40, 11, tzinfo=UTC)
    assert refund.created == datetime(2026, 11, 3, 16, 44, 15, tzinfo=UTC)
    with pytest.raises(ValidationError, match="not an ISO-8601 or RFC-2822 date"):
        Order.model_validate({**load_fixture("order_v2.json"), "date_modified": "yesterday"})


def test_product_create_defaults_to_a_hidden_disabled_draft_with_numbers_for_weight_and_price():
    body = ProductCreate(name="Unmapped", sku="MK-1", price=Decimal("9.90")).to_api()

    assert body == {
        "name": "Unmapped",
        "type": "physical",
        "weight": 0.0,
        "price": 9.9,
        "sku": "MK-1",
        "is_visible": False,
        "availability": "disabled",
        "inventory_tracking": "variant",
    }


def test_request_models_forbid_unknown_fields():
    with pytest.raises(ValidationError):
        VariantUpdate(id=1, is_visible=False)


def test_inventory_adjustment_needs_exactly_one_identity():
    assert InventoryAdjustment(location_id=1, sku="A", quantity=3).to_api() == {
        "location_id": 1,
        "sku": "A",
        "quantity": 3,
    }
    with pytest.raises(ValidationError, match="exactly one"):
        InventoryAdjustment(location_id=1, sku="A", variant_id=4, quantity=3)
    with pytest.raises(ValidationError, match="exactly one"):
        InventoryAdjustment(location_id=1, quantity=3)


def test_refund_items_need_quantity_or_amount_by_type():
    assert RefundItem(item_type="SHIPPING", item_id=128, amount=Decimal("6.00")).to_api() == {
        "item_type": "SHIPPING",
        "item_id": 128,
        "amount": 6.0,
    }
    with pytest.raises(ValidationError, match="need a quantity"):
        RefundItem(item_type="PRODUCT", item_id=194)
    assert RefundPaymentRequest(provider_id="custom", amount=Decimal("28.34"), offline=True).to_api() == {
        "provider_id": "custom",
        "amount": 28.34,
        "offline": True,
    }


def test_product_refund_adjustments_are_negative_cents_sent_as_numbers_and_read_back():
    fee = RefundItemAdjustment(amount=Decimal("-5.00"), description="Restocking fee")
    item = RefundItem(item_type="PRODUCT", item_id=194, quantity=1, adjustments=[fee, {"amount": Decimal("-0.5")}])
    assert item.to_api() == {
        "item_type": "PRODUCT",
        "item_id": 194,
        "quantity": 1,
        "adjustments": [{"amount": -5.0, "description": "Restocking fee"}, {"amount": -0.5}],
    }
    for bad in ("0", "2.00", "-1.234"):
        with pytest.raises(ValidationError, match="amount"):
            RefundItemAdjustment(amount=Decimal(bad))
    with pytest.raises(ValidationError, match="only PRODUCT"):
        RefundItem(item_type="SHIPPING", item_id=128, amount=Decimal("1"), adjustments=[fee])
    raw = load_fixture("refund.json")["data"]
    adjusted = {**raw["items"][0], "adjustments": [{"amount": -5.2, "description": "Restocking fee"}]}
    refund = Refund.model_validate({**raw, "items": [adjusted, {"item_type": "SHIPPING", "item_id": 9}]})
    assert [(a.amount, a.description) for a in refund.items[0].adjustments] == [(Decimal("-5.2"), "Restocking fee")]
    assert refund.items[1].adjustments == []


def test_shipment_create_sends_items_without_product_ids():
    body = ShipmentCreate(
        order_address_id=128,
        items=[ShipmentItem(order_product_id=194, quantity=2)],
        tracking_number="1Z",
        shipping_provider="",
    ).to_api()

    assert body == {
        "order_address_id": 128,
        "items": [{"order_product_id": 194, "quantity": 2}],
        "tracking_number": "1Z",
        "shipping_provider": "",
    }


def test_a_page_sets_bad_records_aside_with_key_and_reason_but_no_values():
    good = load_fixture("order_products_v2.json")[0]
    bad = {**good, "id": 999, "price_ex_tax": "not-money", "name": "Secret Name"}

    page = parse_page(OrderProduct, [good, bad], operation="list_order_products", key_of=lambda r: r.get("id"))

    assert [line.id for line in page] == [194]
    assert [(r.key, r.reason, r.raw) for r in page.rejected] == [
        ("999", "price_ex_tax: Input should be a valid decimal", None)
    ]
    assert "not-money" not in page.rejected[0].reason
    with pytest.raises(RecordRejectedError):
        validate_record(OrderProduct, bad)
