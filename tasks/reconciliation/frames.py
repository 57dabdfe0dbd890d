"""API payloads turned into the reconciliation core's frames, and the gate's view of a period's inputs.

Kept apart from the fetch tasks so the conversions (Decimal to minor units, the cut-off rules, what "a complete
period" means) are tested without Prefect or HTTP.

A period is complete when every day of it has its TL02 read run to the last seek page without an error. Each
day is one row of the gate frame (`transaction_id` = `day:<date>`), so a day that could not be read trips the
gate even though it has no transaction rows: a missing day is an error, never a zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pandas as pd

from connectors.bigcommerce.models import Order as BcOrder
from connectors.bigcommerce.models import OrderProduct, Refund, RefundedItem
from connectors.mirakl.models import BillingCycle, Invoice, Transaction
from connectors.money import UnknownCurrencyError, check_currency, to_minor
from connectors.state import OrderLineMapping
from tasks.paid import line_tax, paid_ex_tax, paid_inc_tax, transactional_currency
from tasks.reconciliation.reconcile import CYCLE_COLUMNS, INVOICE_COLUMNS

__all__ = [
    "DayFetch",
    "bc_line_rows",
    "bc_refund_rows",
    "cancelled_values",
    "cycles_frame",
    "frame",
    "gate_frame",
    "invoices_frame",
    "transaction_rows",
]


@dataclass(frozen=True)
class DayFetch:
    """One day's TL02 read: how many lines it spilled, whether the seek paging reached the end without an error,
    and the Mirakl orders its lines belong to (their BigCommerce side is read next)."""

    day: date
    lines: int
    complete: bool
    error: str | None = None
    order_ids: frozenset[str] = frozenset()


def frame(rows: Iterable[Mapping[str, object]], columns: Sequence[str]) -> pd.DataFrame:
    built = pd.DataFrame(list(rows), columns=list(columns))
    for name in ("amount", "bc_amount", "bc_tax", "payout", "commission"):
        if name in built.columns:
            built[name] = built[name].astype("int64")
    return built


def transaction_rows(page: Iterable[Transaction], day_end: datetime, currency: str) -> list[dict[str, object]]:
    """TL02 lines created before `day_end` (the API's upper bound is inclusive: a midnight line is tomorrow's)."""
    rows = []
    for line in page:
        if line.date_created is not None and line.date_created >= day_end:
            continue
        cur = line.currency_iso_code or ""
        entities = line.entities
        rows.append(
            {
                "transaction_id": line.id,
                "type": line.type or "",
                "amount": to_minor(line.amount, cur or currency),
                "currency": cur,
                "shop_id": line.shop.id if line.shop else None,
                "order_id": entities.order.id if entities and entities.order else None,
                "order_line_id": entities.order_line.id if entities and entities.order_line else None,
                "cycle_id": line.seller_billing_cycle_id,
            }
        )
    return rows


def order_currency(order: BcOrder) -> str:
    """The currency the shopper paid in (`default_currency_code`), "" when missing: the gate then stops the run."""
    return transactional_currency(order) or ""


def _minor_unit_currency(currency: str, store_currency: str) -> str:
    """The currency whose minor unit converts the amounts: the row's own, or the store's when the row's code is
    unknown (that row fails the gate's currency check anyway, so no conclusion is drawn from it)."""
    try:
        return check_currency(currency)
    except UnknownCurrencyError:
        return store_currency


def bc_line_rows(
    order: BcOrder,
    products: Iterable[OrderProduct],
    mappings: Iterable[OrderLineMapping],
    period: tuple[datetime, datetime],
    store_currency: str,
    cancelled: Mapping[int, Decimal] | None = None,
) -> list[dict[str, object]]:
    """The order's marketplace lines (those in the order map), in minor units, on OR01's basis: goods after
    discounts excl. tax and the tax as charged, in the transactional currency (`tasks.paid`), so a discounted
    line compares like with like against Mirakl's ORDER_AMOUNT and ORDER_AMOUNT_TAX.

    `cancelled` holds, per order product, the tax-included value refunded in BigCommerce and cancelled in Mirakl
    before the debit (`cancelled_values`): Mirakl debits, and books as ORDER_AMOUNT(_TAX), only the rest, so
    that share comes off both the amount and the tax here, and is not compared as a refund.
    """
    cancelled = cancelled or {}
    currency = order_currency(order)
    unit = _minor_unit_currency(currency, store_currency)
    by_id = {product.id: product for product in products}
    created = order.date_created
    in_period = created is not None and period[0] <= created < period[1]
    rows = []
    for mapping in mappings:
        product = by_id.get(mapping.bc_order_product_id)
        if product is None:
            continue
        paid = paid_inc_tax(product)
        kept = 1 - cancelled.get(product.id, Decimal(0)) / paid if paid else Decimal(1)
        rows.append(
            {
                "bc_order_id": order.id,
                "bc_order_product_id": product.id,
                "order_line_id": mapping.mirakl_order_line_id,
                "mirakl_order_id": mapping.mirakl_order_id,
                "shop_id": mapping.shop_id,
                "currency": currency,
                "bc_amount": to_minor(paid_ex_tax(product) * kept, unit),
                "bc_tax": to_minor(line_tax(product) * kept, unit),
                "in_period": in_period,
            }
        )
    return rows


def _item_value(item: RefundedItem, product: OrderProduct) -> Decimal:
    """A PRODUCT item's refunded value, tax included.

    It is refunded by quantity: `orders.v3.yml` (`Amount` schema) says the amount "becomes irrelevant when you
    select PRODUCT", and the refund read example answers `requested_amount: null`. So it is valued as BigCommerce
    values it: the quantity's share of what the customer paid for the line (discounts off, tax in,
    `tasks.paid.paid_inc_tax`), plus the item's (negative) adjustments.
    """
    paid = paid_inc_tax(product) * (item.quantity or 0) / product.quantity
    return max(paid + sum((adjustment.amount for adjustment in item.adjustments), Decimal(0)), Decimal(0))


def _product_items(
    refunds: Iterable[Refund], products: Mapping[int, OrderProduct]
) -> Iterable[tuple[Refund, RefundedItem, OrderProduct]]:
    for refund in refunds:
        for item in refund.items:
            product = products.get(item.item_id) if item.item_type == "PRODUCT" else None
            if product is not None and product.quantity:
                yield refund, item, product


def cancelled_values(
    refunds: Iterable[Refund], products: Mapping[int, OrderProduct], cancelled: Set[tuple[int, int]]
) -> dict[int, Decimal]:
    """Per order product, the value (tax included) of the (refund id, order product id) items in `cancelled`:
    refunded in BigCommerce and cancelled in Mirakl before the debit, whenever the refund was made."""
    values: dict[int, Decimal] = {}
    for refund, item, product in _product_items(refunds, products):
        if (refund.id, product.id) in cancelled:
            values[product.id] = values.get(product.id, Decimal(0)) + _item_value(item, product)
    return values


def bc_refund_rows(
    refunds: Iterable[Refund],
    products: Mapping[int, OrderProduct],
    currency: str,
    period: tuple[datetime, datetime],
    store_currency: str,
    cancelled: Set[tuple[int, int]] = frozenset(),
) -> list[dict[str, object]]:
    """Refunded amounts (tax included, `_item_value`) of the marketplace lines in `products`, for refunds created
    in the period; items in `cancelled` are left out, their value comes off the line (`bc_line_rows`)."""
    unit = _minor_unit_currency(currency, store_currency)
    return [
        {
            "bc_order_id": refund.order_id,
            "bc_order_product_id": item.item_id,
            "amount": to_minor(_item_value(item, product), unit),
        }
        for refund, item, product in _product_items(refunds, products)
        if (refund.created is None or period[0] <= refund.created < period[1])
        and (refund.id, product.id) not in cancelled
    ]


def cycles_frame(cycles: Iterable[BillingCycle], currency: str) -> pd.DataFrame:
    rows = [
        {
            "cycle_id": cycle.id,
            "shop_id": cycle.shop.shop_id if cycle.shop else None,
            "currency": cycle.currency_iso_code or "",
            "payout": to_minor(cycle.amount_transferred_to_seller, cycle.currency_iso_code or currency),
        }
        for cycle in cycles
    ]
    return frame(rows, CYCLE_COLUMNS)


def invoices_frame(invoices: Iterable[Invoice], currency: str) -> pd.DataFrame:
    """IV01 AUTO_INVOICE documents: what the operator billed each seller, excl. tax (commission and fees)."""
    rows = [
        {
            "invoice_id": str(doc.invoice_id if doc.invoice_id is not None else doc.id),
            "shop_id": doc.shop_id,
            "currency": doc.currency_iso_code or "",
            "invoiced": to_minor(doc.total_amount_excl_taxes, doc.currency_iso_code or currency),
        }
        for doc in invoices
        if doc.type in (None, "AUTO_INVOICE")
    ]
    return frame(rows, INVOICE_COLUMNS)


def gate_frame(
    days: Sequence[DayFetch],
    transactions: pd.DataFrame,
    bc_currencies: Mapping[int, str],
    cycles: pd.DataFrame | None,
    invoices: pd.DataFrame | None,
    currency: str,
) -> pd.DataFrame:
    """Every input record as a gate row: its id, whether its currency is the store's, whether its day is complete.

    `transactions` needs only `transaction_id` and `currency`: the flow gates the period's days, orders, cycles
    and invoices in one frame and its TL02 lines in slices (`PartitionStore.gate_slices`). Ids are prefixed by
    source (`day:`, `bc-order:`, `cycle:`, `invoice:`) so only a TL02 id seen twice
    counts as a duplicate transaction.
    """
    complete = {fetch.day: fetch.complete for fetch in days}
    parts = [
        pd.DataFrame(
            {
                "transaction_id": [f"day:{day.isoformat()}" for day in complete],
                "currency_ok": True,
                "day_complete": list(complete.values()),
            }
        ),
        pd.DataFrame(
            {
                "transaction_id": transactions["transaction_id"],
                "currency_ok": transactions["currency"] == currency,
                "day_complete": True,
            }
        ),
        pd.DataFrame(
            {
                "transaction_id": [f"bc-order:{order_id}" for order_id in bc_currencies],
                "currency_ok": [cur == currency for cur in bc_currencies.values()],
                "day_complete": True,
            }
        ),
    ]
    for prefix, source, key in (("cycle", cycles, "cycle_id"), ("invoice", invoices, "invoice_id")):
        if source is not None:
            parts.append(
                pd.DataFrame(
                    {
                        "transaction_id": f"{prefix}:" + source[key].astype(str),
                        "currency_ok": source["currency"] == currency,
                        "day_complete": True,
                    }
                )
            )
    gate = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    gate["currency_ok"] = gate["currency_ok"].astype(bool)
    gate["day_complete"] = gate["day_complete"].astype(bool)
    return gate
