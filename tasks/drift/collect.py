"""Reads for the drift monitor: BigCommerce's current Mirakl-owned variants, by id, each row checked."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from tasks.retry import TASK_RETRY

__all__ = ["VARIANT_COLUMNS", "read_owned_variants"]

VARIANT_COLUMNS = ["product_sku", "variant_id", "price", "inventory_level", "purchasing_disabled"]


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def read_owned_variants(rt: Runtime, variant_ids: list[int]) -> pd.DataFrame:
    rows = []
    async for page in rt.bigcommerce.iter_variants_by_id(variant_ids):
        rows.extend((v.sku, v.id, v.price, v.inventory_level, bool(v.purchasing_disabled)) for v in page)
    return pd.DataFrame(rows, columns=VARIANT_COLUMNS)
