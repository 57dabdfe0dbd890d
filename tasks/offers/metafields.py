"""The offer metafield each Mirakl-owned variant carries: its winning offer and runners-up, for the theme.

One variant metafield (`<namespace>.offer`, readable by the storefront) holds the winning `offer_id` and
`shop_id` (order routing's answer to "who sells this") and the runners-up the theme may show. Its value has a
hash; it goes to the outbox only when that hash differs from the one last written, so an unchanged winner costs
no call. A variant that never had a winner and has none now needs no metafield at all. Ids and prices only.
Pure functions, tested without Prefect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from tasks.offers.payloads import MetafieldChange

__all__ = ["EMPTY_VALUE", "METAFIELD_KEY", "METAFIELD_KIND", "metafield_changes", "metafield_items", "metafield_value"]

METAFIELD_KEY = "offer"
METAFIELD_KIND = "metafield"
EMPTY_VALUE = '{"offer_id":null,"shop_id":null,"runners_up":[]}'

MetafieldState = tuple[int | None, str | None, datetime]


def metafield_value(offer_id: Any, shop_id: Any, runners_up: Any) -> str:
    """The metafield's JSON text; the same winner and runners-up always give the same text."""
    if offer_id is None or pd.isna(offer_id):
        return EMPTY_VALUE
    runners = runners_up if isinstance(runners_up, str) and runners_up else "[]"
    return f'{{"offer_id":{int(offer_id)},"shop_id":{int(shop_id)},"runners_up":{runners}}}'


def value_hash(value: str) -> str:
    return hashlib.sha1(value.encode(), usedforsecurity=False).hexdigest()


_EMPTY_HASH = value_hash(EMPTY_VALUE)


def metafield_changes(targets: pd.DataFrame, stored: Mapping[int, MetafieldState]) -> pd.DataFrame:
    """Targets (indexed by product SKU) whose metafield value differs from the one last written.

    Adds the columns `metafield_value` and `metafield_hash`; a variant without a stored row counts as
    carrying the empty value.
    """
    values = [
        metafield_value(offer_id, shop_id, runners) if buyable else EMPTY_VALUE
        for offer_id, shop_id, runners, buyable in zip(
            targets["offer_id"], targets["shop_id"], targets["runners_up"], targets["purchasable"], strict=True
        )
    ]
    hashes = [value_hash(value) for value in values]
    last = [(stored.get(int(v)) or (None, _EMPTY_HASH, None))[1] for v in targets["bc_variant_id"]]
    frame = targets.assign(metafield_value=values, metafield_hash=hashes)
    return frame[[new != old for new, old in zip(hashes, last, strict=True)]]


def metafield_items(changes: pd.DataFrame, stored: Mapping[int, MetafieldState]) -> list[tuple[str, dict[str, Any]]]:
    """(idempotency key, payload) per variant whose metafield must be written.

    The key is the variant plus the time its metafield row was last recorded, so a rerun before the push
    replaces the payload and the next change after it gets a new key. Read from column lists, not row tuples: a
    first full run writes one per variant of the catalog.
    """
    buyable = changes["purchasable"].astype(bool)
    columns = zip(
        changes.index.tolist(),
        changes["bc_variant_id"].tolist(),
        changes["offer_id"].tolist(),
        changes["shop_id"].tolist(),
        (buyable & changes["offer_id"].notna()).tolist(),
        (buyable & changes["shop_id"].notna()).tolist(),
        changes["metafield_value"].tolist(),
        changes["metafield_hash"].tolist(),
        strict=True,
    )
    items = []
    for sku, variant, offer_id, shop_id, offer_known, shop_known, value, value_digest in columns:
        variant_id = int(variant)
        state = stored.get(variant_id)
        since = "never" if state is None else pd.Timestamp(state[2]).isoformat()
        change = MetafieldChange(
            product_sku=sku,
            variant_id=variant_id,
            offer_id=int(offer_id) if offer_known else None,
            shop_id=int(shop_id) if shop_known else None,
            value=value,
            hash=value_digest,
        )
        items.append((f"offer-sync:metafield:{variant_id}:{since}", change.to_payload()))
    return items
