"""Debit confirmation (PA11 -> PA01): confirm only what the customer still owes, refuse what BigCommerce cancelled.

The decision is pure and conservative: an amount that differs from what routing recorded in the order map, less
what BigCommerce refunded on those lines before the debit, is an exception for a person, never a confirmation;
an order BigCommerce has not (yet) been paid for waits. What BigCommerce paid back comes from the v3 refunds
API: the v2 order's `refunded_amount` "will always return `0`" (orders.v2.oas2.yml), so it is never read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from bridge.config import OrderRoutingConfig
from connectors.bigcommerce.models import Order as BcOrder
from connectors.mirakl.models import Debit
from connectors.money import round_money

__all__ = ["PAID_PAYMENT_STATUSES", "DebitDecision", "decide_debit", "expected_amount"]

# "partially refunded" is paid only for what is left: the v3 refunds are subtracted before it counts.
PAID_PAYMENT_STATUSES = frozenset({"captured", "paid", "authorized", "partially refunded"})
Verdict = Literal["OK", "REFUSED", "WAIT", "MISMATCH"]


@dataclass(frozen=True)
class DebitDecision:
    verdict: Verdict
    reason: str
    expected: Decimal | None = None


def expected_amount(
    debit: Debit,
    line_amounts: Mapping[str, Decimal | None],
    refunded: Mapping[str, Decimal] | None = None,
    quantities: Mapping[str, int] | None = None,
    currency: str = "USD",
) -> Decimal | None:
    """What Mirakl should debit for the debit's lines: the order map's amounts less what BigCommerce refunded on
    them before the debit (tax included); None when a line is unknown.

    With `quantities` (the order map's, for a debit per shipment) a line shipped in part is expected for its
    units' share (`order_line_quantity` of the mapped quantity), rounded to the currency's minor unit.
    """
    refunded = refunded or {}
    total = Decimal("0")
    for line in debit.order_lines:
        amount = line_amounts.get(line.order_line_id)
        if amount is None:
            return None
        owed = amount - refunded.get(line.order_line_id, Decimal("0"))
        mapped = (quantities or {}).get(line.order_line_id)
        if mapped and line.order_line_quantity < mapped:
            owed = round_money(owed * line.order_line_quantity / mapped, currency)
        total += owed
    return total if debit.order_lines else None


def decide_debit(
    debit: Debit,
    expected: Decimal | None,
    bc_order: BcOrder,
    config: OrderRoutingConfig,
    paid_back: Decimal,
    entity_kind: str = "ORDER",
) -> DebitDecision:
    """OK, REFUSED, WAIT (not paid yet) or MISMATCH (an exception) for one PA11 debit.

    `paid_back` is the total of the order's BigCommerce refunds that moved money (v3 refunds API); `entity_kind`
    is how the tenant is configured to debit (PA11 `debit_entity.type`: "ORDER" or "SHIPMENT").
    """
    if debit.debit_entity is not None and debit.debit_entity.type != entity_kind:
        reason = f"Mirakl debits per {debit.debit_entity.type}, the configuration says per {entity_kind}"
        return DebitDecision("MISMATCH", reason, expected)
    if bc_order.status_id in config.cancelled_status_ids:
        return DebitDecision("REFUSED", "cancelled in BigCommerce", expected)
    if bc_order.status_id in config.refunded_status_ids or bc_order.payment_status == "refunded":
        return DebitDecision("REFUSED", "refunded in BigCommerce", expected)
    if expected is None:
        return DebitDecision("MISMATCH", "debit lines are not in the order map", None)
    if debit.amount != expected:
        return DebitDecision("MISMATCH", f"Mirakl asks {debit.amount}, the order map says {expected}", expected)
    paid = bc_order.status_id in config.paid_status_ids or bc_order.payment_status in PAID_PAYMENT_STATUSES
    if not paid or bc_order.status_id in config.manual_verification_status_ids:
        return DebitDecision("WAIT", "BigCommerce payment not confirmed", expected)
    if bc_order.total_inc_tax - paid_back < debit.amount:
        return DebitDecision("MISMATCH", "the BigCommerce payment does not cover the debit", expected)
    return DebitDecision("OK", "paid in BigCommerce", expected)
