"""One offer-sync cycle's decisions and their record: gate, book, selection, diff, outbox and cursor.

Everything an export changes is recorded in one transaction (the offer book, the quarantined rows, the
outbox items for variants and their offer metafields, and the stream cursor), so a crash either leaves the
cursor where it was, and the next run reads the same offers again, or leaves the changes queued for the
drain. Nothing here calls an API.

An export row the reader rejected (it does not fit the offer model: a malformed field, a quantity beyond
int32, an unusable SKU) is quarantined here with its reason and raw row, and the offer it names is blocked in
the book: whatever it said, it no longer sells the product (fail safe), and every other row flows on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from bridge.streams import Stream
from connectors.state import (
    block_offers,
    enqueue_many,
    get_cursor,
    offer_metafields_for,
    quarantine_many,
    set_cursor,
    supersede_held,
)
from tasks.offers.book import block_shops, read_book, write_book
from tasks.offers.calls import KIND, STREAM
from tasks.offers.diff import diff_targets, outbox_items, target_states
from tasks.offers.gating import gate_by_seller, gate_flags
from tasks.offers.metafields import METAFIELD_KIND, metafield_changes, metafield_items
from tasks.offers.ownership import Ownership
from tasks.offers.select import latest_update, select_best
from tasks.offers.sources import OfferRead, SellerHealth
from tasks.rejections import quarantine_rows

__all__ = ["COLLISION", "REJECTED", "TRIPPED", "CycleResult", "load_cursor", "record_cycle"]

COLLISION = "SKU collision: a native product has this SKU"
TRIPPED = "seller feed tripped the circuit breaker"
REJECTED = "export row rejected: see the quarantine"
Mode = Literal["delta", "full"]


@dataclass
class CycleResult:
    changed: int = 0
    enqueued_new: int = 0
    superseded_held: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    quarantine_rows: list[dict[str, object]] = field(default_factory=list)
    tripped: dict[int, tuple[int, int]] = field(default_factory=dict)
    unbuyable: int = 0
    buyable: int = 0
    stock_only: int = 0
    metafields_changed: int = 0


@task(cache_policy=NO_CACHE)
def record_cycle(
    rt: Runtime,
    read: OfferRead,
    health: SellerHealth,
    ownership: Ownership,
    mode: Mode,
    read_at: datetime,
    run_id: str | None = None,
) -> CycleResult:
    """Gate the offers read, update the book, select and diff, then queue the changes and move the cursor."""
    config = rt.config.offers
    result = CycleResult()
    mapping = ownership.mapping
    offers = read.offers
    collided = offers["product_sku"].isin(ownership.collisions)
    records = _records(offers[collided], COLLISION)
    offers = offers[~collided].reset_index(drop=True)

    last_price = mapping.drop_duplicates("product_sku").set_index("product_sku")["price"]
    active = offers.loc[offers["active"].astype(bool)]
    flags = gate_flags(active, last_price, health.open_shops, config, rt.config.currency)
    verdicts = gate_by_seller(flags)
    if not verdicts.failed.empty:
        reasons = verdicts.failed.set_index("offer_id")["reason"]
        offers["blocked_reason"] = offers["offer_id"].map(reasons)
        refused = offers[offers["blocked_reason"].notna()]
        records += [
            {"record_key": str(r.product_sku), "reason": str(r.blocked_reason), "payload": _payload(r)}
            for r in refused.itertuples(index=False)
        ]
    result.tripped = verdicts.tripped
    unusable = set(health.failed_feeds) | set(verdicts.tripped)
    usable = health.open_shops - unusable

    with rt.sessions() as session:
        write_book(session, offers, read.deleted_ids, full=mode == "full")
        block_shops(session, verdicts.tripped, TRIPPED)
        blocked = block_offers(session, read.rejected_offer_ids(), REJECTED)
        if mode == "full":
            book = read_book(session)
        else:
            scope = _delta_scope(offers, read, mapping, unusable) | blocked
            mapping = mapping[mapping["product_sku"].isin(scope)]
            book = read_book(session, mapping["product_sku"])
        winners = select_best(book, usable)
        changed_at = latest_update(offers, read_at)
        for sku in [*read.deleted_skus, *sorted(read.rejected_skus() | blocked)]:
            changed_at.loc[sku] = pd.Timestamp(read_at)
        targets = target_states(mapping, winners, changed_at, read_at)
        if config.on_feed_failure == "hold":
            held = targets.index[
                mapping.set_index("product_sku")["shop_id"].reindex(targets.index).isin(list(health.failed_feeds))
            ]
            targets = targets.drop(held)
        changes = diff_targets(targets)
        result.changed = len(changes)
        result.buyable = int(changes["purchasable"].sum())
        result.unbuyable = result.changed - result.buyable
        result.stock_only = int(changes["stock_only"].sum())
        items = outbox_items(changes, config.unbuyable_message)
        # A variant's key holds until a push succeeds: a newer change must bring a rejected one back, or the
        # variant would keep its old price and stock for good.
        result.superseded_held = supersede_held(session, Stream.OFFER_SYNC, KIND, items)
        result.enqueued_new = enqueue_many(session, Stream.OFFER_SYNC, KIND, items)
        metafields = offer_metafields_for(session, targets["bc_variant_id"].tolist())
        meta_changes = metafield_changes(targets, metafields)
        result.metafields_changed = len(meta_changes)
        meta_items = metafield_items(meta_changes, metafields)
        result.superseded_held += supersede_held(session, Stream.OFFER_SYNC, METAFIELD_KIND, meta_items)
        enqueue_many(session, Stream.OFFER_SYNC, METAFIELD_KIND, meta_items)
        if records or read.rejected:
            quarantine_many(session, Stream.OFFER_SYNC, records + quarantine_rows(read.rejected), run_id=run_id)
        set_cursor(session, Stream.OFFER_SYNC, read_at.isoformat())
        session.commit()
    result.quarantined.update(str(r["reason"]) for r in records)
    result.quarantine_rows = records
    return result


def _delta_scope(offers: pd.DataFrame, read: OfferRead, mapping: pd.DataFrame, unusable: set[int]) -> set[str]:
    """Products a delta re-decides: those it touched (rejected rows included; the caller adds the products of
    the offers it blocked), those sold by a seller now unusable, and the unbuyable.

    Unbuyable products are re-decided because a seller's recovered feed (a later clean import) lifts its
    offers back into play without any offer row changing.
    """
    touched = set(offers["product_sku"]) | set(read.deleted_skus) | read.rejected_skus()
    failing = set(mapping.loc[mapping["shop_id"].isin(list(unusable)), "product_sku"])
    unbuyable = set(mapping.loc[mapping["purchasable"].ne(True), "product_sku"])
    return touched | failing | unbuyable


def _records(rows: pd.DataFrame, reason: str) -> list[dict[str, object]]:
    return [{"record_key": str(r.product_sku), "reason": reason, "payload": _payload(r)} for r in rows.itertuples()]


def _payload(row: object) -> dict[str, object]:
    return {
        "offer_id": int(getattr(row, "offer_id")),  # noqa: B009
        "shop_id": None if pd.isna(getattr(row, "shop_id")) else int(getattr(row, "shop_id")),  # noqa: B009
        "price": None if getattr(row, "price") is None else str(getattr(row, "price")),  # noqa: B009
        "quantity": None if pd.isna(getattr(row, "quantity")) else int(getattr(row, "quantity")),  # noqa: B009
    }


@task(cache_policy=NO_CACHE)
def load_cursor(rt: Runtime) -> datetime | None:
    """Where the last recorded cycle read up to (None before the first)."""
    with rt.sessions() as session:
        value = get_cursor(session, Stream.OFFER_SYNC)
    return datetime.fromisoformat(value) if value else None
