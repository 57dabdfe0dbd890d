"""The offer book as frames: the offer sync's copy of every seller's live offer per Mirakl product.

Choosing a product's best offer needs all its offers, but a delta export carries only those that changed, so
the book (a state-store table, `connectors.state.offer_book`) keeps them. Deleted offers leave it; offers the
gate refused stay with their reason and are not selected until a good update replaces them. This module only
converts between the cycle's pandas frames and the repository's rows; it holds no SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from connectors.state import (
    block_offers_of_shops,
    delete_offers,
    iter_offer_book,
    iter_offer_ids,
    offers_for_products,
    upsert_offer_book_columns,
)
from connectors.state.offer_book import BOOK_COLUMNS as _COLUMNS
from connectors.state.offer_book import stored_money

__all__ = ["BOOK_COLUMNS", "WrittenBook", "block_shops", "changed_skus", "read_book", "write_book"]

BOOK_COLUMNS = list(_COLUMNS)
# Offers turned into row dicts at a time: a million at once would hold a million dicts.
WRITE_CHUNK = 20_000


def read_book(session: Session, product_skus: Iterable[str] | None = None) -> pd.DataFrame:
    """The book as a frame (money as Decimal): every offer, or only the offers of `product_skus`."""
    if product_skus is None:
        rows = [row for page in iter_offer_book(session) for row in page]
    else:
        rows = offers_for_products(session, product_skus)
    return pd.DataFrame([tuple(row) for row in rows], columns=BOOK_COLUMNS)


class WrittenBook:
    """The book a `full` write has just left, kept in hand: `read_book` of some products without reading them back.

    A full export is the whole truth, so after `write_book(..., full=True)` the book holds exactly its offers
    (the last row of an offer id wins, as in the upsert), and then the blocks the caller applies to the store
    and here alike. `of_products` gives the same frame `read_book` would (the same row values: money through
    the store's own column conversion, timestamps as the aware UTC datetimes the write was given; row order
    aside, which selection ignores), one partition at a time, so nothing catalog-sized beyond the caller's
    offers frame is held.
    """

    def __init__(self, session: Session, offers: pd.DataFrame) -> None:
        self._session = session
        self._offers = offers if offers["offer_id"].is_unique else offers.drop_duplicates("offer_id", keep="last")
        self._shop_blocks: dict[int, str] = {}
        self._offer_blocks: dict[int, str] = {}
        self._by_sku: _SkuPositions | None = None

    def block_shops(self, shop_ids: Iterable[int], reason: str) -> None:
        """As `block_shops` did to the store: every offer of these shops carries `reason`."""
        self._shop_blocks.update(dict.fromkeys((int(shop_id) for shop_id in shop_ids), reason))

    def block_offers(self, offer_ids: Iterable[int], reason: str) -> None:
        """As `connectors.state.block_offers` did to the store, after the shops: these offers carry `reason`."""
        self._offer_blocks.update(dict.fromkeys((int(offer_id) for offer_id in offer_ids), reason))

    def of_products(self, product_skus: Iterable[str]) -> pd.DataFrame:
        """The offers of these products, as `read_book(session, product_skus)` reads them after the write."""
        if self._by_sku is None:
            self._by_sku = _SkuPositions(self._offers["product_sku"])
        offers = self._offers.iloc[self._by_sku.of(product_skus)]
        if offers.empty:
            return pd.DataFrame([], columns=BOOK_COLUMNS)
        columns = _columns(offers)
        columns["price"] = stored_money(self._session, columns["price"])
        columns["shipping"] = stored_money(self._session, columns["shipping"])
        if self._shop_blocks or self._offer_blocks:
            columns["blocked_reason"] = [
                self._offer_blocks.get(offer_id, self._shop_blocks.get(shop_id, reason))
                for offer_id, shop_id, reason in zip(
                    columns["offer_id"], columns["shop_id"], columns["blocked_reason"], strict=True
                )
            ]
        return pd.DataFrame(list(zip(*columns.values(), strict=True)), columns=BOOK_COLUMNS)


class _SkuPositions:
    """Where each product's offers sit in a frame, grouped once: a full run asks for its offers a partition of
    products at a time, and a membership test of every offer per partition (`isin`) walked the whole export
    twenty times at a million offers."""

    def __init__(self, skus: pd.Series) -> None:
        codes, uniques = pd.factorize(skus)  # a missing SKU is -1: no product asks for it
        self._codes = pd.Index(uniques)
        self._order = np.argsort(codes, kind="stable")
        self._bounds = np.searchsorted(codes[self._order], np.arange(len(uniques) + 1))

    def of(self, product_skus: Iterable[str]) -> np.ndarray:
        """Positions of the offers of these products, in the frame's order (as a boolean mask would give)."""
        codes = self._codes.get_indexer(pd.unique(pd.Series(list(product_skus), dtype=object)))
        codes = codes[codes >= 0]
        starts = self._bounds[codes]
        lengths = self._bounds[codes + 1] - starts
        # Each product's run of sorted positions, concatenated: start repeated per offer plus its offset within.
        within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return np.sort(self._order[np.repeat(starts, lengths) + within])


