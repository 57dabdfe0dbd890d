"""Logistic orders still waiting to ship after their `shipping_deadline`: the list operations chase sellers with."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from connectors.mirakl import Order as MiraklOrder
from tasks.reporting import Tally
from tasks.retry import TASK_RETRY

__all__ = ["overdue_rows", "overdue_shipments"]


def overdue_rows(orders: Iterable[MiraklOrder], now: datetime) -> list[dict[str, Any]]:
    """Orders in SHIPPING past their deadline, most late first (ids and hours only)."""
    rows = [
        {
            "mirakl_order_id": order.order_id,
            "shop_id": order.shop_id,
            "shipping_deadline": order.shipping_deadline,
            "hours_late": round(Decimal((now - order.shipping_deadline).total_seconds()) / 3600, 1),
        }
        for order in orders
        if order.order_state == "SHIPPING" and order.shipping_deadline is not None and order.shipping_deadline < now
    ]
    return sorted(rows, key=lambda row: row["hours_late"], reverse=True)


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def overdue_shipments(rt: Runtime, now: datetime) -> Tally:
    """The logistic orders in SHIPPING past their deadline, counted and listed for the run's `overdue` table."""
    rows: list[dict[str, Any]] = []
    async for page in rt.mirakl.iter_orders(order_state_codes=["SHIPPING"]):
        rows += overdue_rows(page, now)
    return Tally(counts={"logistic_orders_past_shipping_deadline": len(rows)}, tables={"overdue": rows})
