"""Read-only probes used by the smoke flow, one per system."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from tasks.shipments.reference import mirakl_carriers

__all__ = ["count_bigcommerce_orders", "count_mirakl_carriers", "count_mirakl_offers"]


@task(cache_policy=NO_CACHE)
async def count_mirakl_offers(rt: Runtime) -> int:
    """Offers in a full export (OF52 -> OF53 -> OF54)."""
    total = 0
    async for page in rt.mirakl.export_offers(None):
        total += len(page)
    return total


@task(cache_policy=NO_CACHE)
async def count_bigcommerce_orders(rt: Runtime) -> int:
    total = 0
    async for page in rt.bigcommerce.iter_orders(min_date_modified=None, status_id=None):
        total += len(page)
    return total


@task(cache_policy=NO_CACHE)
async def count_mirakl_carriers(rt: Runtime) -> int:
    """SH21 through the shared daily read: a smoke check must not spend the day's only SH21 call twice."""
    carriers = await mirakl_carriers(rt, datetime.now(UTC))
    if carriers.stale:
        raise RuntimeError(f"SH21 carrier list not readable: {carriers.refresh_error}")
    return len(carriers.carriers)
