"""Reading one period's inputs, page by page, into the period's partition store: TL02 per day, the BigCommerce
side per batch of orders, SBC11 and IV01 for a billing cycle, and the sellers' names.

Each read is a task over one bounded unit (a day of transaction lines, a batch of orders, a listing). TL02 and
BigCommerce rows are spilled into the `PartitionStore` as they arrive, so a month at a big marketplace never
sits in memory. A day whose TL02 read fails after the connector's retries is not retried into silence: it comes
back marked incomplete with the error's class, and the gate stops the run before any conclusion is drawn (its
lines already spilled are never reconciled). That task has no task-level retry, as a retry would spill a day
twice; a batch of orders is retried as a whole because its rows are spilled only once it returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from common.errors import ApiError, DataError, NotFoundError
from connectors.bigcommerce.models import Refund
from connectors.state import OrderLineMapping, order_lines_for_reconciliation
from tasks.acceptance.prepaid_refunds import cancelled_before_debit
from tasks.progress import gather_counted
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
from tasks.reconciliation.partitions import PartitionStore
from tasks.reconciliation.reconcile import BC_LINE_COLUMNS, BC_REFUND_COLUMNS, TRANSACTION_COLUMNS
from tasks.reporting import Tally
from tasks.retry import TASK_RETRY

__all__ = [
    "BigCommerceSide",
    "PeriodRead",
    "fetch_bigcommerce_orders",
    "fetch_cycle_terms",
    "fetch_seller_names",
    "fetch_tl02_day",
    "midnight",
    "read_period",
]

T = TypeVar("T")

# BigCommerce orders read at once (products + refunds are two calls each), and per task (one spill each).
_ORDER_CONCURRENCY = 8
_ORDER_BATCH = 500
# TL02 lines a day's read holds before spilling them (its API pages are 100 lines).
SPILL_ROWS = 50_000


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass
class PeriodRead:
    """What the read step leaves beside the spilled rows: each day's read, the currency of every BigCommerce
    order read, the cycle's SBC11 and IV01 (cycle runs), and the sellers' names; `tally` counts it."""

    days: list[DayFetch]
    currencies: dict[int, str]
    cycles: pd.DataFrame | None
    invoices: pd.DataFrame | None
    seller_names: dict[int, str]
    tally: Tally = field(default_factory=Tally)


async def read_period(rt: Runtime, store: PartitionStore, days: list[date], scope: str) -> PeriodRead:
    """Every input of the period: TL02 day by day, then the BigCommerce side of the orders it names."""
    start, end = midnight(days[0]), midnight(days[-1] + timedelta(days=1))
    fetched = await gather_counted("TL02 days", [fetch_tl02_day(rt, store, day) for day in days])
    cycles, invoices = await fetch_cycle_terms(rt, start, end) if scope == "cycle" else (None, None)
    order_ids = sorted(set().union(*(day.order_ids for day in fetched)))
    currencies = await _read_bigcommerce_side(rt, store, (start, end), order_ids)
    counts = {"days": len(days), "days_incomplete": sum(not day.complete for day in fetched)}
    counts |= {"mirakl_transactions": store.rows["transactions"], "bigcommerce_lines": store.rows["bc_lines"]}
    tally = Tally(counts=counts)
    try:
        names = await fetch_seller_names(rt)
    except ApiError as exc:  # names only label the tables: their absence never stops a reconciliation
        names = {}
        tally.notes.append(f"seller names unavailable (S20: {type(exc).__name__}): the tables show shop ids only")
    return PeriodRead(fetched, currencies, cycles, invoices, names, tally)


@task(cache_policy=NO_CACHE)
async def fetch_tl02_day(rt: Runtime, store: PartitionStore, day: date) -> DayFetch:
    """TL02 lines created that UTC day, spilled as they come: complete only if the seek paging reached its end."""
    start, end = midnight(day), midnight(day + timedelta(days=1))
    held: list[dict[str, object]] = []
    lines, order_ids = 0, set[str]()

    def spill() -> int:
        page = frame(held, TRANSACTION_COLUMNS)
        store.add_transactions(page)
        order_ids.update(page["order_id"].dropna().tolist())
        held.clear()
        return len(page)

    try:
        async for page in rt.mirakl.iter_transactions(date_created_from=start, date_created_to=end):
            held.extend(transaction_rows(page, end, rt.config.currency))
            if len(held) >= SPILL_ROWS:
                lines += spill()
    except (ApiError, DataError) as exc:
        return DayFetch(day, lines, complete=False, error=type(exc).__name__)
    lines += spill()
    return DayFetch(day, lines, complete=True, order_ids=frozenset(order_ids))


async def _listing(pages: AsyncIterator[list[T]]) -> list[T]:
    return [item async for page in pages for item in page]


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def fetch_cycle_terms(rt: Runtime, start: datetime, end: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SBC11 cycles (Mirakl's payout per seller, the master for what sellers are paid) and IV01 commission
    invoices of the window."""
    cycles = await _listing(rt.mirakl.iter_billing_cycles(start_date=start, end_date=end))
    invoices = await _listing(rt.mirakl.iter_invoices(start_date=start, end_date=end))
    return cycles_frame(cycles, rt.config.currency), invoices_frame(invoices, rt.config.currency)


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def fetch_seller_names(rt: Runtime) -> dict[int, str]:
    """S20: each shop's name, for the per-seller tables (a shop id alone means nothing to finance)."""
    return {shop.shop_id: shop.shop_name for shop in await _listing(rt.mirakl.iter_shops()) if shop.shop_name}


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


