"""Shops and offers as Mirakl holds them, indexed so that exports cost O(rows returned).

Offers are copied from the seed world (the world is shared with the BigCommerce emulator and must not move
when Mirakl-side offers change). An offer of a shop that is not OPEN is exported as inactive, as Mirakl does
when a seller is suspended or closed. Every change bumps `last_updated`, which drives the differential
exports (OF51, OF52 with `last_request_date`).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from copy import copy
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.mirakl.formats import iso, money, to_millis

__all__ = ["CSV_COLUMNS", "MODELS", "MiraklOffer", "OfferBook", "Shop"]

CSV_COLUMNS = (
    "offer-id", "product-sku", "min-shipping-price", "min-shipping-price-additional", "min-shipping-zone",
    "min-shipping-type", "price", "total-price", "price-additional-info", "quantity", "description", "state-code",
    "shop-id", "shop-name", "professional", "premium", "logistic-class", "active", "favorite-rank", "channels",
    "deleted", "origin-price", "discount-start-date", "discount-end-date", "available-start-date",
    "available-end-date", "discount-price", "currency-iso-code", "discount-ranges", "leadtime-to-ship",
    "allow-quote-requests", "price-ranges", "fulfillment-center-code", "shop-sku", "date-created", "last-updated",
    "model", "min-order-quantity", "max-order-quantity", "package-quantity", "retail-price", "origin-retail-price",
)  # fmt: skip
# mmp-front-openapi.yaml, OF52_Request.models / OF51 `models`: "platform models to filter with. Accepted values
# are MARKETPLACE, DROPSHIP, ONE_CREDITOR".
MODELS = frozenset({"MARKETPLACE", "DROPSHIP", "ONE_CREDITOR"})


@dataclass
class Shop:
    shop_id: int
    shop_name: str
    shop_state: str
    currency_iso_code: str
    refuses_orders: bool
    commission_rate: Decimal  # percent of price + shipping
    date_created: datetime
    last_updated_date: datetime
    shipping_types: dict[str, tuple[str, ...]] = field(default_factory=dict)  # zone -> shipping type codes

    @property
    def is_open(self) -> bool:
        return self.shop_state == "OPEN"

    def ships(self, zone: str, shipping_type: str) -> bool:
        """Whether the shop's shipping settings offer `shipping_type` in `zone`."""
        return shipping_type in self.shipping_types.get(zone, ())


@dataclass
class MiraklOffer:
    offer_id: int
    shop_id: int
    product_sku: str
    shop_sku: str
    price: Decimal
    min_shipping_price: Decimal
    quantity: int
    active: bool
    deleted: bool
    currency_iso_code: str
    date_created: datetime
    last_updated: datetime
    state_code: str = "11"  # "new" on most tenants
    leadtime_to_ship: int = 2
    # OF54 `model`: "The platform model of the seller account providing the offer". For DROPSHIP, `price` is the
    # purchase price (OF54 `prices[]`: "For Dropship specifically: the list of purchasing prices of the offer")
    # and `retail_price` the selling price (OF54 `retail_prices[]`: "also referred to as selling prices").
    model: str = "MARKETPLACE"
    retail_price: Decimal | None = None
    # Fault injection, not Mirakl behaviour: raw values a test plants over this offer's export row (JSON field
    # names; the CSV row gets them under the kebab-case column), to play a seller feed that sends what the spec
    # does not allow (a quantity beyond int32, a 300-character SKU, text where a number belongs).
    export_overrides: dict[str, Any] = field(default_factory=dict)


def _copied(offer: MiraklOffer) -> MiraklOffer:
    """A copy of the offer that later changes to it (planted export defects included) do not reach.

    Its field dict copied into a bare instance: `copy.copy` goes through `__reduce_ex__` and cost ~20 µs an
    offer, so a million-offer OF52 outlived a client's timeout.
    """
    twin = object.__new__(MiraklOffer)
    twin.__dict__.update(offer.__dict__)
    if offer.export_overrides:
        twin.export_overrides = dict(offer.export_overrides)
    return twin


