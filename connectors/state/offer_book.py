"""The offer book and the offer metafield ids: the offer sync's memory of Mirakl offers and storefront metafields.

The book holds every seller's live offer per Mirakl product, so a delta export (only the offers that changed)
can still re-decide a product's best offer. The metafield rows hold, per Mirakl-owned variant, the id of the
metafield that shows its winning offer and runners-up, and the hash of what was last written there. Sized for
100k+ offers: writes are chunked executemany, reads return plain row tuples, not ORM objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.orm import Session

from connectors.state._sql import IN_CHUNK_SIZE, among, chunks, upsert_columns, upsert_rows
from connectors.state.models import OfferBookEntry, OfferMetafieldState

__all__ = [
    "BOOK_COLUMNS",
    "block_offers",
    "block_offers_of_shops",
    "delete_offers",
    "iter_offer_book",
    "iter_offer_ids",
    "offer_metafields_for",
    "offers_for_products",
    "stored_money",
    "upsert_offer_book",
    "upsert_offer_book_columns",
    "upsert_offer_metafield_columns",
    "upsert_offer_metafields",
]

# Column order of the row tuples the book's reads return.
BOOK_COLUMNS = (
    "offer_id",
    "product_sku",
    "shop_id",
    "price",
    "shipping",
    "quantity",
    "active",
    "currency",
    "last_updated",
    "blocked_reason",
)
DEFAULT_PAGE_SIZE = 20_000

_BOOK = OfferBookEntry.__table__
_METAFIELDS = OfferMetafieldState.__table__
_UNSEEN = object()


def upsert_offer_book(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert or replace offers keyed by `offer_id`; a row updates only the columns it carries."""
    return upsert_rows(session, _BOOK, rows, ["offer_id"])


def upsert_offer_book_columns(session: Session, columns: Mapping[str, Sequence[Any]]) -> int:
    """`upsert_offer_book` for offers given as equal-length columns, every offer carrying every column given."""
    return upsert_columns(session, _BOOK, columns, ["offer_id"])


def stored_money(session: Session, amounts: Iterable[Any]) -> list[Decimal | None]:
    """The amounts as the book's money columns read them back on this session's engine, without writing them:
    the column type's own bind then result conversion (four places; through a float on SQLite)."""
    money = _BOOK.c.price.type
    dialect = session.get_bind().dialect
    bind, result = money.process_bind_param, money.process_result_value
    # A catalog repeats its prices (19.99, 24.99, ...): each distinct amount is converted once.
    stored: dict[Any, Decimal | None] = {None: None}
    converted: list[Decimal | None] = []
    for amount in amounts:
        value = stored.get(amount, _UNSEEN)
        if value is _UNSEEN:
            value = stored[amount] = result(bind(amount, dialect), dialect)
        converted.append(value)
    return converted


def delete_offers(session: Session, offer_ids: Iterable[int]) -> int:
    """Drop offers from the book (deleted in Mirakl, or absent from a full export); returns rows removed."""
    removed = 0
    for batch in chunks(dict.fromkeys(int(offer_id) for offer_id in offer_ids), IN_CHUNK_SIZE):
        removed += session.execute(delete(_BOOK).where(_BOOK.c.offer_id.in_(batch))).rowcount
    return removed


def offers_for_products(session: Session, product_skus: Iterable[str]) -> list[Row[Any]]:
    """Every offer of the given Mirakl products, as `BOOK_COLUMNS` tuples."""
    columns = [_BOOK.c[name] for name in BOOK_COLUMNS]
    found: list[Row[Any]] = []
    for batch in chunks(dict.fromkeys(product_skus), IN_CHUNK_SIZE):
        found.extend(session.execute(select(*columns).where(among(session, _BOOK.c.product_sku, batch))).all())
    return found


def iter_offer_book(session: Session, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[list[Row[Any]]]:
    """The whole book in pages of `BOOK_COLUMNS` tuples, ordered by offer id (keyset paging)."""
    columns = [_BOOK.c[name] for name in BOOK_COLUMNS]
    last_id: int | None = None
    while True:
        query = select(*columns).order_by(_BOOK.c.offer_id).limit(page_size)
        if last_id is not None:
            query = query.where(_BOOK.c.offer_id > last_id)
        page = session.execute(query).all()
        if not page:
            return
        yield page
        last_id = page[-1][0]


def iter_offer_ids(session: Session, page_size: int = DEFAULT_PAGE_SIZE * 5) -> Iterator[list[int]]:
    """Every offer id of the book in ascending pages (keyset paging), for a full export's sweep of gone offers."""
    last_id: int | None = None
    while True:
        query = select(_BOOK.c.offer_id).order_by(_BOOK.c.offer_id).limit(page_size)
        if last_id is not None:
            query = query.where(_BOOK.c.offer_id > last_id)
        page = list(session.scalars(query))
        if not page:
            return
        yield page
        last_id = page[-1]


def block_offers_of_shops(session: Session, shop_ids: Iterable[int], reason: str) -> int:
    """Mark every offer of these shops refused (`reason`) until a good update replaces it; returns rows hit."""
    shops = sorted({int(shop_id) for shop_id in shop_ids})
    if not shops:
        return 0
    return session.execute(update(_BOOK).where(_BOOK.c.shop_id.in_(shops)).values(blocked_reason=reason)).rowcount


def block_offers(session: Session, offer_ids: Iterable[int], reason: str) -> set[str]:
    """Mark these offers refused (`reason`) until a good update replaces them; returns the products they offer."""
    products: set[str] = set()
    for batch in chunks(sorted({int(offer_id) for offer_id in offer_ids}), IN_CHUNK_SIZE):
        products.update(session.scalars(select(_BOOK.c.product_sku).where(_BOOK.c.offer_id.in_(batch))))
        session.execute(update(_BOOK).where(_BOOK.c.offer_id.in_(batch)).values(blocked_reason=reason))
    return products


def upsert_offer_metafields(session: Session, rows: Iterable[Mapping[str, Any]], now: datetime | None = None) -> int:
    """Record metafield ids and pushed hashes keyed by `bc_variant_id`; a row updates only what it carries."""
    return upsert_rows(session, _METAFIELDS, rows, ["bc_variant_id"], now=now)


def upsert_offer_metafield_columns(session: Session, columns: Mapping[str, Sequence[Any]]) -> int:
    """`upsert_offer_metafields` for rows given as equal-length columns, every row carrying every column given."""
    return upsert_columns(session, _METAFIELDS, columns, ["bc_variant_id"])


def offer_metafields_for(
    session: Session, variant_ids: Iterable[int] | None = None
) -> dict[int, tuple[int | None, str | None, datetime]]:
    """(metafield id, pushed hash, updated at) per variant: the given variants, or every recorded one."""
    columns = (
        _METAFIELDS.c.bc_variant_id,
        _METAFIELDS.c.metafield_id,
        _METAFIELDS.c.pushed_hash,
        _METAFIELDS.c.updated_at,
    )
    if variant_ids is None:
        return {row[0]: (row[1], row[2], row[3]) for row in session.execute(select(*columns))}
    found: dict[int, tuple[int | None, str | None, datetime]] = {}
    for batch in chunks(dict.fromkeys(int(v) for v in variant_ids), IN_CHUNK_SIZE):
        query = select(*columns).where(among(session, _METAFIELDS.c.bc_variant_id, batch))
        found.update({row[0]: (row[1], row[2], row[3]) for row in session.execute(query)})
    return found
