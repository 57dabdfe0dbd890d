"""Mirakl → BigCommerce: refunds sellers raise wait in PA12 until the operator pays the customer back.

The operator holds the customer's money, so a seller's refund reaches the customer only when the bridge pays
it through BigCommerce (refund quote, then the refund) and confirms it to Mirakl with PA02 OK and the
BigCommerce refund id as transaction reference. The quote must pay exactly the PA12 amount and the refund goes
back through the gateway that took the order's payment (`tasks.payments`); PA02 follows only once the money
moved: a refund payment still waiting is retried next run, a declined one (or a refund BigCommerce refuses)
gets no PA02 and opens an exception case for customer service. Refunds the bridge itself created with OR28
also pass through PA12: the customer was already refunded in BigCommerce, so they are confirmed once that
refund's money moved.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from bridge.streams import Stream
from common.errors import PermanentApiError
from connectors.bigcommerce import RefundPaymentRequest
from connectors.mirakl import LineRefundConfirmation, PendingRefund, RefundConfirmation
from connectors.mirakl import Order as MiraklOrder
from connectors.mirakl.models import PendingRefundItem, PendingRefundLine
from connectors.state import get_logistic_order, get_order_line_by_mirakl_line, ledger_get, open_cs_case
from tasks.exactly_once import mark_done_elsewhere, write_once
from tasks.payments import choose_refund_method, paying_gateways, settlement
from tasks.refund_amounts import MIRAKL_REFUND_MARKER, bc_items_for_mirakl_refund
from tasks.reporting import Tally, emit_alert, step_line, step_tally
from tasks.retry import TASK_RETRY

__all__ = ["WaitingRefunds", "pay_mirakl_refunds", "read_waiting_refunds"]


@dataclass(frozen=True)
class Payment:
    """Where paying one Mirakl refund stands: the BigCommerce refund id once made, and whether its money moved."""

    bc_refund_id: str | None
    state: Literal["settled", "pending", "declined", "refused"]
    error: str | None = None


@dataclass(frozen=True)
class Owed:
    """One refund waiting in PA12: its amount, Mirakl order and line, and the order as the run's one OR11 read
    gave it (OR11's budget is one call a minute), None when OR11 did not return it."""

    refund_id: str
    order_id: str
    line_id: str
    amount: Decimal
    mirakl_order: MiraklOrder | None


async def _pay_in_bigcommerce(rt: Runtime, owed: Owed, report: Tally) -> Payment:
    """Quote, check, refund through the ledger (or find the refund already made), then check the money moved."""
    refund_id, line_id = owed.refund_id, owed.line_id
    key = f"bc-refund:{refund_id}"
    with rt.sessions() as session:
        entry = ledger_get(session, "bigcommerce", "refund", key)
        logistic = get_logistic_order(session, owed.order_id)
        mapping = get_order_line_by_mirakl_line(session, line_id)
    if entry is not None and entry.outcome == "failed":
        return Payment(None, "refused", "BigCommerce refused this refund in an earlier run")
    if logistic is None or logistic.bc_order_id is None or mapping is None:
        if entry is not None and entry.outcome == "succeeded":
            return Payment(entry.external_id, "settled")  # paid by a refund the bridge does not map: trusted
        return Payment(None, "refused", f"Mirakl line {line_id} is not in the order map")
    bc_order_id = logistic.bc_order_id
    if entry is None or entry.outcome != "succeeded":
        made = await _make_refund(rt, owed, bc_order_id, mapping.bc_order_product_id)
        if made.state == "refused":
            return made
        bc_refund_id = made.bc_refund_id
        if made.state == "settled":
            report.add("refunds_to_bigcommerce")
            report.tables.setdefault("to-bigcommerce", []).append(
                {
                    "mirakl_refund_id": refund_id,
                    "mirakl_order_line_id": line_id,
                    "bc_order_id": bc_order_id,
                    "bc_refund_id": bc_refund_id,
                    "amount": owed.amount,
                    "status": "sent",
                }
            )
    else:
        bc_refund_id = entry.external_id
    # Its BigCommerce refund must not come back to Mirakl as a new OR28.
    mark_done_elsewhere(rt.sessions, "mirakl", "OR28", f"or28:{bc_refund_id}:{line_id}", refund_id, key)
    return await _money_moved(rt, bc_order_id, bc_refund_id)


async def _make_refund(rt: Runtime, owed: Owed, bc_order_id: int, product_id: int) -> Payment:
    refund_id, amount, mirakl_order = owed.refund_id, owed.amount, owed.mirakl_order
    if mirakl_order is None:
        return Payment(None, "refused", f"Mirakl order {owed.order_id} was not returned by OR11")
    line = next(line for line in mirakl_order.order_lines if line.order_line_id == owed.line_id)
    products = {p.id: p for p in await rt.bigcommerce.list_order_products(bc_order_id)}
    plan = bc_items_for_mirakl_refund(refund_id, mirakl_order, line, products[product_id], bc_order_id)
    if plan.total != amount:
        return Payment(None, "refused", f"refund {refund_id}: PA12 asks {amount}, its lines add up to {plan.total}")
    marker = f"{MIRAKL_REFUND_MARKER} {refund_id} "

    async def recover() -> str | None:
        found = [r for r in await rt.bigcommerce.list_order_refunds(bc_order_id) if (r.reason or "").startswith(marker)]
        return str(found[0].id) if found else None

    with rt.sessions() as session:
        interrupted = ledger_get(session, "bigcommerce", "refund", f"bc-refund:{refund_id}") is not None
    payments: list[RefundPaymentRequest] = []
    if not interrupted or await recover() is None:
        try:
            quote = await rt.bigcommerce.create_refund_quote(bc_order_id, plan.items)
        except PermanentApiError as exc:
            return Payment(None, "refused", exc.api_message)
        if quote.total_refund_amount != amount:
            # The quote is what BigCommerce would pay back: it must be exactly what Mirakl confirms with PA02.
            return Payment(None, "refused", f"the quote pays {quote.total_refund_amount}, PA12 asks {amount}")
        method = choose_refund_method(
            quote.refund_methods, await paying_gateways(rt, bc_order_id), rt.config.refunds.fallback_refund_providers
        )
        if method is None:
            return Payment(None, "refused", "no refund method pays back through the gateway the customer paid with")
        payments = [
            RefundPaymentRequest(provider_id=o.provider_id, amount=o.amount, offline=bool(o.offline)) for o in method
        ]
    outcome = await write_once(
        rt.sessions,
        system="bigcommerce",
        operation="refund",
        key=f"bc-refund:{refund_id}",
        send=lambda: rt.bigcommerce.create_refund(bc_order_id, plan.items, payments),
        external_id=lambda refund: str(refund.id),
        recover=recover,
        detail={"bc_order_id": bc_order_id, "mirakl_refund_id": refund_id, "amount": amount},
    )
    if not outcome.done:
        return Payment(None, "refused", outcome.error or f"BigCommerce refund {outcome.status}")
    return Payment(outcome.external_id, "settled")


async def _money_moved(rt: Runtime, bc_order_id: int, bc_refund_id: str | None) -> Payment:
    refund = next((r for r in await rt.bigcommerce.list_order_refunds(bc_order_id) if str(r.id) == bc_refund_id), None)
    if refund is None:
        return Payment(bc_refund_id, "pending")
    state = settlement(refund, await rt.bigcommerce.list_order_transactions(bc_order_id))
    declined = "; ".join(p.declined_message or "declined" for p in refund.payments if p.is_declined)
    return Payment(bc_refund_id, state, f"refund {bc_refund_id} declined: {declined}" if state == "declined" else None)


async def _pa02(rt: Runtime, key: str, send: Callable[[], Awaitable[None]], detail: dict[str, Any]) -> bool:
    """PA02 once per key through the ledger; True when this run confirmed it (sent, or recovered)."""
    outcome = await write_once(rt.sessions, system="mirakl", operation="PA02", key=key, send=send, detail=detail)
    return outcome.status in ("sent", "recovered")


async def _confirm(rt: Runtime, refund_id: str, amount: Decimal, currency: str | None, bc_refund_id: str) -> bool:
    """PA02 in the per-refund form, the BigCommerce refund id as transaction reference."""

    async def send() -> None:
        confirmation = RefundConfirmation(
            refund_id=refund_id,
            payment_status="OK",
            amount=amount,
            currency_iso_code=currency,
            transaction_number=bc_refund_id,
            transaction_date=datetime.now(UTC),
        )
        await rt.mirakl.confirm_refunds([confirmation])

    return await _pa02(rt, f"pa02:{refund_id}", send, {"bc_refund_id": bc_refund_id, "amount": amount})


def _refused(rt: Runtime, report: Tally, refund_id: str, order_id: str, error: str) -> None:
    report.add("refunds_refused_by_bigcommerce")
    report.tables.setdefault("exceptions", []).append({"mirakl_refund_id": refund_id, "mirakl_order_id": order_id})
    with rt.sessions() as session:
        opened = open_cs_case(
            session,
            Stream.REFUND_MIRROR,
            f"mirakl-refund:{refund_id}",
            "refund-not-paid",
            {"order_id": order_id, "error": error},
        )
        session.commit()
    if opened:
        emit_alert(
            report,
            "bcmirakl.refunds.not-paid",
            f"bcmirakl.mirakl-refund.{refund_id}",
            {"mirakl_refund_id": refund_id, "mirakl_order_id": order_id, "error": error},
        )


async def _confirm_line(
    rt: Runtime, order: PendingRefund, line: PendingRefundLine, paid: list[tuple[PendingRefundItem, str]]
) -> bool:
    """PA02 in the `order_lines` form: one entry for every refund waiting on the line, once all are paid."""
    amount = sum((item.amount for item, _ in paid), Decimal("0"))
    bc_refund_ids = ",".join(bc_refund_id for _, bc_refund_id in paid)

    async def send() -> None:
        confirmation = LineRefundConfirmation(
            order_id=order.order_id,
            order_line_id=line.order_line_id,
            customer_id=order.customer_id or "",
            payment_status="OK",
            amount=amount,
            transaction_number=bc_refund_ids,
            transaction_date=datetime.now(UTC),
        )
        await rt.mirakl.confirm_line_refunds([confirmation])

    refund_ids = "+".join(sorted(item.id for item, _ in paid))
    detail = {"bc_refund_ids": bc_refund_ids, "amount": amount}
    return await _pa02(rt, f"pa02:line:{line.order_line_id}:{refund_ids}", send, detail)


@dataclass(frozen=True)
class WaitingRefunds:
    """Mirakl's PA12 queue as read before anything is confirmed, with each of its orders as OR11 gives it."""

    waiting: list[PendingRefund]
    orders: dict[str, MiraklOrder]


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def read_waiting_refunds(rt: Runtime) -> WaitingRefunds:
    """Every refund waiting in PA12, read whole: PA02 shrinks PA12 and shifts its offsets."""
    waiting: list[PendingRefund] = [order async for page in rt.mirakl.iter_pending_refunds() for order in page]
    # One OR11 read (100 ids a call) for every order with a waiting refund: OR11's budget is one call a minute.
    wanted = sorted({order.order_id for order in waiting})
    orders = {o.order_id: o async for page in rt.mirakl.iter_orders(order_ids=wanted) for o in page} if wanted else {}
    refunds = sum(len(line.refunds) for order in waiting for line in order.order_lines)
    step_line("read_waiting_refunds", Tally(counts={"refunds_waiting": refunds, "mirakl_orders": len(orders)}))
    return WaitingRefunds(waiting, orders)


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def pay_mirakl_refunds(rt: Runtime, queue: WaitingRefunds) -> Tally:
    """Pay every waiting refund through BigCommerce and confirm it with PA02, each exactly once.

    PA02 goes per refund, or per order line where the tenant has partial refunds disabled
    (`refunds.refund_confirmation: order_lines`): then a line is confirmed once every refund on it is paid.
    """
    per_line = rt.config.refunds.refund_confirmation == "order_lines"
    with step_tally() as report:
        for order in queue.waiting:
            for line in order.order_lines:
                paid_on_line: list[tuple[PendingRefundItem, str]] = []
                for pending in line.refunds:
                    owed = Owed(
                        pending.id, order.order_id, line.order_line_id, pending.amount, queue.orders.get(order.order_id)
                    )
                    paid = await _pay_in_bigcommerce(rt, owed, report)
                    if paid.state == "pending":
                        report.add("refunds_payment_pending")  # PA02 once the payment request has run
                        continue
                    if paid.state != "settled" or paid.bc_refund_id is None:
                        _refused(rt, report, pending.id, order.order_id, paid.error or paid.state)
                        continue
                    if per_line:
                        paid_on_line.append((pending, paid.bc_refund_id))
                    elif await _confirm(rt, pending.id, pending.amount, order.currency_iso_code, paid.bc_refund_id):
                        _count_confirmed(rt, report, [pending])
                complete = per_line and paid_on_line and len(paid_on_line) == len(line.refunds)
                if complete and await _confirm_line(rt, order, line, paid_on_line):
                    _count_confirmed(rt, report, [item for item, _ in paid_on_line])
        return report


def _count_confirmed(rt: Runtime, report: Tally, items: list[PendingRefundItem]) -> None:
    report.add("refunds_confirmed_to_mirakl", len(items))
    total = sum((item.amount for item in items), Decimal("0"))
    report.add_money("confirmed_to_mirakl_amount", total, rt.config.currency)