def write_book(session: Session, offers: pd.DataFrame, deleted_ids: Iterable[int], *, full: bool = False) -> None:
    """Upsert the offers read (with their gate verdict) and drop deleted ones, in the caller's transaction.

    A `full` export is the whole truth: offers it no longer lists leave the book too.
    """
    gone = {int(offer_id) for offer_id in deleted_ids}
    if full:
        listed = set(offers["offer_id"].astype("int64").tolist())
        gone |= {offer_id for page in iter_offer_ids(session) for offer_id in page if offer_id not in listed}
    delete_offers(session, sorted(gone))
    for start in range(0, len(offers), WRITE_CHUNK):
        chunk = offers.iloc[start : start + WRITE_CHUNK]
        if not chunk.empty:
            upsert_offer_book_columns(session, _columns(chunk))


def block_shops(session: Session, shop_ids: Iterable[int], reason: str) -> None:
    """Block every offer of these shops (their feed tripped the breaker) until a good update arrives."""
    block_offers_of_shops(session, shop_ids, reason)


def changed_skus(session: Session, offers: pd.DataFrame) -> set[str]:
    """SKUs of `offers` with an offer the book lacks or holds differently (a re-read of the overlap is not new)."""
    if offers.empty:
        return set()
    held = {_fingerprint(row) for row in offers_for_products(session, set(offers["product_sku"]))}
    return {
        str(row[1]) for row in offers[BOOK_COLUMNS].itertuples(index=False, name=None) if _fingerprint(row) not in held
    }


def _fingerprint(row: Any) -> tuple[Any, ...]:
    offer_id, sku, shop_id, price, shipping, quantity, active, currency = tuple(row)[:8]
    return (
        int(offer_id),
        sku,
        _int(shop_id),
        _money(price),
        _money(shipping),
        _int(quantity),
        None if _missing(active) else bool(active),
        _value(currency),
    )


def _money(value: Any) -> str | None:
    return None if _missing(value) else format(Decimal(value).normalize(), "f")


def _columns(offers: pd.DataFrame) -> dict[str, list[Any]]:
    """The book's columns of `offers` as lists of the values the store is given (None where missing), built
    column by column: a null test per value (`pd.isna` on each of a million offers' ten fields) cost more than
    the write, and the store takes them as columns (no dict per offer)."""
    frame = offers[BOOK_COLUMNS]
    return {
        "offer_id": [int(offer_id) for offer_id in frame["offer_id"].tolist()],
        "product_sku": frame["product_sku"].tolist(),
        "shop_id": _ints(frame["shop_id"]),
        "price": _values(frame["price"]),
        "shipping": _values(frame["shipping"]),
        "quantity": _ints(frame["quantity"]),
        "active": [None if value is None else bool(value) for value in _values(frame["active"])],
        "currency": _values(frame["currency"]),
        "last_updated": _datetimes(frame["last_updated"]),
        "blocked_reason": _values(frame["blocked_reason"]),
    }


def _values(column: pd.Series) -> list[Any]:
    """The column's values, None where missing (None, NaN, NaT, NA: what `_missing` says of each value)."""
    return [value if present else None for value, present in zip(column.tolist(), column.notna().tolist(), strict=True)]


def _ints(column: pd.Series) -> list[int | None]:
    """The column's values as Python ints, None where missing (a float column where a value is missing)."""
    return [None if value is None else int(value) for value in _values(column)]


def _datetimes(column: pd.Series) -> list[Any]:
    """The column as aware UTC datetimes (what the store binds), None where missing; converted as one array."""
    stamps = pd.to_datetime(column, utc=True)
    return [
        value if present else None
        for value, present in zip(stamps.array.to_pydatetime(), stamps.notna().tolist(), strict=True)
    ]


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _value(value: Any) -> Any:
    return None if _missing(value) else value


def _int(value: Any) -> int | None:
    return None if _missing(value) else int(value)
