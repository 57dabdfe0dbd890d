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

from bridge.runtime import Runtime
from connectors.http import RejectedRecord
from connectors.mirakl import OfferImport
from tasks.offers.select import ExportRows
from tasks.retry import TASK_RETRY

__all__ = [
    "EXPORT_OPERATIONS",
    "OfferRead",
    "SellerHealth",
    "error_share",
    "judge_feeds",
    "read_offer_export",
    "read_seller_health",
]

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
    """Open shops, the shops whose latest feed failed (shop id -> reason), and those whose latest import was
    partial (shop id -> that import: some lines in error, the others applied by Mirakl); `names` are the shop
    names S20 gave, for per-seller tables a person reads."""

    open_shops: set[int]
    failed_feeds: dict[int, str] = field(default_factory=dict)
    partial_imports: dict[int, OfferImport] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def read_offer_export(rt: Runtime, since: datetime | None) -> OfferRead:
    """The offers changed since `since` (every active offer when None), via OF52-54 or the OF51 fallback."""
    config = rt.config.offers
    if config.export == "OF51":
        pages = rt.mirakl.iter_offers_delta_csv(since, models=config.models)
    else:
        pages = rt.mirakl.export_offers(since, poll_interval=config.export_poll_seconds, models=config.models)
    rows, rejected, read = ExportRows(), [], 0
    async for page in pages:
        rows.add(page)
        rejected.extend(page.rejected)
        read += len(page) + len(page.rejected)
    frame, deleted_ids, deleted_skus = rows.frame()
    # The cycle quarantines these itself, in the transaction that blocks their offers: take them off the log
    # the end of the run would otherwise settle.
    rt.mirakl.transport.rejections.take(EXPORT_OPERATIONS)
    return OfferRead(frame, deleted_ids, deleted_skus, read, rejected)


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def read_seller_health(rt: Runtime, now: datetime) -> SellerHealth:
    """S20 for shop states and OF04 for each shop's latest offer import in the lookback window."""
    open_shops: set[int] = set()
    names: dict[int, str] = {}
    async for page in rt.mirakl.iter_shops():
        open_shops.update(shop.shop_id for shop in page if shop.shop_state == "OPEN")
        names.update((shop.shop_id, shop.shop_name) for shop in page if shop.shop_name)
    imports: list[OfferImport] = []
    start = now - timedelta(hours=rt.config.offers.feed_lookback_hours)
    async for page in rt.mirakl.iter_offer_imports(start_date=start):
        imports.extend(page)
    failed, partial = judge_feeds(imports, rt.config.offers.feed_failure_error_share)
    return SellerHealth(open_shops, failed, partial, names)


def judge_feeds(imports: list[OfferImport], failure_share: float) -> tuple[dict[int, str], dict[int, OfferImport]]:
    """Each shop's feed by its latest import: failed (shop -> reason), or partial (shop -> import).

    A FAILED import fails the feed; so does one whose lines in error reach `failure_share` of its lines read.
    Below that share the import is partial: Mirakl applied the lines in success and left the offers of the lines
    in error as they were (mmp-operator-openapi.json, OF02: `lines_in_success`, `lines_in_error`), so the
    seller's offers stay in play and only the lines in error are reported. A later clean import clears a shop.
    """
    latest: dict[int, OfferImport] = {}
    for item in imports:
        if item.shop_id is None:
            continue
        current = latest.get(item.shop_id)
        if current is None or _order(item) > _order(current):
            latest[item.shop_id] = item
    failed: dict[int, str] = {}
    partial: dict[int, OfferImport] = {}
    for shop_id, item in latest.items():
        if item.status == "FAILED":
            failed[shop_id] = f"import {item.import_id} FAILED"
        elif item.lines_in_error > 0 and error_share(item) >= failure_share:
            failed[shop_id] = (
                f"import {item.import_id} has {item.lines_in_error} of {item.lines_read} lines in error"
                f" ({error_share(item):.0%}, failure threshold {failure_share:.0%})"
            )
        elif item.lines_in_error > 0:
            partial[shop_id] = item
    return failed, partial


def error_share(item: OfferImport) -> float:
    """Lines in error over lines read (1.0 when the import read nothing but reports errors)."""
    return item.lines_in_error / item.lines_read if item.lines_read > 0 else 1.0


def _order(item: OfferImport) -> tuple[datetime, int]:
    return (item.date_created or datetime.min.replace(tzinfo=UTC), item.import_id)


def _raw_int(record: RejectedRecord, name: str) -> int | None:
    value = (record.raw or {}).get(name)
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None
