"""Request bodies keep money exact (JSON numbers with the decimals the stream rounded to) and dates in UTC form."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

import connectors.mirakl as mirakl
from connectors.mirakl import select_price
from connectors.mirakl.models import OfferPrice
from connectors.mirakl.serialization import encode_json, format_money, format_request_date


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1200"), "1200"),  # a yen amount is not padded to cents
        (Decimal("12.50"), "12.50"),
        (Decimal("0.1"), "0.1"),
        (Decimal("12.345"), "12.345"),  # a KWD amount keeps its fils
        (Decimal("2.0625"), "2.0625"),
        (Decimal("2.062500"), "2.0625"),
        (Decimal("1E+2"), "100"),
    ],
)
def test_money_is_written_with_the_decimals_its_currency_rounding_gave_it(value: Decimal, text: str) -> None:
    assert format_money(value) == text


def test_money_finer_than_any_currency_is_refused_not_rounded() -> None:
    with pytest.raises(ValueError, match="more decimals than any currency"):
        format_money(Decimal("2.06255"))


def test_non_finite_money_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        format_money(Decimal("NaN"))


def test_encoded_body_is_valid_json_with_numbers_not_strings() -> None:
    body = encode_json({"amount": Decimal("0.30"), "items": [Decimal("1"), "x", None, True], "é": 1})

    assert body == '{"amount":0.30,"items":[1,"x",null,true],"é":1}'.encode()
    assert json.loads(body, parse_float=Decimal)["amount"] == Decimal("0.30")


def test_request_dates_are_utc_with_z_and_naive_dates_refused() -> None:
    paris = timezone(timedelta(hours=1))

    assert format_request_date(datetime(2026, 11, 1, 9, 30, 15, 999, tzinfo=paris)) == "2026-11-01T08:30:15Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_request_date(datetime(2026, 11, 1, 9, 30))


NOW = datetime(2026, 11, 5, tzinfo=UTC)
TOMORROW = NOW + timedelta(days=1)


@pytest.mark.parametrize(
    ("prices", "expected"),
    [
        ([OfferPrice(origin_price=Decimal("10"), discount_price=Decimal("8"))], Decimal("8")),
        (
            [OfferPrice(origin_price=Decimal("10"), discount_price=Decimal("8"), discount_end_date=NOW)],
            Decimal("8"),
        ),
        (
            [
                OfferPrice(
                    origin_price=Decimal("10"), discount_price=Decimal("8"), discount_start_date=NOW.replace(day=6)
                )
            ],
            Decimal("10"),
        ),
        ([OfferPrice(origin_price=Decimal("99"), context={"channel_codes": ["B2B"]})], None),
        (
            [
                OfferPrice(origin_price=Decimal("5"), context={"customer_group_ids": ["vip"]}),
                OfferPrice(origin_price=Decimal("10")),
            ],
            Decimal("10"),
        ),
    ],
)
def test_select_price_uses_the_default_entry_and_its_discount_window(
    prices: list[OfferPrice], expected: Decimal | None
) -> None:
    assert select_price(prices, NOW) == expected


def test_package_all_names_exist() -> None:
    assert sorted(mirakl.__all__) == mirakl.__all__
    missing = [name for name in mirakl.__all__ if not hasattr(mirakl, name)]
    assert missing == []
