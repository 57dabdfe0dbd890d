"""One offer-sync cycle's decisions and their record: book, selection, diff, outbox and cursor.

The gate has run before (`gating.gate_offers`, called by the flow); its verdicts are recorded here.

Everything an export changes is recorded in one transaction (the offer book, the quarantined rows, the
outbox items for variants and their offer metafields, and the stream cursor), so a crash either leaves the
cursor where it was, and the next run reads the same offers again, or leaves the changes queued for the
drain. Nothing here calls an API.

An export row the reader rejected (it does not fit the offer model: a malformed field, a quantity beyond
int32, an unusable SKU) is quarantined here with its reason and raw row, and the offer it names is blocked in
the book: whatever it said, it no longer sells the product (fail safe), and every other row flows on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.orm import Session

from bridge.config import OfferSyncConfig
from bridge.runtime import Runtime
from bridge.streams import Stream
from connectors.state import (
    block_offers,
    enqueue_many,
    offer_map_rows,
    offer_metafields_for,
    quarantine_many,
    skus_sold_by,
    supersede_held,
    unbuyable_on_sale,
)
from tasks.cursors import Cursor
from tasks.offers.book import WrittenBook, block_shops, read_book, write_book
from tasks.offers.calls import KIND
from tasks.offers.diff import MAP_COLUMNS, diff_targets, outbox_items, target_states
from tasks.offers.gating import GatedOffers
from tasks.offers.metafields import METAFIELD_KIND, metafield_changes, metafield_items
from tasks.offers.ownership import Ownership, map_frame
from tasks.offers.select import latest_update, select_best
from tasks.offers.sources import OfferRead, SellerHealth
from tasks.rejections import quarantine_rows

__all__ = ["REJECTED", "TRIPPED", "CycleResult", "decide_and_enqueue", "offer_cursor", "start_read"]

TRIPPED = "seller feed tripped the circuit breaker"
REJECTED = "export row rejected: see the quarantine"
Mode = Literal["delta", "full"]
# Offer-map rows decided at a time: the book, targets and queue items of one partition are held, not a catalog's.
PARTITION = 50_000


@dataclass
class CycleResult:
    """What one decision queued, in counts (`summary.decision_tally` turns them into the report's rows)."""

    changed: int = 0
    enqueued_new: int = 0
    superseded_held: int = 0
    unbuyable: int = 0
    buyable: int = 0
    stock_only: int = 0
    metafields_changed: int = 0


@task(cache_policy=NO_CACHE)
def decide_and_enqueue(
    rt: Runtime,
    read: OfferRead,
    gated: GatedOffers,
    health: SellerHealth,
    ownership: Ownership,
    mode: Mode,
    read_at: datetime,
    run_id: str | None = None,
) -> CycleResult:
    """Record the gated offers in the book, select and diff, then queue the changes and move the cursor."""
    config = rt.config.offers
    result = CycleResult()
    mapping = ownership.mapping
    offers = gated.offers
    records = gated.refused
    unusable = set(health.failed_feeds) | set(gated.tripped)
    usable = health.open_shops - unusable

    with rt.sessions() as session:
        write_book(session, offers, read.deleted_ids, full=mode == "full")
        rejected_ids = read.rejected_offer_ids()
        block_shops(session, gated.tripped, TRIPPED)
        blocked = block_offers(session, rejected_ids, REJECTED)
        written = _written_book(session, offers, gated.tripped, rejected_ids) if mode == "full" else None
        if mode != "full":
            scope = _delta_scope(session, offers, read, unusable, usable) | blocked
            mapping = map_frame(offer_map_rows(session, MAP_COLUMNS, sorted(scope)))
        changed_at = latest_update(offers, read_at)
        touched = list(dict.fromkeys([*read.deleted_skus, *sorted(read.rejected_skus() | blocked)]))
        if touched:
            changed_at = changed_at.reindex(changed_at.index.union(touched))
            changed_at.loc[touched] = pd.Timestamp(read_at)
        held_shops = list(health.failed_feeds) if config.on_feed_failure == "hold" else []
        for start in range(0, len(mapping), PARTITION):
            part = mapping.iloc[start : start + PARTITION]
            skus = part["product_sku"]
            book = read_book(session, skus) if written is None else written.of_products(skus)
            _decide(session, part, book, usable, changed_at, read_at, held_shops, config.unbuyable_message, result)
        if records or read.rejected:
            quarantine_many(session, Stream.OFFER_SYNC, records + quarantine_rows(read.rejected), run_id=run_id)
        offer_cursor(config).advance(session, read_at)
        session.commit()
    return result


def _decide(
    session: Session,
    mapping: pd.DataFrame,
    book: pd.DataFrame,
    usable: set[int],
    changed_at: pd.Series,
    read_at: datetime,
    held_shops: list[int],
    message: str,
    result: CycleResult,
) -> None:
    """Select, diff and queue one partition of the offer map's products (their whole book is in `book`)."""
    winners = select_best(book, usable)
    targets = target_states(mapping, winners, changed_at, read_at)
    if held_shops:
        shops = mapping.set_index("product_sku")["shop_id"].reindex(targets.index)
        targets = targets.drop(targets.index[shops.isin(held_shops)])
    changes = diff_targets(targets)
    result.changed += len(changes)
    buyable = int(changes["purchasable"].sum())
    result.buyable += buyable
    result.unbuyable += len(changes) - buyable
    result.stock_only += int(changes["stock_only"].sum())
    items = outbox_items(changes, message)
    # A variant's key holds until a push succeeds: a newer change must bring a rejected one back, or the
    # variant would keep its old price and stock for good.
    result.superseded_held += supersede_held(session, Stream.OFFER_SYNC, KIND, items, retry_same=_makes_unbuyable)
    result.enqueued_new += enqueue_many(session, Stream.OFFER_SYNC, KIND, items)
    metafields = offer_metafields_for(session, targets["bc_variant_id"].tolist())
    meta_changes = metafield_changes(targets, metafields)
    result.metafields_changed += len(meta_changes)
    meta_items = metafield_items(meta_changes, metafields)
    result.superseded_held += supersede_held(session, Stream.OFFER_SYNC, METAFIELD_KIND, meta_items)
    enqueue_many(session, Stream.OFFER_SYNC, METAFIELD_KIND, meta_items)


def _written_book(session: Session, offers: pd.DataFrame, tripped: Iterable[int], rejected: set[int]) -> WrittenBook:
    """The book a full run has just written and blocked, in hand: the decision reads each partition's offers from
    it instead of reading back what it wrote (a full run's book is its export; `WrittenBook` says how exactly)."""
    written = WrittenBook(session, offers)
    written.block_shops(tripped, TRIPPED)
    written.block_offers(rejected, REJECTED)
    return written


def _makes_unbuyable(payload: Mapping[str, Any]) -> bool:
    """A stock-out (or a variant with no offer left) comes back even when the held change is the same: leaving the
    variant buyable oversells, and such a change carries no price or stock BigCommerce could find invalid."""
    return bool(payload.get("purchasing_disabled"))


def _delta_scope(
    session: Session, offers: pd.DataFrame, read: OfferRead, unusable: set[int], usable: set[int]
) -> set[str]:
    """Products a delta re-decides: those it touched (rejected rows included; the caller adds the products of
    the offers it blocked), those whose winner's seller is now unusable, and the unbuyable ones an offer of the
    book could now sell.

    Unbuyable products are re-decided because a seller's recovered feed (a later clean import) lifts its
    offers back into play without any offer row changing. Only those with an offer on sale can change: the
    others would be decided unbuyable again, so they are not read (a big catalog has many). Both are asked of
    the state store, so a delta never loads the whole offer map.
    """
    touched = set(offers["product_sku"]) | set(read.deleted_skus) | read.rejected_skus()
    return touched | skus_sold_by(session, unusable) | unbuyable_on_sale(session, usable)


def offer_cursor(config: OfferSyncConfig) -> Cursor:
    """The stream's read position: the last export's read time, re-read from `overlap_seconds` before it."""
    return Cursor.with_overlap(Stream.OFFER_SYNC, config.overlap_seconds)


@task(cache_policy=NO_CACHE)
def start_read(rt: Runtime, mode: Mode) -> tuple[Mode, datetime | None]:
    """The mode this cycle runs in and where its export starts: every offer (None) for `full` and for the very
    first run, whatever the mode; else the cursor's start."""
    cursor = offer_cursor(rt.config.offers)
    with rt.sessions() as session:
        if mode == "full" or cursor.saved(session) is None:
            return "full", None
        return "delta", cursor.start(session)
