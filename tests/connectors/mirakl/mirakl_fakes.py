"""Fakes shared by the Mirakl connector tests: a recording sleep, fixture loading, a sample order, constants."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.mirakl import (
    BillingAddress,
    OrderCreate,
    OrderCustomer,
    OrderOfferCreate,
    ShippingAddress,
    TaxAmount,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mirakl"
BASE_URL = "https://acme.mirakl.net"
API_KEY = "test-front-key"
OPERATOR_KEY = "test-operator-key"


def load_fixture(name: str) -> Any:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


def order_create() -> OrderCreate:
    """An OR01 order with one offer; the customer is made up (example.invalid)."""
    address = {"lastname": "L", "street_1": "1 Main St", "zip_code": "78701", "city": "Austin", "country": "USA"}
    return OrderCreate(
        commercial_id="BC1001",
        customer=OrderCustomer(
            customer_id="C-1",
            email="c1@example.invalid",
            firstname="F",
            lastname="L",
            billing_address=BillingAddress(**address),
            shipping_address=ShippingAddress(**address),
        ),
        offers=[
            OrderOfferCreate(
                offer_id=3001,
                quantity=2,
                offer_price=Decimal("12.50"),
                price=Decimal("25.00"),
                shipping_price=Decimal("4.99"),
                shipping_type_code="STD",
                taxes=[TaxAmount(code="US-TX", amount=Decimal("2.0625"))],
            )
        ],
        shipping_zone_code="US",
        scored=True,
    )
