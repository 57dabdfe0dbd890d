"""Read-only probes used by the smoke flow, one per system."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from bcmirakl.runtime import Runtime

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
    return len(await rt.mirakl.list_carriers())
