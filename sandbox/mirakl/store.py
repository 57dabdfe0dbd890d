"""The emulator's whole in-memory tenant, seeded from the shared sandbox world.

`MiraklStore` owns the shops, offers, offer imports, orders, ledger, async offer exports and OAuth tokens, and
gives tests a few helpers to read them. Seeding adds what a tenant has before any order arrives: shops from the
world's sellers (with per-shop commission rates), their offers, and one offer import per shop (one FAILED, one
COMPLETE with errors). Orders only ever arrive through OR01.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.mirakl.catalog import MiraklOffer, OfferBook, Shop
from sandbox.mirakl.finance import Ledger
from sandbox.mirakl.formats import to_millis
from sandbox.mirakl.imports import ImportBook, OfferImport
from sandbox.mirakl.orders import Order
from sandbox.mirakl.reference import commission_rate_for
from sandbox.mirakl.settings import MiraklSandboxSettings
from sandbox.mirakl.workflow import OrderBook
from sandbox.seed import World

__all__ = ["MiraklStore", "OfferExport"]

TOKEN_LIFETIME = timedelta(seconds=3599)
FAILED_FEED_POSITION = 1  # the seller whose last offer import FAILED
PARTIAL_FEED_POSITION = 2  # the seller whose last import COMPLETED with lines in error


@dataclass
class OfferExport:
    """One OF52 request: the offers as they were at request time, served in chunks once COMPLETED.

    mmp-front-openapi.yaml, OF52: the export is asynchronous ("OF53 ... status of the export", "OF54 ... download
    the export file"), so the request answers at once with a tracking id. The emulator keeps a copy of the
    selected offers and of their shops (`OfferBook.frozen`) and renders a chunk's rows when OF54 asks for it;
    rendering a million rows inside OF52 took longer than a client's read timeout.
    """

    tracking_id: str
    request_key: str
    export_type: str
    book: OfferBook
    offers: list[MiraklOffer]
    per_chunk: int
    created: datetime
    polls: int = 0
    status: str = "PENDING"

    @property
    def chunk_count(self) -> int:
        """Chunks the export is split into; an empty export is one empty chunk."""
        return max(1, -(-len(self.offers) // self.per_chunk))

    def chunk(self, number: int) -> list[dict[str, Any]]:
        """The rows of chunk `number`: OF54 JSON objects or OF51-style CSV rows, per the export type."""
        offers = self.offers[number * self.per_chunk : (number + 1) * self.per_chunk]
        render = self.book.to_json if self.export_type == "application/json" else self.book.to_csv_row
        return [render(offer) for offer in offers]


@dataclass
class MiraklStore:
    settings: MiraklSandboxSettings
    shops: dict[int, Shop] = field(default_factory=dict)
    exports: dict[str, OfferExport] = field(default_factory=dict)
    tokens: dict[str, tuple[datetime, str]] = field(default_factory=dict)  # token -> (expiry, role)

    def __post_init__(self) -> None:
        self.catalog = OfferBook(self.shops)
        self.imports = ImportBook()
        self.ledger = Ledger(self.shops, self.now())
        self.orders = OrderBook(self.shops, self.catalog, self.ledger)

    def now(self) -> datetime:
        return to_millis(self.settings.now())

    # --- seeding -------------------------------------------------------------------------------------------------

    @classmethod
    def from_world(cls, world: World, settings: MiraklSandboxSettings) -> MiraklStore:
        store = cls(settings)
        now = store.now()
        for position, seller in enumerate(world.sellers):
            store.shops[seller.shop_id] = Shop(
                shop_id=seller.shop_id,
                shop_name=seller.shop_name,
                shop_state=seller.shop_state,
                currency_iso_code=seller.currency_iso_code,
                refuses_orders=seller.refuses_orders,
                commission_rate=commission_rate_for(position),
                date_created=min(now, world.orders[0].created if world.orders else now) - timedelta(days=90),
                last_updated_date=now - timedelta(days=1),
                shipping_types=dict(seller.shipping_types),
            )
        for offer in world.offers:
            store.catalog.add(
                MiraklOffer(
                    offer_id=offer.offer_id,
                    shop_id=offer.shop_id,
                    product_sku=offer.product_sku,
                    shop_sku=offer.shop_sku,
                    price=offer.price,
                    min_shipping_price=offer.min_shipping_price,
                    quantity=offer.quantity,
                    active=offer.active,
                    deleted=offer.deleted,
                    currency_iso_code=offer.currency_iso_code,
                    date_created=offer.last_updated - timedelta(days=30),
                    last_updated=offer.last_updated,
                    model=offer.model,
                    retail_price=offer.retail_price,
                )
            )
        store._seed_imports(world, now)
        return store

    def _seed_imports(self, world: World, now: datetime) -> None:
        counts: dict[int, int] = {}
        for offer in world.offers:
            counts[offer.shop_id] = counts.get(offer.shop_id, 0) + 1
        sellers = world.sellers
        for position, seller in enumerate(sellers):
            lines = counts.get(seller.shop_id, 0)
            created = now - timedelta(minutes=10 * (len(sellers) - position))
            offer_import = OfferImport(
                import_id=self.imports.next_id(),
                shop_id=seller.shop_id,
                date_created=created,
                status="COMPLETE",
                lines_read=lines,
                lines_in_success=lines,
                lines_in_error=0,
                offer_updated=lines,
            )
            if position == FAILED_FEED_POSITION:
                offer_import.status = "FAILED"
                offer_import.lines_in_success = offer_import.offer_updated = 0
                offer_import.reason_status = "The file could not be read: invalid header on line 1"
            elif position == PARTIAL_FEED_POSITION:
                errors = max(1, lines // 3)
                offer_import.lines_in_error = errors
                offer_import.lines_in_success = offer_import.offer_updated = lines - errors
            self.imports.add(offer_import)

    # --- OAuth tokens --------------------------------------------------------------------------------------------

    def issue_token(self, role: str) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = (self.now() + TOKEN_LIFETIME, role)
        return token

    def token_role(self, token: str) -> str | None:
        """The role of a live token, None when unknown or expired."""
        issued = self.tokens.get(token)
        if issued is None or self.now() >= issued[0]:
            return None
        return issued[1]

    # --- async offer exports (OF52/OF53/OF54) --------------------------------------------------------------------

    def start_export(self, body: dict[str, Any], offers: list[MiraklOffer], export_type: str, per_chunk: int) -> str:
        """A new export of `offers`, or the pending one with the same request (Mirakl answers duplicates with it)."""
        request_key = json.dumps(body, sort_keys=True, default=str)
        for export in self.exports.values():
            if export.request_key == request_key and export.status == "PENDING":
                return export.tracking_id
        tracking_id = str(uuid.uuid4())
        book, frozen = self.catalog.frozen(offers)
        export = OfferExport(tracking_id, request_key, export_type, book, frozen, per_chunk, self.now())
        self.exports[tracking_id] = export
        return tracking_id

    # --- helpers for tests ---------------------------------------------------------------------------------------

    def order(self, order_id: str) -> Order:
        return self.orders.get(order_id)

    def orders_of(self, commercial_id: str) -> list[Order]:
        return [self.orders.orders[i] for i in self.orders.by_commercial.get(commercial_id, [])]

    def offer(self, offer_id: int) -> MiraklOffer:
        return self.catalog.offers[offer_id]

    def transactions(self, order_id: str | None = None) -> list[Any]:
        keys = self.ledger.by_order.get(order_id, []) if order_id else self.ledger.keys
        return [self.ledger.lines[seq] for _, seq in keys]
