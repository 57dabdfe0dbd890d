"""Drift measures: out-of-stock-but-buyable variants and price mismatches, compared to the cent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd

from tasks.drift import measure_drift

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def variants() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("MKP-1", 1, Decimal("27.79"), 5, False),  # same price as the best offer, float on the Mirakl side
            ("MKP-2", 2, Decimal("10.00"), 5, False),  # BigCommerce still shows an old price
            ("MKP-3", 3, Decimal("15.00"), 2, False),  # no offer left, still buyable: value at risk
            ("MKP-4", 4, Decimal("0"), 0, True),  # unbuyable: never counted
        ],
        columns=["product_sku", "variant_id", "price", "inventory_level", "purchasing_disabled"],
    )


def winners() -> pd.DataFrame:
    return pd.DataFrame(
        {"price": [27.79, Decimal("12.50")], "last_updated": [NOW, NOW]},
        index=pd.Index(["MKP-1", "MKP-2"], name="product_sku"),
    )


def mapping() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_sku": ["MKP-1", "MKP-2", "MKP-3", "MKP-4"],
            "owner": ["mirakl"] * 4,
            "purchasable": [True, True, True, False],
            "mirakl_updated_at": [NOW] * 4,
            "bc_acknowledged_at": [NOW] * 4,
        }
    )


def test_only_a_real_price_difference_is_a_mismatch_and_rows_keep_their_ids() -> None:
    findings = measure_drift(variants(), winners(), mapping(), timedelta(hours=1), NOW, currency="USD")
    rows = findings.price_mismatches.to_dict("records")
    assert [(r["product_sku"], r["variant_id"], r["price"], r["mirakl_price"]) for r in rows] == [
        ("MKP-2", 2, Decimal("10.00"), Decimal("12.50"))
    ]


def test_buyable_variant_without_offer_is_counted_with_its_value_at_risk() -> None:
    findings = measure_drift(variants(), winners(), mapping(), timedelta(hours=1), NOW, currency="USD")
    assert list(findings.oos_buyable["product_sku"]) == ["MKP-3"]
    assert findings.value_at_risk == Decimal("15.00")
