"""Best-offer selection: which seller's offer a BigCommerce variant carries, decided on whole frames.

One variant stands for one Mirakl product. Among the offers that may be sold (active, in stock, from an
open shop whose feed is healthy, not refused by the gate) the lowest total price wins (price plus shipping
when known), ties going to the lower price and then the lower offer id, so the same book always gives the
same winner. The next offers are the runners-up the theme shows (ids and price only: their stock moves
too often to be worth a storefront write). Pure pandas, tested without Prefect.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import pandas as pd

from connectors.mirakl import ExportedOffer
from tasks.offers.book import BOOK_COLUMNS

__all__ = [
    "RUNNERS_UP",
    "WINNER_COLUMNS",
    "ExportRows",
    "eligible_offers",
    "latest_update",
    "select_best",
]

RUNNERS_UP = 3
WINNER_COLUMNS = ["offer_id", "shop_id", "price", "quantity", "last_updated", "runners_up"]
_ZERO = Decimal("0")


class ExportRows:
    """The live offers of an export as compact row tuples, page by page, and the deleted ones.

    Each page's models are turned into tuples as it arrives and dropped, so an export of a million offers holds
    one page of models at a time, not a million (see `benchmarks/README.md`, offer sync profile).
    """

    def __init__(self) -> None:
        self.rows: list[tuple[object, ...]] = []
        self.deleted: dict[int, str | None] = {}

    def add(self, page: Iterable[ExportedOffer]) -> None:
        for offer in page:
            if offer.deleted:
                self.deleted[offer.offer_id] = offer.product_sku
                continue
            self.rows.append(
                (
                    offer.offer_id,
                    offer.product_sku,
                    offer.shop_id,
                    offer.price,
                    offer.min_shipping_price,
                    offer.quantity,
                    bool(offer.active),
                    offer.currency_iso_code,
                    offer.last_updated,
                    None,
                )
            )

    def frame(self) -> tuple[pd.DataFrame, list[int], pd.Series]:
        """Live offers as a book-shaped frame, the ids of deleted ones, and their product SKUs.

        Deleted rows carry only ids and flags; their product SKU still says which variant must be re-decided.
        """
        frame = pd.DataFrame(self.rows, columns=BOOK_COLUMNS)
        self.rows = []
        frame = frame.drop_duplicates("offer_id", keep="last").reset_index(drop=True)
        if self.deleted:
            frame = frame[~frame["offer_id"].isin(list(self.deleted))].reset_index(drop=True)
        deleted_skus = pd.Series([sku for sku in self.deleted.values() if sku], dtype=object)
        return frame, list(self.deleted), deleted_skus


def eligible_offers(book: pd.DataFrame, usable_shops: Iterable[int]) -> pd.DataFrame:
    """Offers that may be put on sale: active, quantity > 0, from a usable shop, not blocked by the gate."""
    quantity = pd.to_numeric(book["quantity"], errors="coerce").fillna(0)
    mask = (
        book["active"].fillna(False).astype(bool)
        & (quantity > 0)
        & book["shop_id"].isin(list(usable_shops))
        & book["blocked_reason"].isna()
        & book["price"].notna()
        & book["product_sku"].notna()
    )
    return book[mask]


def select_best(book: pd.DataFrame, usable_shops: Iterable[int]) -> pd.DataFrame:
    """The winning offer per product SKU (the index) with its runners-up as JSON; products without one are absent."""
    offers = eligible_offers(book, usable_shops)
    if offers.empty:
        return pd.DataFrame(columns=WINNER_COLUMNS, index=pd.Index([], name="product_sku"))
    shipping = offers["shipping"]
    offers = offers.assign(
        total=[
            price + (ship if known else _ZERO)
            for price, ship, known in zip(
                offers["price"].tolist(), shipping.tolist(), shipping.notna().tolist(), strict=True
            )
        ],
    )
    ranked = offers.sort_values(["product_sku", "total", "price", "offer_id"], kind="mergesort")
    rank = ranked.groupby("product_sku", sort=False).cumcount()
    winners = ranked[rank == 0].set_index("product_sku")
    runners = ranked[(rank >= 1) & (rank <= RUNNERS_UP)]
    runners_json = _runners_json(runners)
    winners = winners.assign(runners_up=runners_json.reindex(winners.index).fillna("[]"))
    return winners[WINNER_COLUMNS]


def _runners_json(runners: pd.DataFrame) -> pd.Series:
    """Each product's runners-up as compact JSON text, as `json.dumps(items, separators=(",", ":"))` wrote it,
    built as text: ids and a plain decimal string need no escaping, and an encoder per product cost more than
    the selection around it."""
    if runners.empty:
        return pd.Series(dtype=object)
    by_sku: dict[str, list[str]] = {}
    for sku, offer_id, shop_id, price in zip(
        runners["product_sku"].tolist(),
        runners["offer_id"].tolist(),
        runners["shop_id"].tolist(),
        runners["price"].tolist(),
        strict=True,
    ):
        amount = format(Decimal(price).normalize(), "f")
        by_sku.setdefault(sku, []).append(f'{{"offer_id":{int(offer_id)},"shop_id":{int(shop_id)},"price":"{amount}"}}')
    return pd.Series({sku: f"[{','.join(items)}]" for sku, items in by_sku.items()}, dtype=object)


def latest_update(frame: pd.DataFrame, fallback: datetime) -> pd.Series:
    """The newest Mirakl `last_updated` per product SKU, `fallback` where none is known."""
    stamps = pd.to_datetime(frame["last_updated"], utc=True).fillna(pd.Timestamp(fallback))
    return stamps.groupby(frame["product_sku"]).max()
