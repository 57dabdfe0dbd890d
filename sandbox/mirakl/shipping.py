"""SH02 shipping rates: which shipping types each offer allows in a zone, and what shipping costs per line.

Written from mmp-front-openapi.yaml `SH02_Response_200` (the front spec lost the operation's path entry; the
path `GET /api/shipping/rates` and the query `shipping_zone_code`, `offers=offerId|quantity[|shipping_type_code],...`
are from Mirakl's PHP SDK `GetShippingRatesRequest`, as noted in shared/api/mirakl.md §4.7):
- `orders[]`: one per future logistic order, i.e. per shop and selected shipping type, with `shipping_types`
  "compatible with all the offers composing the order" and each offer's `allowed_shipping_types`;
- `errors[]`: `error_code` in `SHIPPING_ZONE_NOT_ALLOWED`, `SHIPPING_TYPE_NOT_ALLOWED`, `OFFER_NOT_FOUND`,
  `WAREHOUSE_CODE_NOT_ALLOWED`, with the `offer_id` (and the `shipping_type_code` asked for);
- `offer_quantity` is 0 "if quantity = 0 or the offer is not available";
- `line_shipping_price`: "If the shipping price of the offer is the biggest in the order for the shop: shipping
  price * 1 + additional shipping price * (quantity - 1). Else: additional shipping price * quantity" -- the
  emulator charges the same for the first and each additional unit, so both cases are unit price x quantity.
The emulator's shops ship the types their seed gives per zone; the first listed is the one selected by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.mirakl.catalog import MiraklOffer, OfferBook, Shop
from sandbox.mirakl.errors import MiraklError
from sandbox.mirakl.formats import iso, money
from sandbox.mirakl.reference import SHIPPING_TYPES

__all__ = ["RateRequest", "parse_offers_param", "shipping_rates"]

PRICE_FACTOR = {"STD": Decimal("1"), "EXP": Decimal("2"), "NXT": Decimal("3")}  # a faster type costs more
DELIVERY_DAYS = {"STD": (3, 5), "EXP": (1, 2), "NXT": (1, 1)}


@dataclass(frozen=True)
class RateRequest:
    offer_id: int
    quantity: int
    shipping_type_code: str | None


def parse_offers_param(raw: str | None) -> list[RateRequest]:
    """`offerId|quantity[|shipping_type_code]` items, comma-separated; anything else is a 400 naming the field."""
    if not raw:
        raise MiraklError(400, "Error with field offers. This field is required.")
    found = []
    for item in raw.split(","):
        parts = item.strip().split("|")
        if len(parts) not in (2, 3) or not parts[0].isdigit() or not parts[1].isdigit():
            raise MiraklError(400, f"Error with field offers. '{item}' is not offerId|quantity[|shipping_type_code].")
        found.append(RateRequest(int(parts[0]), int(parts[1]), parts[2] if len(parts) == 3 and parts[2] else None))
    return found


def shipping_rates(book: OfferBook, zone: str, requests: list[RateRequest], now: datetime) -> dict[str, Any]:
    """The SH02 answer for `requests` shipped to `zone`."""
    errors: list[dict[str, Any]] = []
    groups: dict[tuple[int, str], list[tuple[MiraklOffer, RateRequest, tuple[str, ...]]]] = {}
    for request in requests:
        offer = book.offers.get(request.offer_id)
        shop = book.shops.get(offer.shop_id) if offer is not None else None
        if offer is None or offer.deleted or shop is None:
            errors.append({"error_code": "OFFER_NOT_FOUND", "offer_id": request.offer_id})
            continue
        allowed = tuple(t for t in shop.shipping_types.get(zone, ()) if t in SHIPPING_TYPES)
        if not allowed:
            errors.append({"error_code": "SHIPPING_ZONE_NOT_ALLOWED", "offer_id": request.offer_id})
            continue
        wanted = request.shipping_type_code
        if wanted is not None and wanted not in allowed:
            error = {"error_code": "SHIPPING_TYPE_NOT_ALLOWED", "offer_id": request.offer_id}
            errors.append(error | {"shipping_type_code": wanted})
            continue
        groups.setdefault((shop.shop_id, wanted or allowed[0]), []).append((offer, request, allowed))
    orders = [
        _order(book.shops[shop_id], selected, lines, book, now) for (shop_id, selected), lines in sorted(groups.items())
    ]
    return {"errors": errors, "orders": orders, "total_count": len(orders)}


def _order(
    shop: Shop,
    selected: str,
    lines: list[tuple[MiraklOffer, RateRequest, tuple[str, ...]]],
    book: OfferBook,
    now: datetime,
) -> dict[str, Any]:
    offers = [_offer(offer, request, allowed, selected, book, now) for offer, request, allowed in lines]
    common = [t for t in lines[0][2] if all(t in allowed for _, _, allowed in lines)]
    return {
        "currency_iso_code": shop.currency_iso_code,
        "leadtime_to_ship": max(offer.leadtime_to_ship for offer, _, _ in lines),
        "offers": offers,
        "selected_shipping_type": _type(selected, now),
        "shipping_deadline": _deadline(now, selected),
        "shipping_types": [_type(t, now) | {"total_shipping_price": _total_shipping(lines, t)} for t in common],
        "shop_id": shop.shop_id,
        "shop_model": "MARKETPLACE",
        "shop_name": shop.shop_name,
    }


def _offer(
    offer: MiraklOffer,
    request: RateRequest,
    allowed: tuple[str, ...],
    selected: str,
    book: OfferBook,
    now: datetime,
) -> dict[str, Any]:
    available = offer.quantity if book.is_active(offer) else 0
    quantity = min(request.quantity, available)
    unit = _unit(offer, selected)
    currency = offer.currency_iso_code
    line_price = money(offer.price * quantity, currency)
    shipping = money(unit * quantity, currency)
    return {
        "allow_quote_requests": False,
        "allowed_shipping_types": [_type(t, now) for t in allowed],
        "fulfillment": {"center": {"code": "DEFAULT"}},
        "line_only_shipping_price": shipping,
        "line_only_total_price": money(line_price + shipping, currency),
        "line_original_quantity": request.quantity,
        "line_price": line_price,
        "line_quantity": quantity,
        "line_shipping_price": shipping,
        "line_total_price": money(line_price + shipping, currency),
        "offer_id": offer.offer_id,
        "offer_price": money(offer.price, currency),
        "offer_quantity": available,
        "product_category_code": "SANDBOX",
        "product_tax_code": "",
        "shipping_price_additional_unit": unit,
        "shipping_price_unit": unit,
    }


def _unit(offer: MiraklOffer, shipping_type: str) -> Decimal:
    return money(offer.min_shipping_price * PRICE_FACTOR.get(shipping_type, Decimal("1")), offer.currency_iso_code)


def _total_shipping(lines: list[tuple[MiraklOffer, RateRequest, tuple[str, ...]]], shipping_type: str) -> Decimal:
    total = sum((_unit(offer, shipping_type) * request.quantity for offer, request, _ in lines), Decimal("0"))
    return money(total, lines[0][0].currency_iso_code) if lines else Decimal("0")


def _type(code: str, now: datetime) -> dict[str, Any]:
    earliest, latest = DELIVERY_DAYS.get(code, (3, 5))
    return {
        "code": code,
        "label": SHIPPING_TYPES.get(code, code),
        "shipping_deadline": _deadline(now, code),
        "delivery_time": {
            "earliest_days": earliest,
            "latest_days": latest,
            "earliest_delivery_date": iso(now + timedelta(days=earliest)),
            "latest_delivery_date": iso(now + timedelta(days=latest)),
        },
    }


def _deadline(now: datetime, code: str) -> str | None:
    return iso(now + timedelta(days=1 if code in ("EXP", "NXT") else 2))
