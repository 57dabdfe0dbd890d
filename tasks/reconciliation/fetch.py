"""Reading one period's inputs, page by page: TL02 per day, SBC11, IV01, and the BigCommerce side.

Each read is a task over one bounded unit (a day of transaction lines, one listing, a set of orders). A day
whose TL02 read fails after the connector's retries is not retried into silence: it comes back marked
incomplete with the error's class, and the gate stops the run before any conclusion is drawn.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from common.errors import ApiError, DataError, NotFoundError
from connectors.bigcommerce.models import Refund
from connectors.state import OrderLineMapping, order_lines_for_reconciliation
from tasks.acceptance.prepaid_refunds import cancelled_before_debit
from tasks.reconciliation.frames import (
    DayFetch,
    bc_line_rows,
    bc_refund_rows,
    cancelled_values,
    cycles_frame,
    frame,
    invoices_frame,
    order_currency,
    transaction_rows,
)
from tasks.reconciliation.reconcile import BC_LINE_COLUMNS, BC_REFUND_COLUMNS
from tasks.retry import TASK_RETRY

__all__ = ["BigCommerceSide", "fetch_bigcommerce_side", "fetch_billing_cycles", "fetch_invoices", "fetch_tl02_day"]

# BigCommerce orders read at once (products + refunds are two calls each).
_ORDER_CONCURRENCY = 8


@task(cache_policy=NO_CACHE)
async def fetch_tl02_day(rt: Runtime, day: date, start: datetime, end: datetime) -> DayFetch:
    """TL02 lines created in [start, end): complete only if the seek paging reached its last page."""
    rows: list[dict[str, object]] = []
    try:
        async for page in rt.mirakl.iter_transactions(date_created_from=start, date_created_to=end):
            rows.extend(transaction_rows(page, end, rt.config.currency))
    except (ApiError, DataError) as exc:
        return DayFetch(day, [], complete=False, error=type(exc).__name__)
    return DayFetch(day, rows, complete=True)


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def fetch_billing_cycles(rt: Runtime, start: datetime, end: datetime) -> pd.DataFrame:
    """SBC11 cycles of the window: Mirakl's payout per seller, the master for what sellers are paid."""
    cycles = []
    async for page in rt.mirakl.iter_billing_cycles(start_date=start, end_date=end):
        cycles.extend(page)
    return cycles_frame(cycles, rt.config.currency)


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def fetch_invoices(rt: Runtime, start: datetime, end: datetime) -> pd.DataFrame:
    """IV01 commission invoices of the window."""
    invoices = []
    async for page in rt.mirakl.iter_invoices(start_date=start, end_date=end):
        invoices.extend(page)
    return invoices_frame(invoices, rt.config.currency)


def _cancelled_before_debit(
    rt: Runtime, refunds: list[Refund], mappings: list[OrderLineMapping]
) -> set[tuple[int, int]]:
    """(refund id, order product id) of the refund items the acceptance guard cancelled in Mirakl (OR30) before the
    customer was debited: Mirakl books them as a smaller debit, never as a refund."""
    lines = {m.bc_order_product_id: m.mirakl_order_line_id for m in mappings if m.mirakl_order_line_id}
    with rt.sessions() as session:
        return {
            (refund.id, item.item_id)
            for refund in refunds
            for item in refund.items
            if item.item_type == "PRODUCT"
            and item.item_id in lines
            and cancelled_before_debit(session, refund.id, lines[item.item_id])
        }


class BigCommerceSide:
    """The BigCommerce half of a period: marketplace lines, their refunds, and each order's currency."""

    def __init__(self, lines: pd.DataFrame, refunds: pd.DataFrame, currencies: dict[int, str]) -> None:
        self.lines = lines
        self.refunds = refunds
        self.currencies = currencies


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def fetch_bigcommerce_side(
    rt: Runtime, start: datetime, end: datetime, mirakl_order_ids: list[str]
) -> BigCommerceSide:
    """Orders created in the period plus those Mirakl booked in it, with their mapped lines and refunds."""
    created: dict[int, Any] = {}
    async for page in rt.bigcommerce.iter_orders(min_date_modified=start):
        for order in page:
            if order.date_created is not None and start <= order.date_created < end:
                created[order.id] = order
    with rt.sessions() as session:
        mappings = order_lines_for_reconciliation(session, bc_order_ids=created, mirakl_order_ids=mirakl_order_ids)
        session.expunge_all()
    by_order: dict[int, list[Any]] = {}
    for mapping in mappings:
        by_order.setdefault(mapping.bc_order_id, []).append(mapping)

    gate = asyncio.Semaphore(_ORDER_CONCURRENCY)

    async def read(order_id: int) -> tuple[list[dict[str, object]], list[dict[str, object]], str | None]:
        async with gate:
            try:
                order = created.get(order_id) or await rt.bigcommerce.get_order(order_id)
            except NotFoundError:
                return [], [], None  # its Mirakl lines stay unmatched: missing in BigCommerce
            products = await rt.bigcommerce.list_order_products(order_id)
            refunds = await rt.bigcommerce.list_order_refunds(order_id)
        currency = order_currency(order)
        cancelled = _cancelled_before_debit(rt, refunds, by_order.get(order_id, []))
        values = cancelled_values(refunds, {p.id: p for p in products}, cancelled)
        lines = bc_line_rows(order, products, by_order.get(order_id, []), (start, end), rt.config.currency, values)
        mapped = {int(row["bc_order_product_id"]) for row in lines}  # type: ignore[call-overload]
        marketplace = {p.id: p for p in products if p.id in mapped}
        refunded = bc_refund_rows(refunds, marketplace, currency, (start, end), rt.config.currency, cancelled)
        return lines, refunded, currency

    results = await asyncio.gather(*(read(order_id) for order_id in sorted(by_order)))
    line_rows = [row for lines, _, _ in results for row in lines]
    refund_rows = [row for _, refunds, _ in results for row in refunds]
    # Every order read, its transactional currency "" when missing: the gate refuses both a foreign and a missing one.
    currencies = {
        order_id: currency
        for order_id, (_, _, currency) in zip(sorted(by_order), results, strict=True)
        if currency is not None
    }
    return BigCommerceSide(frame(line_rows, BC_LINE_COLUMNS), frame(refund_rows, BC_REFUND_COLUMNS), currencies)
