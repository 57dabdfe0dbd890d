"""The offer sync's questions to the store at catalog scale: answered by indexed queries, not by loading tables.

A delta re-decides the products whose winner's seller became unusable and the unbuyable products an offer of the
book could now sell; the drain asks which claimed variants are Mirakl-owned; a full export sweeps the book's ids;
a claim's ledger rows are begun and closed in one statement each.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.state import (
    LedgerEntry,
    iter_offer_ids,
    ledger_begin_many,
    ledger_finish_many,
    offer_map_rows,
    owned_among,
    skus_sold_by,
    unbuyable_on_sale,
    upsert_offer_book,
    upsert_offer_map,
)

NOW = datetime(2026, 11, 2, tzinfo=UTC)


def _map_row(
    sku: str, variant: int, *, owner: str = "mirakl", shop: int | None = None, buyable: bool | None = None
) -> dict[str, object]:
    return {
        "product_sku": sku,
        "bc_product_id": variant + 1000,
        "bc_variant_id": variant,
        "bc_sku": sku,
        "owner": owner,
        "shop_id": shop,
        "purchasable": buyable,
    }


def _offer(
    offer_id: int, sku: str, shop: int, *, quantity: int = 3, active: bool = True, blocked: str | None = None
) -> dict[str, object]:
    return {
        "offer_id": offer_id,
        "product_sku": sku,
        "shop_id": shop,
        "price": Decimal("9.50"),
        "shipping": None,
        "quantity": quantity,
        "active": active,
        "currency": "USD",
        "last_updated": NOW,
        "blocked_reason": blocked,
    }


def test_a_delta_finds_the_unbuyable_products_an_offer_could_sell_and_the_products_of_unusable_sellers(
    session: Session,
) -> None:
    upsert_offer_map(
        session,
        [
            _map_row("SOLD-OUT", 1, buyable=False),  # its only offer has no stock: stays unbuyable
            _map_row("RECOVERED", 2, buyable=False),  # an offer of a usable seller is on sale
            _map_row("NEVER-PUSHED", 3),  # purchasable unknown, an offer on sale
            _map_row("BLOCKED", 4, buyable=False),  # its offer is refused by the gate
            _map_row("OTHER-SHOP", 5, buyable=False),  # on sale only from a seller that is not usable
            _map_row("ON-SALE", 6, shop=20, buyable=True),  # buyable already
        ],
    )
    upsert_offer_book(
        session,
        [
            _offer(11, "SOLD-OUT", 10, quantity=0),
            _offer(12, "RECOVERED", 10),
            _offer(13, "NEVER-PUSHED", 10),
            _offer(14, "BLOCKED", 10, blocked="price must be > 0"),
            _offer(15, "OTHER-SHOP", 30),
            _offer(16, "ON-SALE", 20),
        ],
    )
    assert unbuyable_on_sale(session, {10, 20}) == {"RECOVERED", "NEVER-PUSHED"}
    assert unbuyable_on_sale(session, set()) == set()
    assert skus_sold_by(session, {20}) == {"ON-SALE"}


def test_the_drain_learns_which_claimed_variants_are_mirakl_owned_and_reads_map_rows_by_sku(session: Session) -> None:
    upsert_offer_map(session, [_map_row("A", 1), _map_row("N", 2, owner="native"), _map_row("B", 3)])
    assert owned_among(session, [1, 2, 3, 4]) == {1, 3}
    rows = offer_map_rows(session, ["product_sku", "bc_variant_id"], ["B", "A", "unknown"])
    assert sorted(tuple(row) for row in rows) == [("A", 1), ("B", 3)]
    assert len(offer_map_rows(session, ["product_sku"])) == 3


def test_the_book_ids_come_in_ascending_pages(session: Session) -> None:
    upsert_offer_book(session, [_offer(offer_id, f"P{offer_id}", 10) for offer_id in (5, 1, 9, 3, 7)])
    assert list(iter_offer_ids(session, page_size=2)) == [[1, 3], [5, 7], [9]]


def test_a_claims_ledger_rows_are_begun_and_closed_together(session: Session) -> None:
    ledger_begin_many(session, "bigcommerce", "update_variants", [("k1", {"items": 50}), ("k2", None)])
    ledger_begin_many(session, "bigcommerce", "update_variants", [("k1", {"items": 1})])  # a repeat is ignored
    assert ledger_finish_many(session, "bigcommerce", "update_variants", ["k1", "k2"], "succeeded") == 2
    rows = session.scalars(select(LedgerEntry).order_by(LedgerEntry.idempotency_key)).all()
    assert [(row.idempotency_key, row.outcome, row.detail) for row in rows] == [
        ("k1", "succeeded", {"items": 50}),
        ("k2", "succeeded", None),
    ]
    assert all(row.finished_at is not None for row in rows)