@dataclass(frozen=True)
class BigCommerceSide:
    """The BigCommerce half of a batch of orders: marketplace lines, their refunds, and each order's currency."""

    lines: pd.DataFrame
    refunds: pd.DataFrame
    currencies: dict[int, str]


async def _read_bigcommerce_side(
    rt: Runtime, store: PartitionStore, period: tuple[datetime, datetime], mirakl_order_ids: list[str]
) -> dict[int, str]:
    """Orders created in the period plus those Mirakl booked in it, batch by batch, each batch spilled as it
    returns; the currency of every order read (the gate refuses a foreign or a missing one)."""
    created: dict[int, Any] = {}
    async for page in rt.bigcommerce.iter_orders(min_date_modified=period[0]):
        for order in page:
            if order.date_created is not None and period[0] <= order.date_created < period[1]:
                created[order.id] = order
    with rt.sessions() as session:
        mappings = order_lines_for_reconciliation(session, bc_order_ids=created, mirakl_order_ids=mirakl_order_ids)
        session.expunge_all()
    by_order: dict[int, list[OrderLineMapping]] = {}
    for mapping in mappings:
        by_order.setdefault(mapping.bc_order_id, []).append(mapping)
    ids = sorted(by_order)
    currencies: dict[int, str] = {}
    for first in range(0, len(ids), _ORDER_BATCH):
        batch = {order_id: by_order[order_id] for order_id in ids[first : first + _ORDER_BATCH]}
        known = {order_id: created[order_id] for order_id in batch if order_id in created}
        side = await fetch_bigcommerce_orders(rt, period, batch, known)
        store.add_bigcommerce(side.lines, side.refunds)
        currencies |= side.currencies
    return currencies


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def fetch_bigcommerce_orders(
    rt: Runtime,
    period: tuple[datetime, datetime],
    mappings: dict[int, list[OrderLineMapping]],
    known: dict[int, Any],
) -> BigCommerceSide:
    """These orders' mapped lines and refunds (`known`: orders already listed, not read again)."""
    gate = asyncio.Semaphore(_ORDER_CONCURRENCY)

    async def read(order_id: int) -> tuple[list[dict[str, object]], list[dict[str, object]], str | None]:
        async with gate:
            try:
                order = known.get(order_id) or await rt.bigcommerce.get_order(order_id)
            except NotFoundError:
                return [], [], None  # its Mirakl lines stay unmatched: missing in BigCommerce
            products = await rt.bigcommerce.list_order_products(order_id)
            refunds = await rt.bigcommerce.list_order_refunds(order_id)
        currency = order_currency(order)
        cancelled = _cancelled_before_debit(rt, refunds, mappings[order_id])
        values = cancelled_values(refunds, {p.id: p for p in products}, cancelled)
        lines = bc_line_rows(order, products, mappings[order_id], period, rt.config.currency, values)
        mapped = {int(row["bc_order_product_id"]) for row in lines}  # type: ignore[call-overload]
        marketplace = {p.id: p for p in products if p.id in mapped}
        refunded = bc_refund_rows(refunds, marketplace, currency, period, rt.config.currency, cancelled)
        return lines, refunded, currency

    results = await asyncio.gather(*(read(order_id) for order_id in mappings))
    return BigCommerceSide(
        frame(_rows(lines for lines, _, _ in results), BC_LINE_COLUMNS),
        frame(_rows(refunds for _, refunds, _ in results), BC_REFUND_COLUMNS),
        # Every order read, its transactional currency "" when missing: the gate refuses both a foreign and a
        # missing one.
        {
            order_id: currency
            for order_id, (_, _, currency) in zip(mappings, results, strict=True)
            if currency is not None
        },
    )


def _rows(groups: Iterable[list[dict[str, object]]]) -> list[dict[str, object]]:
    return [row for rows in groups for row in rows]
