"""Reads from Mirakl for the offer sync: the offer export, the shops, and the sellers' feed health.

Each is one Prefect task over whole exports or pages. A failed download raises before anything is recorded,
so the stream cursor never passes offers that were not applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bcmirakl.runtime import Runtime
from connectors.mirakl import ExportedOffer, OfferImport
from tasks.offers.select import offers_frame
from tasks.retry import TASK_RETRY

__all__ = ["OfferRead", "SellerHealth", "feed_failures", "read_offer_export", "read_seller_health"]


@dataclass
class OfferRead:
    offers: pd.DataFrame
    deleted_ids: list[int]
    deleted_skus: pd.Series
    rows_read: int


@dataclass
class SellerHealth:
    """Open shops, and the shops whose latest feed failed (shop id -> reason)."""

    open_shops: set[int]
    failed_feeds: dict[int, str] = field(default_factory=dict)


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def read_offer_export(rt: Runtime, since: datetime | None) -> OfferRead:
    """The offers changed since `since` (every active offer when None), via OF52-54 or the OF51 fallback."""
    pages: list[list[ExportedOffer]] = []
    if rt.config.offers.export == "OF51":
        async for page in rt.mirakl.iter_offers_delta_csv(since):
            pages.append(page)
    else:
        async for page in rt.mirakl.export_offers(since, poll_interval=rt.config.offers.export_poll_seconds):
            pages.append(page)
    frame, deleted_ids, deleted_skus = offers_frame(pages)
    return OfferRead(frame, deleted_ids, deleted_skus, sum(len(page) for page in pages))


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def read_seller_health(rt: Runtime, now: datetime) -> SellerHealth:
    """S20 for shop states and OF04 for each shop's latest offer import in the lookback window."""
    open_shops: set[int] = set()
    async for page in rt.mirakl.iter_shops():
        open_shops.update(shop.shop_id for shop in page if shop.shop_state == "OPEN")
    imports: list[OfferImport] = []
    start = now - timedelta(hours=rt.config.offers.feed_lookback_hours)
    async for page in rt.mirakl.iter_offer_imports(start_date=start):
        imports.extend(page)
    return SellerHealth(open_shops, feed_failures(imports))


def feed_failures(imports: list[OfferImport]) -> dict[int, str]:
    """Shops whose latest import FAILED or has lines in error; a later clean import clears a shop."""
    latest: dict[int, OfferImport] = {}
    for item in imports:
        if item.shop_id is None:
            continue
        current = latest.get(item.shop_id)
        if current is None or _order(item) > _order(current):
            latest[item.shop_id] = item
    failures = {}
    for shop_id, item in latest.items():
        if item.status == "FAILED":
            failures[shop_id] = f"import {item.import_id} FAILED"
        elif item.lines_in_error > 0:
            failures[shop_id] = f"import {item.import_id} has {item.lines_in_error} lines in error"
    return failures


def _order(item: OfferImport) -> tuple[datetime, int]:
    return (item.date_created or datetime.min.replace(tzinfo=UTC), item.import_id)
