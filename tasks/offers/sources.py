"""Reads from Mirakl for the offer sync: the offer export, the shops, and the sellers' feed health.

Each is one Prefect task over whole exports or pages. A failed download raises before anything is recorded,
so the stream cursor never passes offers that were not applied. An offer row that does not fit the model does
not fail the download: it comes back in `OfferRead.rejected`, for the cycle to quarantine and to block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bcmirakl.runtime import Runtime
from connectors.http import Page, RejectedRecord
from connectors.mirakl import ExportedOffer, OfferImport
from tasks.offers.select import offers_frame
from tasks.retry import TASK_RETRY

__all__ = ["EXPORT_OPERATIONS", "OfferRead", "SellerHealth", "feed_failures", "read_offer_export", "read_seller_health"]

EXPORT_OPERATIONS = ("OF51", "OF54")


@dataclass
class OfferRead:
    offers: pd.DataFrame
    deleted_ids: list[int]
    deleted_skus: pd.Series
    rows_read: int
    rejected: list[RejectedRecord] = field(default_factory=list)

    def rejected_offer_ids(self) -> set[int]:
        """Offer ids of the rejected rows, where the raw row still names one."""
        return {value for value in (_raw_int(r, "offer_id") for r in self.rejected) if value is not None}

    def rejected_skus(self) -> set[str]:
        """Product SKUs of the rejected rows that could name a variant (the others match none)."""
        skus = (r.raw.get("product_sku") for r in self.rejected if r.raw)
        return {sku for sku in skus if isinstance(sku, str) and 0 < len(sku) <= 255 and sku.isprintable()}


@dataclass
class SellerHealth:
    """Open shops, and the shops whose latest feed failed (shop id -> reason)."""

    open_shops: set[int]
    failed_feeds: dict[int, str] = field(default_factory=dict)


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def read_offer_export(rt: Runtime, since: datetime | None) -> OfferRead:
    """The offers changed since `since` (every active offer when None), via OF52-54 or the OF51 fallback."""
    pages: list[Page[ExportedOffer]] = []
    if rt.config.offers.export == "OF51":
        async for page in rt.mirakl.iter_offers_delta_csv(since):
            pages.append(page)
    else:
        async for page in rt.mirakl.export_offers(since, poll_interval=rt.config.offers.export_poll_seconds):
            pages.append(page)
    frame, deleted_ids, deleted_skus = offers_frame(pages)
    # The cycle quarantines these itself, in the transaction that blocks their offers: take them off the log
    # the end of the run would otherwise settle.
    rt.mirakl.transport.rejections.take(EXPORT_OPERATIONS)
    rejected = [record for page in pages for record in page.rejected]
    rows = sum(len(page) + len(page.rejected) for page in pages)
    return OfferRead(frame, deleted_ids, deleted_skus, rows, rejected)


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


def _raw_int(record: RejectedRecord, name: str) -> int | None:
    value = (record.raw or {}).get(name)
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None
