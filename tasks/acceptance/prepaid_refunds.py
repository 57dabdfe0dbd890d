"""Lines BigCommerce refunded before Mirakl debited the customer: cancel them in Mirakl (OR30), debit the rest.

BigCommerce's v2 order cannot tell: orders.v2.oas2.yml says of `refunded_amount` "This value will always return
`0`", so refunds are read from the v3 refunds API (`GET /v3/orders/{order_id}/payment_actions/refunds`). A
refund whose payment the provider declined (`is_declined`, orders.v3.yml `RefundPayment`) moved no money and is
left out. Each refunded share of a waiting Mirakl line becomes one OR30 cancellation (mmp-front-openapi.yaml,
OR30 "Perform cancelations on order lines", allowed while the order is not debited), valued like the OR28
refund it would otherwise become (`or28_rows`), so PA11 then asks only what the customer still owes. OR28 is
not used here: refunds apply to debited lines (operator spec OR28), and a refund before the debit would have the
customer debited for goods already paid back. Each cancellation is recorded under the refund mirror's OR28 key
too, so the mirror never refunds the same share again after the debit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from bridge.runtime import Runtime
from connectors.mirakl import LineCancelation
from connectors.mirakl.models import Debit
from connectors.state import ledger_get, order_lines_for
from tasks.exactly_once import mark_done_elsewhere, write_once
from tasks.refund_amounts import PRE_DEBIT_STATES, line_refund_fields, money_moved, or28_rows
from tasks.reporting import Tally

__all__ = [
    "RefundedBeforeDebit",
    "cancel_refunded_lines",
    "cancelled_before_debit",
    "or30_key",
    "refunded_before_debit",
]

ZERO = Decimal("0")


@dataclass
class RefundedBeforeDebit:
    """What BigCommerce paid back on one order: in total, and per waiting Mirakl line (tax included)."""

    paid_back: Decimal = ZERO
    rows: list[dict[str, Any]] = field(default_factory=list)

    def gross_by_line(self) -> dict[str, Decimal]:
        found: dict[str, Decimal] = {}
        for row in self.rows:
            found[row["mirakl_order_line_id"]] = found.get(row["mirakl_order_line_id"], ZERO) + _gross(row)
        return found


def _gross(row: dict[str, Any]) -> Decimal:
    gross = row["amount"] + row["shipping_amount"]
    if row["order_tax_mode"] == "TAX_EXCLUDED":
        gross += sum((t["amount"] for t in [*row["taxes"], *row["shipping_taxes"]]), ZERO)
    return gross


async def refunded_before_debit(
    rt: Runtime, bc_order_id: int, debits: Sequence[Debit], reason_code: str | None
) -> RefundedBeforeDebit:
    """The order's refunds that moved money, and each one's share of the debits' lines as OR30 rows."""
    refunds = [r for r in await rt.bigcommerce.list_order_refunds(bc_order_id) if money_moved(r)]
    result = RefundedBeforeDebit(paid_back=sum((r.total_amount for r in refunds), ZERO))
    waiting = {line.order_line_id for debit in debits for line in debit.order_lines}
    with rt.sessions() as session:
        mappings = {
            m.bc_order_product_id: m
            for m in order_lines_for(session, bc_order_id=bc_order_id)
            if m.mirakl_order_line_id in waiting
        }
    touched = [r for r in refunds if any(i.item_type == "PRODUCT" and i.item_id in mappings for i in r.items)]
    if not touched:
        return result
    products = {p.id: p for p in await rt.bigcommerce.list_order_products(bc_order_id)}
    lines = {
        line.order_line_id: (order, line)
        async for page in rt.mirakl.iter_orders(order_ids=sorted({d.order_id for d in debits}))
        for order in page
        if order.order_state in PRE_DEBIT_STATES
        for line in order.order_lines
    }
    for refund in touched:
        rows, _closed = or28_rows(refund, products, mappings, lines, reason_code, {})
        result.rows += rows
    ordered = {m.mirakl_order_line_id: m.quantity for m in mappings.values() if m.mirakl_order_line_id}
    _nothing_left_to_ship(result.rows, lines, ordered)
    return result