def _millis(moment: datetime) -> int:
    return int(to_millis(moment).timestamp() * 1000)


def _flag(value: bool) -> str:
    return "true" if value else "false"


class OfferBook:
    """All offers by id, plus a (last_updated, offer_id) index for deltas and a sorted id list for full dumps."""

    def __init__(self, shops: dict[int, Shop]) -> None:
        self.shops = shops
        self.offers: dict[int, MiraklOffer] = {}
        self._by_updated: list[tuple[int, int]] = []
        self._sorted_ids: list[int] = []
        self.count_by_shop: dict[int, int] = {}

    def add(self, offer: MiraklOffer) -> None:
        offer.last_updated = to_millis(offer.last_updated)
        self.offers[offer.offer_id] = offer
        insort(self._by_updated, (_millis(offer.last_updated), offer.offer_id))
        insort(self._sorted_ids, offer.offer_id)
        self.count_by_shop[offer.shop_id] = self.count_by_shop.get(offer.shop_id, 0) + 1

    def touch(self, offer: MiraklOffer, now: datetime) -> None:
        """Record a change: move the offer to `now` in the delta index."""
        old = (_millis(offer.last_updated), offer.offer_id)
        position = bisect_left(self._by_updated, old)
        if position < len(self._by_updated) and self._by_updated[position] == old:
            del self._by_updated[position]
        offer.last_updated = to_millis(now)
        insort(self._by_updated, (_millis(offer.last_updated), offer.offer_id))

    def is_active(self, offer: MiraklOffer) -> bool:
        shop = self.shops.get(offer.shop_id)
        return offer.active and not offer.deleted and shop is not None and shop.is_open

    def is_orderable(self, offer: MiraklOffer, quantity: int) -> bool:
        return self.is_active(offer) and 0 < quantity <= offer.quantity

    def select(
        self, since: datetime | None, include_inactive: bool = False, models: frozenset[str] | None = None
    ) -> list[MiraklOffer]:
        """Offers for an export, sorted by offer id: the delta since `since`, or the full dump; only the offers of
        seller accounts of `models` when given (the OF51/OF52 `models` filter)."""
        if since is None:
            everything = (self.offers[offer_id] for offer_id in self._sorted_ids)
            chosen = [o for o in everything if not o.deleted and (include_inactive or self.is_active(o))]
        else:
            start = bisect_left(self._by_updated, (_millis(since), -1))
            chosen = [
                self.offers[offer_id] for offer_id in sorted(offer_id for _, offer_id in self._by_updated[start:])
            ]
        return chosen if models is None else [o for o in chosen if o.model in models]

    def frozen(self, offers: list[MiraklOffer]) -> tuple[OfferBook, list[MiraklOffer]]:
        """The offers and their shops as they are now, for an export rendered later (see `OfferExport`).

        Copies, not references: an offer or a shop that changes after the request must not change the export.
        Copying is cheap next to rendering a row, so a million-offer OF52 answers at once, as Mirakl's does.
        """
        book = OfferBook({shop_id: copy(shop) for shop_id, shop in self.shops.items()})
        return book, [_copied(offer) for offer in offers]

    def to_json(self, offer: MiraklOffer) -> dict[str, Any]:
        """One OF54 JSON export object (with any planted defect); deleted offers carry only their identifiers."""
        return {**self._json(offer), **offer.export_overrides}

    def to_csv_row(self, offer: MiraklOffer) -> dict[str, str]:
        """One OF51 / OF52-CSV row (with any planted defect); deleted offers fill only the identifier columns."""
        planted = {name.replace("_", "-"): str(value) for name, value in offer.export_overrides.items()}
        return {**self._csv_row(offer), **planted}

    def _json(self, offer: MiraklOffer) -> dict[str, Any]:
        if offer.deleted:
            return {
                "offer_id": offer.offer_id,
                "product_sku": offer.product_sku,
                "shop_id": offer.shop_id,
                "shop_sku": offer.shop_sku,
                "active": False,
                "deleted": True,
            }
        shop = self.shops.get(offer.shop_id)
        return {
            "offer_id": offer.offer_id,
            "product_sku": offer.product_sku,
            "shop_id": offer.shop_id,
            "shop_name": shop.shop_name if shop else None,
            "shop_sku": offer.shop_sku,
            "quantity": offer.quantity,
            "active": self.is_active(offer),
            "deleted": False,
            "currency_iso_code": offer.currency_iso_code,
            "state_code": offer.state_code,
            "prices": [
                {
                    "origin_price": money(offer.price, offer.currency_iso_code),
                    "discount_price": None,
                    "discount_start_date": None,
                    "discount_end_date": None,
                    "volume_prices": [
                        {
                            "quantity_threshold": 1,
                            "unit_origin_price": money(offer.price, offer.currency_iso_code),
                            "unit_discount_price": None,
                        }
                    ],
                }
            ],
            "min_shipping_price": money(offer.min_shipping_price, offer.currency_iso_code),
            "min_shipping_price_additional": money(offer.min_shipping_price, offer.currency_iso_code),
            "min_shipping_zone": "US",
            "min_shipping_type": "STD",
            "leadtime_to_ship": offer.leadtime_to_ship,
            "logistic_class": {"code": "STANDARD"},
            "channels": [],
            "model": offer.model,
            "is_professional": True,
            "premium": False,
            "favorite_rank": None,
            "min_order_quantity": None,
            "max_order_quantity": None,
            "package_quantity": 1,
            "allow_quote_requests": False,
            "date_created": iso(offer.date_created),
            "last_updated": iso(offer.last_updated),
            "offer_additional_fields": [],
            "warehouses": [],
            **self._retail_json(offer),
        }

    @staticmethod
    def _retail_json(offer: MiraklOffer) -> dict[str, Any]:
        """OF54 `retail_prices[]` ("Applicable only for Dropship offers"), shaped like its RetailPrices schema."""
        if offer.model != "DROPSHIP" or offer.retail_price is None:
            return {}
        retail = money(offer.retail_price, offer.currency_iso_code)
        entry = {"origin_price": retail, "discount_price": None, "discount_start_date": None, "discount_end_date": None}
        return {"retail_prices": [entry]}

    def _csv_row(self, offer: MiraklOffer) -> dict[str, str]:
        if offer.deleted:
            return {
                "offer-id": str(offer.offer_id),
                "product-sku": offer.product_sku,
                "shop-id": str(offer.shop_id),
                "shop-sku": offer.shop_sku,
                "active": "false",
                "deleted": "true",
            }
        shop = self.shops.get(offer.shop_id)
        price = money(offer.price, offer.currency_iso_code)
        shipping = money(offer.min_shipping_price, offer.currency_iso_code)
        return {
            "offer-id": str(offer.offer_id),
            "product-sku": offer.product_sku,
            "min-shipping-price": str(shipping),
            "min-shipping-price-additional": str(shipping),
            "min-shipping-zone": "US",
            "min-shipping-type": "STD",
            "price": str(price),
            "total-price": str(price + shipping),
            "quantity": str(offer.quantity),
            "state-code": offer.state_code,
            "shop-id": str(offer.shop_id),
            "shop-name": shop.shop_name if shop else "",
            "professional": "true",
            "premium": "false",
            "logistic-class": "STANDARD",
            "active": _flag(self.is_active(offer)),
            "deleted": "false",
            "origin-price": str(price),
            "currency-iso-code": offer.currency_iso_code,
            "leadtime-to-ship": str(offer.leadtime_to_ship),
            "allow-quote-requests": "false",
            "shop-sku": offer.shop_sku,
            "date-created": iso(offer.date_created) or "",
            "last-updated": iso(offer.last_updated) or "",
            "model": offer.model,
            "package-quantity": "1",
            # OF51 `retail-price`: "Offer current retail price ... Applicable only for Dropship offers".
            **(
                {
                    "retail-price": str(money(offer.retail_price, offer.currency_iso_code)),
                    "origin-retail-price": str(money(offer.retail_price, offer.currency_iso_code)),
                }
                if offer.model == "DROPSHIP" and offer.retail_price is not None
                else {}
            ),
        }
