"""Mirakl → BigCommerce: refunds sellers raise wait in PA12 until the operator pays the customer back.

The operator holds the customer's money, so a seller's refund reaches the customer only when the bridge pays
it through BigCommerce (refund quote, then the refund) and confirms it to Mirakl with PA02 OK and the
BigCommerce refund id as transaction reference. A refund BigCommerce refuses gets no PA02 and opens an
exception case for customer service. Refunds the bridge itself created with OR28 also pass through PA12: the
customer was already refunded in BigCommerce, so they are only confirmed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from prefect import task
from prefect.cache_policies import NO_CACHE

from bcmirakl.runtime import Runtime
from connectors.bigcommerce import Refund as BcRefund
from connectors.bigcommerce import RefundPaymentRequest
from connectors.mirakl import PendingRefund, RefundConfirmation
from connectors.money import round_money
from connectors.state import get_logistic_order, get_order_line_by_mirakl_line, ledger_get, open_exception
from tasks.effects import mark_done_elsewhere, write_once
from tasks.refunds.amounts import MIRAKL_REFUND_MARKER, bc_items_for_mirakl_refund
from tasks.reporting import RunReport, emit_alert
from tasks.retry import TASK_RETRY

__all__ = ["pay_mirakl_refunds"]

STREAM = "refund_mirror"


async def _pay_in_bigcommerce(
    rt: Runtime, refund_id: str, order_id: str, line_id: str, amount: Decimal, report: RunReport
) -> tuple[str | None, str | None]:
    """(BigCommerce refund id, error): the existing one when recorded, else quote and refund through the ledger."""
    key = f"bc-refund:{refund_id}"
    with rt.sessions() as session:
        entry = ledger_get(session, "bigcommerce", "refund", key)
        if entry is not None and entry.outcome == "succeeded":
            return entry.external_id, None
        if entry is not None and entry.outcome == "failed":
            return None, "BigCommerce refused this refund in an earlier run"
        logistic = get_logistic_order(session, order_id)
        mapping = get_order_line_by_mirakl_line(session, line_id)
    if logistic is None or logistic.bc_order_id is None or mapping is None:
        return None, f"Mirakl line {line_id} is not in the order map"
    bc_order_id = logistic.bc_order_id
    [mirakl_order] = [o async for page in rt.mirakl.iter_orders(order_ids=[order_id]) for o in page]
    line = next(line for line in mirakl_order.order_lines if line.order_line_id == line_id)
    products = {p.id: p for p in await rt.bigcommerce.list_order_products(bc_order_id)}
    plan = bc_items_for_mirakl_refund(refund_id, mirakl_order, line, products[mapping.bc_order_product_id], bc_order_id)
    if plan.total != amount:
        return None, f"refund {refund_id}: PA12 asks {amount}, its lines add up to {plan.total}"

    async def send() -> BcRefund:
        quote = await rt.bigcommerce.create_refund_quote(bc_order_id, plan.items)
        method = quote.refund_methods[0]  # BigCommerce lists the method that took the payment first
        payments = [
            RefundPaymentRequest(provider_id=o.provider_id, amount=o.amount, offline=bool(o.offline)) for o in method
        ]
        return await rt.bigcommerce.create_refund(bc_order_id, plan.items, payments)

    async def recover() -> str | None:
        marker = f"{MIRAKL_REFUND_MARKER} {refund_id} "
        found = [r for r in await rt.bigcommerce.list_order_refunds(bc_order_id) if (r.reason or "").startswith(marker)]
        return str(found[0].id) if found else None

    outcome = await write_once(
        rt.sessions,
        system="bigcommerce",
        operation="refund",
        key=key,
        send=send,
        external_id=lambda refund: str(refund.id),
        recover=recover,
        detail={"bc_order_id": bc_order_id, "mirakl_refund_id": refund_id, "amount": amount},
    )
    if not outcome.done:
        return None, outcome.error or f"BigCommerce refund {outcome.status}"
    # Its BigCommerce refund must not come back to Mirakl as a new OR28.
    or28_key = f"or28:{outcome.external_id}:{line_id}"
    mark_done_elsewhere(rt.sessions, "mirakl", "OR28", or28_key, refund_id, key)
    if outcome.status in ("sent", "recovered"):
        report.add("refunds_to_bigcommerce")
        report.tables.setdefault("to-bigcommerce", []).append(
            {
                "mirakl_refund_id": refund_id,
                "mirakl_order_line_id": line_id,
                "bc_order_id": bc_order_id,
                "bc_refund_id": outcome.external_id,
                "amount": amount,
                "status": outcome.status,
            }
        )
    return outcome.external_id, None


async def _confirm(rt: Runtime, refund_id: str, amount: Decimal, currency: str | None, bc_refund_id: str) -> bool:
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

    outcome = await write_once(
        rt.sessions,
        system="mirakl",
        operation="PA02",
        key=f"pa02:{refund_id}",
        send=send,
        detail={"bc_refund_id": bc_refund_id, "amount": amount},
    )
    return outcome.status in ("sent", "recovered")


def _refused(rt: Runtime, report: RunReport, refund_id: str, order_id: str, error: str) -> None:
    report.add("refunds_refused_by_bigcommerce")
    report.tables.setdefault("exceptions", []).append({"mirakl_refund_id": refund_id, "mirakl_order_id": order_id})
    with rt.sessions() as session:
        opened = open_exception(
            session, STREAM, f"mirakl-refund:{refund_id}", "refund-not-paid", {"order_id": order_id, "error": error}
        )
        session.commit()
    if opened:
        emit_alert(
            report,
            "bcmirakl.refunds.not-paid",
            f"bcmirakl.mirakl-refund.{refund_id}",
            {"mirakl_refund_id": refund_id, "mirakl_order_id": order_id, "error": error},
        )


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def pay_mirakl_refunds(rt: Runtime, report: RunReport) -> None:
    """Pay every refund waiting in PA12 through BigCommerce and confirm it with PA02, each exactly once."""
    # PA02 shrinks PA12 and shifts its offsets: read the whole queue before confirming anything.
    waiting: list[PendingRefund] = [order async for page in rt.mirakl.iter_pending_refunds() for order in page]
    for order in waiting:
        for line in order.order_lines:
            for pending in line.refunds:
                bc_refund_id, error = await _pay_in_bigcommerce(
                    rt, pending.id, order.order_id, line.order_line_id, pending.amount, report
                )
                if bc_refund_id is None:
                    _refused(rt, report, pending.id, order.order_id, error or "unknown")
                    continue
                if await _confirm(rt, pending.id, pending.amount, order.currency_iso_code, bc_refund_id):
                    report.add("refunds_confirmed_to_mirakl")
                    amount = Decimal(str(report.counts.get("confirmed_to_mirakl_amount", "0"))) + pending.amount
                    report.counts["confirmed_to_mirakl_amount"] = str(round_money(amount, rt.config.currency))
