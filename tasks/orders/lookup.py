"""Find what Mirakl holds for a commercial order (OR11 by `commercial_id`): the check before any re-send."""

from __future__ import annotations

from bcmirakl.runtime import Runtime
from connectors.mirakl.models import Order as MiraklOrder

__all__ = ["mirakl_orders_of"]


async def mirakl_orders_of(rt: Runtime, commercial_id: str) -> list[MiraklOrder]:
    """Every logistic order of `commercial_id`, `-A` first; empty when Mirakl never created it."""
    found: list[MiraklOrder] = []
    async for page in rt.mirakl.iter_orders(commercial_ids=[commercial_id]):
        found.extend(page)
    return sorted(found, key=lambda order: order.order_id)
