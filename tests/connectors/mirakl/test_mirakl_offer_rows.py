"""The OF54 row's SKU rules, whichever path (printable or not, ASCII or not) a SKU takes through them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.http.records import describe_validation_error
from connectors.mirakl.models import ExportedOffer


@pytest.mark.parametrize(
    "sku",
    [
        pytest.param("SKU-0001", id="ascii"),
        pytest.param("a b", id="inner-space"),
        pytest.param("Crème-Brûlée", id="nfc-latin"),
        pytest.param("靴-42", id="cjk"),
        pytest.param("a\u00a0b", id="inner-no-break-space"),
        pytest.param("x" * 255, id="longest"),
    ],
)
def test_a_storefront_sku_is_kept_as_sent(sku: str) -> None:
    assert ExportedOffer.model_validate({"offer_id": 1, "product_sku": sku}).product_sku == sku


@pytest.mark.parametrize(
    ("sku", "reason"),
    [
        pytest.param("", "SKU must be 1 to 255 characters, got 0", id="empty"),
        pytest.param("x" * 256, "SKU must be 1 to 255 characters, got 256", id="too-long"),
        pytest.param(" a", "SKU has leading or trailing whitespace", id="leading-space"),
        pytest.param("a\u3000", "SKU has leading or trailing whitespace", id="trailing-ideographic-space"),
        pytest.param("a\tb", "SKU holds control or invisible characters (U+0009)", id="tab"),
        pytest.param("a\u200bb\x00", "SKU holds control or invisible characters (U+0000, U+200B)", id="zero-width"),
        pytest.param("a\u2028b", "SKU holds control or invisible characters (U+2028)", id="line-separator"),
        pytest.param("a\ue000b", "SKU holds control or invisible characters (U+E000)", id="private-use"),
        pytest.param("e\u0301", "SKU is not in Unicode composed form (NFC)", id="decomposed"),
    ],
)
def test_a_sku_no_storefront_can_carry_is_refused_with_its_reason(sku: str, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ExportedOffer.model_validate({"offer_id": 1, "product_sku": sku})

    assert describe_validation_error(refused.value) == f"product_sku: Value error, {reason}"
