"""Refused marketplace lines flow back to BigCommerce: the customer's money is refunded or queued for CX.

A seller refusal and an automatic one (the seller never answered) are handled alike. With `refused_lines:
refund` the bridge refunds exactly the refused order products and the shipping the customer paid for them
(the lines' shipping price and shipping taxes as sent to Mirakl, per shipping address), with a quote then a
refund back through the gateway that took the payment (`tasks.payments`), once per logistic order through the
ledger; with `queue` it opens a case for customer service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from bridge.runtime import Runtime
from bridge.streams import Stream
from connectors.bigcommerce.models import Refund, RefundItem, RefundPaymentRequest
from connectors.mirakl.models import Order as MiraklOrder
from connectors.money import round_money
from connectors.state import OrderLineMapping, get_order_line_by_mirakl_line, open_cs_case
from tasks.exactly_once import write_once
from tasks.payments import choose_refund_method, paying_gateways
from tasks.reporting import Tally, emit_alert

__all__ = ["REFUSED_EVENT", "NoRefundMethod", "refused_lines", "settle_refusal"]

REFUSED_EVENT = "bcmirakl.acceptance.refused"


def refused_lines(order: MiraklOrder) -> list[str]:
    return [line.order_line_id for line in order.order_lines if line.order_line_state == "REFUSED"]


class NoRefundMethod(Exception):
    """No refund method of the quote pays back through the gateway that took the payment (none configured)."""


async def settle_refusal(rt: Runtime, order: MiraklOrder, report: Tally) -> None:
    """Refund or queue the refused lines of one logistic order (nothing when it has none); `report` counts it."""
    line_ids = refused_lines(order)
    if not line_ids:
        return
    with rt.sessions() as session:
        mapped = [get_order_line_by_mirakl_line(session, line_id) for line_id in line_ids]
    lines = [m for m in mapped if m is not None]
    if not lines:
        return
    bc_order_id = lines[0].bc_order_id
    automatic = order.order_state == "REFUSED" and order.acceptance_decision_date is None
    detail = {
        "bc_order_id": bc_order_id,
        "mirakl_order_id": order.order_id,
        "order_product_ids": [m.bc_order_product_id for m in lines],
        "automatic": automatic,
    }
    if rt.config.acceptance.refused_lines == "queue":
        with rt.sessions() as session:
            new = open_cs_case(session, Stream.ACCEPTANCE_GUARD, order.order_id, "refused_lines", detail)
            session.commit()
        if new:
            report.add("refusals_queued")
            emit_alert(report, REFUSED_EVENT, f"bcmirakl.order.{bc_order_id}", {**detail, "action": "queued"})
        return
    try:
        outcome = await write_once(
            rt.sessions,
            system="bigcommerce",
            operation="refund_refused_lines",
            key=order.order_id,
            send=lambda: _refund(
                rt, bc_order_id, lines, _shipping_paid(order, line_ids), order.currency_iso_code or rt.config.currency
            ),
            external_id=lambda refund: str(refund.id),
            recover=lambda: _find_refund(rt, bc_order_id, {m.bc_order_product_id for m in lines}),
            detail=detail,
        )
    except NoRefundMethod as exc:
        # Nothing was sent: the ledger row stays `started` and the next run tries again (and recovers first).
        with rt.sessions() as session:
            new = open_cs_case(
                session, Stream.ACCEPTANCE_GUARD, order.order_id, "refund_method_missing", {**detail, "error": str(exc)}
            )
            session.commit()
        report.add("refusal_refund_no_method")
        if new:
            emit_alert(report, REFUSED_EVENT, f"bcmirakl.order.{bc_order_id}", {**detail, "action": "no_refund_method"})
        return
    report.add(f"refusal_refund_{outcome.status}")
    if outcome.status in ("sent", "recovered"):
        emit_alert(report, REFUSED_EVENT, f"bcmirakl.order.{bc_order_id}", {**detail, "action": "refunded"})
    if not outcome.done and outcome.status == "failed":
        with rt.sessions() as session:
            open_cs_case(
                session, Stream.ACCEPTANCE_GUARD, order.order_id, "refund_failed", {**detail, "error": outcome.error}
            )
            session.commit()


def _shipping_paid(order: MiraklOrder, line_ids: Sequence[str]) -> dict[str, Decimal]:
    """Shipping (tax included) the customer paid per refused Mirakl line, as the order sent to Mirakl says."""
    wanted = set(line_ids)
    paid: dict[str, Decimal] = {}
    for line in order.order_lines:
        if line.order_line_id in wanted:
            taxes = sum((t.amount or Decimal(0) for t in line.shipping_taxes), Decimal(0))
            paid[line.order_line_id] = (line.shipping_price or Decimal(0)) + taxes
    return paid


async def _refund(
    rt: Runtime,
    bc_order_id: int,
    lines: Sequence[OrderLineMapping],
    shipping: Mapping[str, Decimal],
    currency: str,
) -> Refund:
    reason = rt.config.acceptance.refund_reason
    items = [
        RefundItem(item_type="PRODUCT", item_id=m.bc_order_product_id, quantity=m.quantity, reason=reason)
        for m in lines
    ]
    if any(shipping.values()):
        # BigCommerce refunds shipping per address: find each refused line's address once.
        address_of = {p.id: p.order_address_id for p in await rt.bigcommerce.list_order_products(bc_order_id)}
        per_address: dict[int, Decimal] = {}
        for m in lines:
            address = address_of.get(m.bc_order_product_id)
            amount = shipping.get(m.mirakl_order_line_id, Decimal(0))
            if address is not None and amount:
                per_address[address] = per_address.get(address, Decimal(0)) + amount
        items += [
            RefundItem(item_type="SHIPPING", item_id=address, amount=round_money(amount, currency), reason=reason)
            for address, amount in sorted(per_address.items())
        ]
    quote = await rt.bigcommerce.create_refund_quote(bc_order_id, items)
    paid_with = await paying_gateways(rt, bc_order_id)
    method = choose_refund_method(quote.refund_methods, paid_with, rt.config.refunds.fallback_refund_providers)
    if method is None:
        raise NoRefundMethod(f"no refund method of order {bc_order_id} goes back to {sorted(paid_with)}")
    payments = [
        RefundPaymentRequest(provider_id=o.provider_id, amount=o.amount, offline=bool(o.offline)) for o in method
    ]
    return await rt.bigcommerce.create_refund(bc_order_id, items, payments)


async def _find_refund(rt: Runtime, bc_order_id: int, product_ids: set[int]) -> str | None:
    """A refund of exactly these order products, made by an attempt whose answer was lost."""
    for refund in await rt.bigcommerce.list_order_refunds(bc_order_id):
        refunded: Mapping[int, str] = {i.item_id: i.item_type for i in refund.items if i.item_type == "PRODUCT"}
        if set(refunded) == product_ids:
            return str(refund.id)
    return None
