"""The offer map: each Mirakl product, the BigCommerce variant that sells it, and what was last pushed.

It is the bridge's source of truth for ids and ownership, and the base of every diff: a push is needed
only when the new `pushed_hash` differs from the stored one. Sized for 100k+ products, so writes are bulk
and reads come in pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from connectors.state._sql import IN_CHUNK_SIZE, among, chunks, upsert_columns, upsert_rows
from connectors.state.models import OfferBookEntry, OfferMapping

__all__ = [
    "get_offer_map",
    "iter_offer_map",
    "offer_map_rows",
    "owned_among",
    "skus_sold_by",
    "unbuyable_on_sale",
    "upsert_offer_map",
    "upsert_offer_map_columns",
]

DEFAULT_PAGE_SIZE = 1000

_MAP = OfferMapping.__table__
_BOOK = OfferBookEntry.__table__


def upsert_offer_map(session: Session, rows: Iterable[Mapping[str, Any]], now: datetime | None = None) -> int:
    """Insert or update rows keyed by `product_sku`; a row updates only the columns it carries."""
    return upsert_rows(session, OfferMapping.__table__, rows, ["product_sku"], now=now)


def upsert_offer_map_columns(session: Session, columns: Mapping[str, Sequence[Any]]) -> int:
    """`upsert_offer_map` for rows given as equal-length columns, every row carrying every column given (a push
    settles thousands a claim: no dict per row)."""
    return upsert_columns(session, _MAP, columns, ["product_sku"])


def get_offer_map(session: Session, product_skus: Iterable[str]) -> dict[str, OfferMapping]:
    """The mapped rows among `product_skus`, by SKU; unknown SKUs are simply absent."""
    found: dict[str, OfferMapping] = {}
    for batch in chunks(dict.fromkeys(product_skus), IN_CHUNK_SIZE):
        query = (
            select(OfferMapping).where(OfferMapping.product_sku.in_(batch)).execution_options(populate_existing=True)
        )
        found.update({row.product_sku: row for row in session.scalars(query)})
    return found


def iter_offer_map(
    session: Session, owner: str | None = None, page_size: int = DEFAULT_PAGE_SIZE
) -> Iterator[list[OfferMapping]]:
    """Every row (or one owner's), in pages ordered by id; keyset paging keeps each page query cheap."""
    last_id = 0
    while True:
        query = (
            select(OfferMapping)
            .where(OfferMapping.id > last_id)
            .order_by(OfferMapping.id)
            .limit(page_size)
            .execution_options(populate_existing=True)
        )
        if owner is not None:
            query = query.where(OfferMapping.owner == owner)
        page = list(session.scalars(query))
        if not page:
            return
        yield page
        last_id = page[-1].id


def offer_map_rows(
    session: Session, columns: Iterable[str], product_skus: Iterable[str] | None = None
) -> list[Row[Any]]:
    """Plain row tuples of `columns`: every row, or the rows of `product_skus` (unknown SKUs are absent)."""
    selected = [_MAP.c[name] for name in columns]
    if product_skus is None:
        return list(session.execute(select(*selected)).all())
    found: list[Row[Any]] = []
    for batch in chunks(dict.fromkeys(product_skus), IN_CHUNK_SIZE):
        found.extend(session.execute(select(*selected).where(among(session, _MAP.c.product_sku, batch))).all())
    return found


def skus_sold_by(session: Session, shop_ids: Iterable[int]) -> set[str]:
    """Products whose last pushed winner is an offer of one of these shops."""
    shops = sorted({int(shop_id) for shop_id in shop_ids})
    if not shops:
        return set()
    return set(session.scalars(select(_MAP.c.product_sku).where(_MAP.c.shop_id.in_(shops))))


def unbuyable_on_sale(session: Session, shop_ids: Iterable[int]) -> set[str]:
    """Products not (known) buyable on the storefront that an offer of the book could sell: active, in stock,
    priced, not blocked, from one of these shops (the selection's rule, `tasks.offers.select.eligible_offers`).

    One query over the map and the book, so a delta finds the few products a recovered seller could sell again
    without reading every unbuyable product of a big catalog.
    """
    shops = sorted({int(shop_id) for shop_id in shop_ids})
    if not shops:
        return set()
    on_sale = select(_BOOK.c.product_sku).where(
        _BOOK.c.active.is_(True),
        _BOOK.c.quantity > 0,
        _BOOK.c.price.is_not(None),
        _BOOK.c.blocked_reason.is_(None),
        _BOOK.c.shop_id.in_(shops),
    )
    unbuyable = (_MAP.c.purchasable.is_(None)) | (_MAP.c.purchasable.is_(False))
    query = select(_MAP.c.product_sku).where(unbuyable, _MAP.c.product_sku.in_(on_sale))
    return set(session.scalars(query))


def owned_among(session: Session, variant_ids: Iterable[int]) -> set[int]:
    """Which of these BigCommerce variants the map holds as Mirakl-owned (the push writes no other)."""
    owned: set[int] = set()
    for batch in chunks(dict.fromkeys(int(v) for v in variant_ids), IN_CHUNK_SIZE):
        # The owner is tested here, not in SQL: with both in the WHERE clause SQLite's planner walked the owner
        # index (every Mirakl-owned row, ~19 ms per 1,000 ids at 100,000 rows) instead of looking the ids up.
        query = select(_MAP.c.bc_variant_id, _MAP.c.owner).where(among(session, _MAP.c.bc_variant_id, batch))
        owned.update(int(variant) for variant, owner in session.execute(query).all() if owner == "mirakl")
    return owned
