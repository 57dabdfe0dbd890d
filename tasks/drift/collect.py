"""Reads for the drift monitor: BigCommerce's current Mirakl-owned variants, by id, each row checked."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from tasks.reporting import Tally
from tasks.retry import TASK_RETRY

__all__ = ["VARIANT_COLUMNS", "OwnedVariants", "read_owned_variants"]

VARIANT_COLUMNS = ["product_sku", "variant_id", "price", "inventory_level", "purchasing_disabled"]


@dataclass(frozen=True)
class OwnedVariants:
    """The variants as BigCommerce holds them now, and the read's tally (the run's report absorbs it)."""

    variants: pd.DataFrame
    tally: Tally


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def read_owned_variants(rt: Runtime, variant_ids: list[int]) -> OwnedVariants:
    rows = []
    async for page in rt.bigcommerce.iter_variants_by_id(variant_ids):
        rows.extend((v.sku, v.id, v.price, v.inventory_level, bool(v.purchasing_disabled)) for v in page)
    return OwnedVariants(pd.DataFrame(rows, columns=VARIANT_COLUMNS), Tally(counts={"variants_checked": len(rows)}))
