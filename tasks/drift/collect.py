"""Reads for the drift monitor: BigCommerce's current Mirakl-owned variants, by id, in API-sized chunks."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bcmirakl.runtime import Runtime
from tasks.retry import TASK_RETRY

__all__ = ["VARIANT_COLUMNS", "read_owned_variants"]

VARIANT_COLUMNS = ["product_sku", "variant_id", "price", "inventory_level", "purchasing_disabled"]
_IDS_PER_CALL = 200


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def read_owned_variants(rt: Runtime, variant_ids: list[int]) -> pd.DataFrame:
    rows = []
    for start in range(0, len(variant_ids), _IDS_PER_CALL):
        async for page in rt.bigcommerce.iter_variants(**{"id:in": variant_ids[start : start + _IDS_PER_CALL]}):
            rows.extend((v.sku, v.id, v.price, v.inventory_level, bool(v.purchasing_disabled)) for v in page)
    return pd.DataFrame(rows, columns=VARIANT_COLUMNS)
