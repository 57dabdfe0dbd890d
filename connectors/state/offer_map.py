"""The offer map: each Mirakl product, the BigCommerce variant that sells it, and what was last pushed.

It is the bridge's source of truth for ids and ownership, and the base of every diff: a push is needed
only when the new `pushed_hash` differs from the stored one. Sized for 100k+ products, so writes are bulk
and reads come in pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.state._sql import IN_CHUNK_SIZE, chunks, upsert_rows
from connectors.state.models import OfferMapping

__all__ = ["get_offer_map", "iter_offer_map", "upsert_offer_map"]

DEFAULT_PAGE_SIZE = 1000


def upsert_offer_map(session: Session, rows: Iterable[Mapping[str, Any]], now: datetime | None = None) -> int:
    """Insert or update rows keyed by `product_sku`; a row updates only the columns it carries."""
    return upsert_rows(session, OfferMapping.__table__, rows, ["product_sku"], now=now)


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
