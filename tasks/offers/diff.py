"""What each Mirakl-owned variant should show, and which variants differ from what was last pushed.

The target state of a variant is its winning offer's price and stock, buyable; or, without a winner, stock 0
and purchasing disabled (fail safe). Each state has a hash; a variant goes to the outbox only when its hash
differs from the `pushed_hash` the offer map recorded at the last acknowledged push, so an unchanged offer
costs no API call. A change that keeps the variant buyable at the same price is `stock_only`: the push may
send it as an inventory adjustment, 2,000 to a call. Pure pandas, tested without Prefect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd

__all__ = ["MAP_COLUMNS", "diff_targets", "outbox_items", "state_hash", "target_states"]

MAP_COLUMNS = [
    "product_sku",
    "bc_product_id",
    "bc_variant_id",
    "owner",
    "offer_id",
    "shop_id",
    "price",
    "quantity",
    "purchasable",
    "pushed_hash",
    "mirakl_updated_at",
    "bc_acknowledged_at",
]
UNBUYABLE = "unbuyable"


def state_hash(price: Decimal | None, quantity: int, purchasable: bool) -> str:
    """A variant state's fingerprint; every unbuyable state is the same whatever its last price."""
    text = f"{_money(price)}|{int(quantity)}" if purchasable else UNBUYABLE
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def target_states(
    mapping: pd.DataFrame, winners: pd.DataFrame, changed_at: pd.Series, read_at: datetime
) -> pd.DataFrame:
    """One target row per mapped, Mirakl-owned product in `mapping` (a frame of offer-map rows)."""
    owned = mapping[(mapping["owner"] == "mirakl") & mapping["bc_variant_id"].notna()].set_index("product_sku")
    won = winners.reindex(owned.index)
    buyable = won["offer_id"].notna()
    quantity = pd.to_numeric(won["quantity"], errors="coerce").fillna(0).astype("int64").where(buyable, 0)
    price = won["price"].where(buyable, None)
    fallback = owned["mirakl_updated_at"].where(owned["mirakl_updated_at"].notna(), read_at)
    stamps = pd.to_datetime(changed_at.reindex(owned.index), utc=True)
    stamps = stamps.where(stamps.notna(), pd.to_datetime(fallback, utc=True))
    stamps = pd.to_datetime(won["last_updated"], utc=True).where(buyable, stamps)
    targets = pd.DataFrame(
        {
            "bc_product_id": owned["bc_product_id"].astype("int64"),
            "bc_variant_id": owned["bc_variant_id"].astype("int64"),
            "price": price,
            "last_price": owned["price"],
            "last_purchasable": owned["purchasable"].eq(True),
            "quantity": quantity,
            "purchasable": buyable,
            "offer_id": won["offer_id"],
            "shop_id": won["shop_id"],
            "runners_up": won["runners_up"].where(buyable, "[]"),
            "mirakl_updated_at": stamps,
            "pushed_hash": owned["pushed_hash"],
            "bc_acknowledged_at": owned["bc_acknowledged_at"],
        },
        index=owned.index,
    )
    # Column lists, not Series iteration (a scalar boxed per value), and the null test as one mask.
    prices, buyables = targets["price"].tolist(), targets["purchasable"].tolist()
    targets["hash"] = [
        state_hash(p, q, b) for p, q, b in zip(prices, targets["quantity"].tolist(), buyables, strict=True)
    ]
    targets["stock_only"] = [
        bool(pushed and buyable and was and _money(p) == _money(last))
        for pushed, buyable, was, p, last in zip(
            targets["pushed_hash"].notna().tolist(),
            buyables,
            targets["last_purchasable"].tolist(),
            prices,
            targets["last_price"].tolist(),
            strict=True,
        )
    ]
    return targets


def diff_targets(targets: pd.DataFrame, only: Iterable[str] | None = None) -> pd.DataFrame:
    """Targets whose state differs from the last push (restricted to the SKUs in `only` when given)."""
    changed = targets[targets["hash"] != targets["pushed_hash"]]
    if only is not None:
        changed = changed[changed.index.isin(list(only))]
    return changed


def outbox_items(changes: pd.DataFrame, message: str) -> list[tuple[str, dict[str, Any]]]:
    """(idempotency key, payload) per changed variant.

    The key is the variant plus the time of its last acknowledged push: a rerun before the push finds the same
    key (and the latest state replaces the payload), while the next change after a push gets a new key. Built
    from column lists, not rows: a first full run queues a payload per variant of the catalog.
    """
    columns = zip(
        changes.index.tolist(),
        _ints(changes["bc_variant_id"]),
        _ints(changes["bc_product_id"]),
        _ints(changes["quantity"]),
        changes["purchasable"].tolist(),
        changes["hash"].tolist(),
        changes["stock_only"].tolist(),
        isoformats(changes["mirakl_updated_at"]),
        isoformats(changes["bc_acknowledged_at"], missing="never"),
        changes["price"].tolist(),
        changes["offer_id"].tolist(),
        changes["shop_id"].tolist(),
        changes["runners_up"].tolist(),
        strict=True,
    )
    items = []
    for sku, variant, product, quantity, buyable, state, stock_only, stamp, since, price, offer, shop, runs in columns:
        payload: dict[str, Any] = {
            "product_sku": sku,
            "variant_id": variant,
            "product_id": product,
            "inventory_level": quantity,
            "purchasing_disabled": not buyable,
            "hash": state,
            "stock_only": bool(stock_only),
            "mirakl_updated_at": stamp,
        }
        if buyable:
            payload.update(
                price=_money(price),
                offer_id=int(offer),
                shop_id=int(shop),
                runners_up=runs,
                purchasing_disabled_message="",
            )
        else:
            payload.update(offer_id=None, shop_id=None, runners_up="[]", purchasing_disabled_message=message)
        items.append((f"offer-sync:variant:{variant}:{since}", payload))
    return items


def isoformats(stamps: pd.Series, missing: str = "NaT") -> list[str]:
    """`pd.Timestamp(value).isoformat()` of each value (`missing` for None or NaT), converted as one array.

    A datetime column becomes Python datetimes in one call, whose `isoformat` is the Timestamp's when no value
    carries nanoseconds (a Mirakl or store timestamp has microseconds at most); any other column, or one with
    nanoseconds, is converted value by value, as before.
    """
    present = stamps.notna().tolist()
    if isinstance(stamps.dtype, pd.DatetimeTZDtype) and not stamps.dt.nanosecond.any():
        values = stamps.array.to_pydatetime()
    else:
        values = [pd.Timestamp(value) if known else None for value, known in zip(stamps, present, strict=True)]
    return [value.isoformat() if known else missing for value, known in zip(values, present, strict=True)]


def _ints(column: pd.Series) -> list[int]:
    return [int(value) for value in column.tolist()]


def _money(value: Decimal | None) -> str:
    if value is None or (not isinstance(value, Decimal) and pd.isna(value)):
        return ""
    return format(Decimal(value).normalize(), "f")
