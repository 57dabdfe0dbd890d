"""The carrier table resolves BigCommerce names to Mirakl codes and refuses what SH21 does not list."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import ConfigurationError
from tasks.shipments.carriers import CarrierEntry, CarrierTable, decide_mirakl_tracking, load_carrier_file

SH21 = {"UPS", "FEDEX", "DHL", "COLISSIMO"}


@pytest.fixture
def table() -> CarrierTable:
    return load_carrier_file()


def decide(table: CarrierTable, provider: str, carrier: str, allow: bool = False) -> object:
    return decide_mirakl_tracking(
        table,
        SH21,
        shipping_provider=provider,
        tracking_carrier=carrier,
        tracking_number="T1",
        tracking_link="https://track.example/T1",
        allow_unregistered=allow,
    )


@pytest.mark.parametrize(
    ("provider", "carrier", "code"),
    [
        ("ups", "", "UPS"),
        ("", "dhl", "DHL"),
        ("upsonline", "", "UPS"),
        ("", "Colissimo", "COLISSIMO"),
        ("usps", "fedex", "FEDEX"),
    ],
)
def test_a_mapped_carrier_becomes_a_registered_or23_code(
    table: CarrierTable, provider: str, carrier: str, code: str
) -> None:
    decision = decide(table, provider, carrier)
    assert decision.reason is None
    assert decision.tracking.carrier_code == code and decision.tracking.tracking_number == "T1"


def test_an_unmapped_carrier_is_refused_with_its_name(table: CarrierTable) -> None:
    decision = decide(table, "", "speedy-parcels")
    assert (decision.tracking, decision.reason, decision.carrier_name) == (
        None,
        "unmapped carrier: speedy-parcels",
        "speedy-parcels",
    )


def test_a_mapped_code_that_sh21_does_not_list_is_refused(table: CarrierTable) -> None:
    decision = decide(table, "royalmail", "")
    assert decision.tracking is None
    assert decision.reason == "carrier code ROYAL_MAIL (for royalmail) not in Mirakl SH21"


def test_a_shipment_without_any_carrier_is_refused(table: CarrierTable) -> None:
    assert decide(table, "", "").reason == "no carrier on the BigCommerce shipment"


def test_the_unregistered_form_is_used_only_when_configuration_allows_it(table: CarrierTable) -> None:
    decision = decide(table, "", "speedy-parcels", allow=True)
    assert decision.reason is None
    assert decision.tracking.carrier_name == "speedy-parcels"
    assert decision.tracking.carrier_url == "https://track.example/T1" and decision.tracking.carrier_code is None


def test_an_override_replaces_the_file_entry_with_the_same_code(table: CarrierTable) -> None:
    merged = table.with_overrides(
        [CarrierEntry(mirakl_code="DHL", tracking_carrier="dhl", aliases=("speedy-parcels",))]
    )
    assert merged.mirakl_code_for("speedy-parcels") == "DHL"
    assert table.mirakl_code_for("speedy-parcels") is None
    assert merged.bigcommerce_for("DHL").aliases == ("speedy-parcels",)


def test_a_name_mapped_to_two_codes_is_a_configuration_error(table: CarrierTable) -> None:
    with pytest.raises(ConfigurationError, match="'ups' maps to both"):
        table.with_overrides([CarrierEntry(mirakl_code="UPS_FREIGHT", shipping_provider="ups")])


def test_a_carrier_file_listing_a_code_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "carriers.yaml"
    path.write_text("version: 1\ncarriers:\n  - {mirakl_code: UPS}\n  - {mirakl_code: UPS}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="listed twice"):
        load_carrier_file(path)