def _nothing_left_to_ship(
    rows: list[dict[str, Any]], lines: dict[str, tuple[Any, Any]], ordered: dict[str, int]
) -> None:
    """A line refunded unit for unit ships nothing: its last cancellation also takes the shipping left on it.

    Otherwise the seller would be debited-for and asked to ship an empty line for its shipping price alone.
    """
    by_line: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_line.setdefault(row["mirakl_order_line_id"], []).append(row)
    for line_id, group in by_line.items():
        _order, line = lines[line_id]
        if sum(row["quantity"] for row in group) < ordered.get(line_id, line.quantity or 0):
            continue  # units are left to ship (quantities as sent with OR01: the order map's)
        last = group[-1]
        taken = sum((row["shipping_amount"] for row in group[:-1]), ZERO)
        last["shipping_amount"] = (line.shipping_price or ZERO) - taken
        taken_taxes: dict[str, Decimal] = {}
        for row in group[:-1]:
            for tax in row["shipping_taxes"]:
                taken_taxes[tax["code"]] = taken_taxes.get(tax["code"], ZERO) + tax["amount"]
        last["shipping_taxes"] = [
            {"code": t.code, "amount": (t.amount or ZERO) - taken_taxes.get(t.code, ZERO)}
            for t in line.shipping_taxes
            if t.code
        ]


def or30_key(bc_refund_id: int | str, mirakl_order_line_id: str) -> str:
    """The ledger key of the OR30 cancelling one BigCommerce refund's share of one Mirakl line."""
    return f"or30:{bc_refund_id}:{mirakl_order_line_id}"


def _or30_key(row: dict[str, Any]) -> str:
    return or30_key(row["bc_refund_id"], row["mirakl_order_line_id"])


def cancelled_before_debit(session: Session, bc_refund_id: int | str, mirakl_order_line_id: str) -> bool:
    """Whether this refund's share of the line was cancelled in Mirakl (OR30) before the customer was debited.

    Such a share never reaches Mirakl as a refund: the debit, and so TL02's ORDER_AMOUNT, is smaller instead.
    """
    entry = ledger_get(session, "mirakl", "OR30", or30_key(bc_refund_id, mirakl_order_line_id))
    return entry is not None and entry.outcome == "succeeded"


def _decided(rt: Runtime, row: dict[str, Any]) -> bool:
    with rt.sessions() as session:
        entry = ledger_get(session, "mirakl", "OR30", _or30_key(row))
        mirrored = ledger_get(session, "mirakl", "OR28", row["key"])
    decided = entry is not None and entry.outcome != "started"
    return decided or (mirrored is not None and mirrored.outcome == "succeeded")


async def cancel_refunded_lines(rt: Runtime, rows: Iterable[dict[str, Any]], report: Tally) -> int:
    """OR30 once per (BigCommerce refund, Mirakl line) not yet cancelled; returns how many were sent."""
    sent = 0
    for row in rows:
        if _decided(rt, row):
            continue
        if row["reason_code"] is None:
            report.add("or30_no_reason_code")  # the debit stays a mismatch: the customer is not debited
            continue

        async def recover(row: dict[str, Any] = row) -> str | None:
            # OR30 has no client reference: a cancellation of the same amounts on the line is ours.
            [order] = [o async for page in rt.mirakl.iter_orders(order_ids=[row["mirakl_order_id"]]) for o in page]
            line = next(x for x in order.order_lines if x.order_line_id == row["mirakl_order_line_id"])
            return next(
                (
                    c.id
                    for c in line.cancelations
                    if (c.amount, c.shipping_amount) == (row["amount"], row["shipping_amount"])
                ),
                None,
            )

        outcome = await write_once(
            rt.sessions,
            system="mirakl",
            operation="OR30",
            key=_or30_key(row),
            send=lambda row=row: rt.mirakl.cancel_lines(
                [LineCancelation(**line_refund_fields(row))], order_tax_mode=row["order_tax_mode"]
            ),
            external_id=lambda created: created[0].cancelation_id if created else None,
            recover=recover,
            detail={"bc_refund_id": row["bc_refund_id"], "amount": str(row["amount"]), "quantity": row["quantity"]},
        )
        report.add(f"or30_{outcome.status}")
        if outcome.done:
            # The customer's BigCommerce refund is matched by this cancellation: the refund mirror must not OR28 it.
            mark_done_elsewhere(rt.sessions, "mirakl", "OR28", row["key"], outcome.external_id, _or30_key(row))
            report.tables.setdefault("cancelled-before-debit", []).append(
                {
                    "bc_refund_id": row["bc_refund_id"],
                    "mirakl_order_line_id": row["mirakl_order_line_id"],
                    "quantity": row["quantity"],
                    "amount": row["amount"],
                    "shipping_amount": row["shipping_amount"],
                    "status": outcome.status,
                }
            )
        sent += outcome.status == "sent"
    return sent
