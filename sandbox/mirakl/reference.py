"""The tenant's reference data: carriers (SH21), reasons (RE01), shipping types, commission and tax rules.

A real tenant configures these in its back office; the emulator fixes one realistic configuration so the
bridge's mappings (carrier table, refund reasons) are checked against something that can say no.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "CARRIERS",
    "COMMISSION_RATES",
    "COMMISSION_TAX_CODE",
    "COMMISSION_TAX_RATE",
    "PLATFORM_TAX_MODE",
    "REASONS",
    "SHIPPING_TYPES",
    "SHIPPING_ZONES",
    "Carrier",
    "Reason",
    "commission_rate_for",
]

PLATFORM_TAX_MODE = "TAX_EXCLUDED"  # amounts exclude taxes unless OR01 asks otherwise

# Per-shop commission rates (percent), assigned round-robin by seller position.
COMMISSION_RATES = (Decimal("10"), Decimal("12"), Decimal("15"), Decimal("8"))
COMMISSION_TAX_CODE = "VAT"
COMMISSION_TAX_RATE = Decimal("20")  # tax the operator charges sellers on its commission

SHIPPING_TYPES = {"STD": "Standard", "EXP": "Express", "NXT": "Next day"}
SHIPPING_ZONES = {"US": "United States", "EU": "European Union", "INT": "International"}


@dataclass(frozen=True)
class Carrier:
    code: str
    label: str
    standard_code: str
    tracking_url: str  # `{trackingId}` is replaced by the tracking number

    def url_for(self, tracking_number: str | None) -> str | None:
        return self.tracking_url.replace("{trackingId}", tracking_number) if tracking_number else None


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    type: str
    is_shop_right: bool
    is_operator_right: bool
    is_customer_right: bool = False


CARRIERS = {
    c.code: c
    for c in (
        Carrier("UPS", "UPS", "UPS", "https://www.ups.com/track?tracknum={trackingId}"),
        Carrier("FEDEX", "FedEx", "FEDEX", "https://www.fedex.com/fedextrack/?trknbr={trackingId}"),
        Carrier("DHL", "DHL Express", "DHL", "https://www.dhl.com/en/express/tracking.html?AWB={trackingId}"),
        Carrier(
            "COLISSIMO", "Colissimo", "COLISSIMO", "https://www.laposte.fr/outils/suivre-vos-envois?code={trackingId}"
        ),
        Carrier(
            "CHRONOPOST",
            "Chronopost",
            "CHRONOPOST",
            "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={trackingId}",
        ),
        Carrier("DPD", "DPD", "DPD", "https://tracking.dpd.de/status/en_US/parcel/{trackingId}"),
        Carrier("USPS", "USPS", "USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={trackingId}"),
    )
}

REASONS = (
    Reason("11", "Damaged product", "REFUND", is_shop_right=True, is_operator_right=True),
    Reason("12", "Product not received", "REFUND", is_shop_right=True, is_operator_right=True),
    Reason("13", "Product not as described", "REFUND", is_shop_right=True, is_operator_right=False),
    Reason("14", "Customer returned the product", "REFUND", is_shop_right=True, is_operator_right=True),
    Reason("31", "Out of stock", "CANCELATION", is_shop_right=True, is_operator_right=False),
    Reason("32", "Cancelled at the customer's request", "CANCELATION", is_shop_right=True, is_operator_right=True),
    Reason("33", "Payment or fraud issue", "CANCELATION", is_shop_right=False, is_operator_right=True),
    Reason(
        "51",
        "Item damaged on arrival",
        "INCIDENT_OPEN",
        is_shop_right=False,
        is_operator_right=True,
        is_customer_right=True,
    ),
    Reason("61", "Incident solved", "INCIDENT_CLOSE", is_shop_right=True, is_operator_right=True),
)


def commission_rate_for(position: int) -> Decimal:
    return COMMISSION_RATES[position % len(COMMISSION_RATES)]
