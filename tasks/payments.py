"""Paying a customer back the way they paid, and knowing when the money really moved: one rule for every stream.

A refund quote lists `refund_methods`, "an array of refund methods, with each refund method being an array of
payment options" (orders.v3.yml `RefundQuote_Full`), and its example lists store credit first, then an offline
"custom" record, then the method that matches the payment. So the first method is not the card: the method is
chosen by the gateway that took the order's payment, read from the order's transactions
(`GET /v3/orders/{order_id}/transactions`, `Transaction.gateway`, events `purchase`/`capture`/`authorization`),
matched by name against the options' `provider_id` (the two enums share their names: `braintree`, `stripe`,
`storecredit`, `custom`, `bankdeposit` ...). Store credit or an offline record is used only when configured.

"The refund payment request is scheduled. The payment request itself occurs asynchronously" (orders.v3.yml,
Create a Refund), and a `RefundPayment` can be `is_declined`. The spec does not say how a payment still
waiting shows, so the bridge asks for positive evidence: every online payment of the refund needs a `refund`
transaction with status `ok` (by the payment's `transaction_id`, else by gateway and amount). Until then the
refund is `pending`; a declined payment, or a refund transaction in `error`, is `declined`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

from bridge.runtime import Runtime
from connectors.bigcommerce import Refund, Transaction
from connectors.bigcommerce.models import PaymentOption

__all__ = ["PAYMENT_EVENTS", "Settlement", "choose_refund_method", "paying_gateways", "settlement"]

PAYMENT_EVENTS = frozenset({"purchase", "capture", "authorization"})
Settlement = Literal["settled", "pending", "declined"]


async def paying_gateways(rt: Runtime, bc_order_id: int) -> set[str]:
    """The gateways that took the order's money (transactions of a payment event with status `ok`)."""
    return {
        t.gateway
        for t in await rt.bigcommerce.list_order_transactions(bc_order_id)
        if t.event in PAYMENT_EVENTS and t.status == "ok"
    }


def choose_refund_method(
    methods: Sequence[Sequence[PaymentOption]], paid_with: Collection[str], fallback: Collection[str] = ()
) -> list[PaymentOption] | None:
    """The method whose every option goes back to a gateway that took the payment; else one made only of the
    configured fallback providers (store credit, an offline record); else None: nobody may guess."""
    for allowed in (set(paid_with), set(fallback)):
        for method in methods:
            if method and all(o.provider_id in allowed for o in method):
                return list(method)
    return None


def settlement(refund: Refund, transactions: Sequence[Transaction]) -> Settlement:
    """Whether the refund's money moved: every online payment settled by an `ok` refund transaction."""
    if any(p.is_declined for p in refund.payments):
        return "declined"
    by_id = {str(t.id): t for t in transactions if t.id is not None}
    refunds = [t for t in transactions if t.event == "refund"]
    for payment in refund.payments:
        if payment.offline:
            continue  # an offline payment records a refund made outside BigCommerce: nothing to wait for
        found = by_id.get(payment.transaction_id or "")
        if found is None:
            found = next((t for t in refunds if t.gateway == payment.provider_id and t.amount == payment.amount), None)
        if found is None or found.event != "refund":
            return "pending"
        if found.status != "ok":
            return "declined"
    return "settled"
