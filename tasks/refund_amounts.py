"""Refund arithmetic between BigCommerce and Mirakl, kept pure so every rounding rule is tested without I/O.

Both the refund mirror (OR28 after the debit) and the acceptance guard (OR30 before it) value a BigCommerce
refund's share of a Mirakl line here, and both tell from here whether a refund moved money and whether a line is
debited yet, so neither stream's package imports the other.

BigCommerce refunds order products by quantity and shipping by amount, tax included; Mirakl refunds order
lines by amount in the order's tax mode, with taxes listed apart. A BigCommerce quantity becomes the same share
of the Mirakl line (price and each tax); the item's (negative, tax-included) adjustments take their part of the
line's tax-included total off that share, never below zero, so Mirakl gives back what the customer got. A
shipping amount is spread over the refund's marketplace lines by their shipping price. Going back, a Mirakl
refund is paid in BigCommerce as whole order products when it is exactly whole units of what the customer paid
per unit (after discounts, tax included), otherwise as an order-level amount, and its shipping part as a
shipping refund.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.bigcommerce import OrderProduct, RefundItem
from connectors.bigcommerce import Refund as BcRefund
from connectors.mirakl import Order as MiraklOrder
from connectors.mirakl import OrderLine as MiraklLine
from connectors.mirakl import TaxAmount
from connectors.money import UnknownCurrencyError, check_currency, round_money
from connectors.state import OrderLineMapping
from tasks.paid import paid_inc_tax

__all__ = [
    "MIRAKL_REFUND_MARKER",
    "PRE_DEBIT_STATES",
    "bc_items_for_mirakl_refund",
    "line_refund_fields",
    "money_moved",
    "or28_rows",
    "order_currency",
    "reason_code_for",
    "refundable_left",
]

ZERO = Decimal("0")
CLOSED_LINE_STATES = frozenset({"REFUSED", "CANCELED"})
# Mirakl states in which the customer is not debited yet (mmp-front-openapi.yaml OrderState enum): OR28 refunds
# debited lines only, so a refund of these lines is an OR30 cancellation of the acceptance guard instead.
PRE_DEBIT_STATES = frozenset({"STAGING", "WAITING_ACCEPTANCE", "WAITING_DEBIT", "WAITING_DEBIT_PAYMENT"})
# BigCommerce refunds the bridge makes to pay a Mirakl refund carry this reason, so they are never mirrored back.
MIRAKL_REFUND_MARKER = "Mirakl refund"


def money_moved(refund: BcRefund) -> bool:
    """A refund counts only when no payment of it was declined by the provider (`is_declined`)."""
    return not any(payment.is_declined for payment in refund.payments)


def order_currency(order: MiraklOrder) -> str | None:
    """The Mirakl order's currency (its line amounts are in it), or None when it is missing or not ISO 4217."""
    try:
        return check_currency(order.currency_iso_code)
    except UnknownCurrencyError:
        return None


def _taxes(taxes: list[Any], share: Decimal, currency: str) -> list[dict[str, Any]]:
    return [{"code": t.code, "amount": round_money((t.amount or ZERO) * share, currency)} for t in taxes if t.code]


def _tax_sum(taxes: list[Any]) -> Decimal:
    return sum(((t.amount or ZERO) for t in taxes), ZERO)


def refundable_left(line: MiraklLine) -> tuple[Decimal, Decimal]:
    """(goods, shipping) Mirakl can still refund on the line: paid minus cancelled minus refunded."""
    goods = (line.price or ZERO) - sum(((c.amount or ZERO) for c in line.cancelations), ZERO)
    shipping = (line.shipping_price or ZERO) - sum(((c.shipping_amount or ZERO) for c in line.cancelations), ZERO)
    goods -= sum(((r.amount or ZERO) for r in line.refunds), ZERO)
    shipping -= sum(((r.shipping_amount or ZERO) for r in line.refunds), ZERO)
    return goods, shipping


def reason_code_for(
    bc_reason: str | None, mapping: Mapping[str, str], default: str | None, valid: set[str]
) -> str | None:
    """The RE01 code for a BigCommerce reason text (exact, then case-insensitive), if RE01 offers it."""
    text = (bc_reason or "").strip()
    lowered = {key.strip().lower(): code for key, code in mapping.items()}
    code = mapping.get(text) or lowered.get(text.lower()) or default
    return code if code in valid else None


def _shipping_gross(order: MiraklOrder, line: MiraklLine) -> Decimal:
    gross = line.shipping_price or ZERO
    return gross + _tax_sum(line.shipping_taxes) if order.order_tax_mode == "TAX_EXCLUDED" else gross


def _goods_gross(order: MiraklOrder, line: MiraklLine) -> Decimal:
    gross = line.price or ZERO
    return gross + _tax_sum(line.taxes) if order.order_tax_mode == "TAX_EXCLUDED" else gross


def _goods_share(order: MiraklOrder, line: MiraklLine, quantity: int, ordered: int, adjustments: Decimal) -> Decimal:
    """The share of the Mirakl line (price and each tax) a refund of `quantity` units with `adjustments` takes.

    Adjustments are tax-included amounts like the customer's refund, so they come off the line's tax-included
    total; the share never goes below zero.
    """
    share = Decimal(quantity) / Decimal(ordered)
    gross = _goods_gross(order, line)
    if gross:
        share += adjustments / gross
    return max(share, ZERO)


def line_refund_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """What OR28 (a refund) and OR30 (a cancellation before debit) both say of one row of `or28_rows`: the line,
    quantity, amounts, taxes, reason and currency, under the names both Mirakl bodies share."""
    return {
        "order_line_id": row["mirakl_order_line_id"],
        "quantity": row["quantity"],
        "amount": row["amount"],
        "shipping_amount": row["shipping_amount"],
        "reason_code": row["reason_code"],
        "currency_iso_code": row["currency"],
        "taxes": [TaxAmount(code=t["code"], amount=t["amount"]) for t in row["taxes"]] or None,
        "shipping_taxes": [TaxAmount(code=t["code"], amount=t["amount"]) for t in row["shipping_taxes"]] or None,
    }


def or28_rows(
    refund: BcRefund,
    products: Mapping[int, OrderProduct],
    mappings: Mapping[int, OrderLineMapping],
    mirakl_lines: Mapping[str, tuple[MiraklOrder, MiraklLine]],
    reason_code: str | None,
    pending: dict[str, tuple[Decimal, Decimal]],
    ledger_outcome: Callable[[str], str | None] = lambda _: None,
) -> tuple[list[dict[str, Any]], int]:
    """OR28 rows for one BigCommerce refund, one per Mirakl line it touches, and how many lines were skipped.

    `pending` carries what earlier rows of the same batch take from each line, so two refunds of one line in
    one run are checked against the paid amount together; a row that would exceed it is flagged
    (`refund_within_paid` False) for the gate and takes nothing. `ledger_outcome(key)` tells rows already
    decided (left out) from rows interrupted mid-write (`started`): Mirakl may already count those, so they
    are not checked again but go to the ledger's recovery, and Mirakl's own cap still guards a resend.
    """
    quantities: dict[str, int] = {}
    adjustments: dict[str, Decimal] = {}
    shipping_total = ZERO
    skipped = 0
    for item in refund.items:
        if item.item_type == "SHIPPING":
            shipping_total += item.requested_amount or ZERO
            continue
        mapping = mappings.get(item.item_id) if item.item_type == "PRODUCT" else None
        line_id = mapping.mirakl_order_line_id if mapping else None
        if line_id is None or line_id not in mirakl_lines:
            continue
        if mirakl_lines[line_id][1].order_line_state in CLOSED_LINE_STATES:
            skipped += 1  # refused or cancelled in Mirakl: nothing was paid to the seller for it
            continue
        if order_currency(mirakl_lines[line_id][0]) is None:
            skipped += 1  # no currency to round the refund in: never guessed as two decimals
            continue
        quantities[line_id] = quantities.get(line_id, 0) + (item.quantity or 0)
        adjustments[line_id] = adjustments.get(line_id, ZERO) + sum((a.amount for a in item.adjustments), ZERO)
    gross_shipping = {line_id: _shipping_gross(*mirakl_lines[line_id]) for line_id in quantities}
    all_shipping = sum(gross_shipping.values(), ZERO)
    rows = []
    for line_id, quantity in quantities.items():
        key = f"or28:{refund.id}:{line_id}"
        outcome = ledger_outcome(key)
        if outcome in ("succeeded", "failed"):
            continue
        order, line = mirakl_lines[line_id]
        currency = order_currency(order)
        assert currency is not None  # lines without one were skipped above
        mapping = next(m for m in mappings.values() if m.mirakl_order_line_id == line_id)
        product = products[mapping.bc_order_product_id]
        share = _goods_share(order, line, quantity, product.quantity, adjustments[line_id])
        ship_gross = shipping_total * gross_shipping[line_id] / all_shipping if all_shipping else ZERO
        ship_share = ship_gross / gross_shipping[line_id] if gross_shipping[line_id] else ZERO
        amount = round_money((line.price or ZERO) * share, currency)
        shipping_amount = round_money((line.shipping_price or ZERO) * ship_share, currency)
        if amount == ZERO and shipping_amount == ZERO:
            continue  # adjusted down to nothing: the customer got nothing back for this line
        goods_left, shipping_left = pending.get(line_id, refundable_left(line))
        within = outcome == "started" or (amount <= goods_left and shipping_amount <= shipping_left)
        if within and outcome is None:
            pending[line_id] = (goods_left - amount, shipping_left - shipping_amount)
        rows.append(
            {
                "key": key,
                "bc_refund_id": refund.id,
                "bc_order_id": refund.order_id,
                "mirakl_order_id": order.order_id,
                "mirakl_order_line_id": line_id,
                "quantity": quantity,
                "amount": amount,
                "shipping_amount": shipping_amount,
                "taxes": _taxes(line.taxes, share, currency),
                "shipping_taxes": _taxes(line.shipping_taxes, ship_share, currency),
                "currency": currency,
                "order_tax_mode": order.order_tax_mode,
                "reason_code": reason_code,
                "refund_within_paid": within,
            }
        )
    return rows, skipped


@dataclass(frozen=True)
class BcRefundPlan:
    """The BigCommerce refund paying one Mirakl refund; `total` must equal what PA02 confirms."""

    items: list[RefundItem]
    total: Decimal


def bc_items_for_mirakl_refund(
    refund_id: str,
    order: MiraklOrder,
    line: MiraklLine,
    product: OrderProduct,
    bc_order_id: int,
) -> BcRefundPlan:
    """Items paying Mirakl refund `refund_id` of `line` back to the customer in BigCommerce."""
    detail = next(r for r in line.refunds if r.id == refund_id)
    taxed = order.order_tax_mode == "TAX_EXCLUDED"
    goods = (detail.amount or ZERO) + (_tax_sum(detail.taxes) if taxed else ZERO)
    shipping = (detail.shipping_amount or ZERO) + (_tax_sum(detail.shipping_taxes) if taxed else ZERO)
    currency = check_currency(order.currency_iso_code)  # PA12 listed it: Mirakl always names the currency
    goods, shipping = round_money(goods, currency), round_money(shipping, currency)
    reason = f"{MIRAKL_REFUND_MARKER} {refund_id} (line {line.order_line_id})"
    items: list[RefundItem] = []
    # A unit is worth what the customer paid for it (discounts off, tax in), as BigCommerce values a refund by
    # quantity; `price_inc_tax` is before discounts, so a discounted line would never be refunded by quantity.
    unit = paid_inc_tax(product) / product.quantity if product.quantity else ZERO
    units = goods / unit if unit else ZERO
    left = product.quantity - product.quantity_refunded
    if goods > 0 and units == units.to_integral_value() and 0 < units <= left:
        items.append(RefundItem(item_type="PRODUCT", item_id=product.id, quantity=int(units), reason=reason))
    elif goods > 0:
        items.append(RefundItem(item_type="ORDER", item_id=bc_order_id, amount=goods, reason=reason))
    if shipping > 0 and product.order_address_id is not None:
        items.append(RefundItem(item_type="SHIPPING", item_id=product.order_address_id, amount=shipping, reason=reason))
    elif shipping > 0:
        items.append(RefundItem(item_type="ORDER", item_id=bc_order_id, amount=shipping, reason=reason))
    return BcRefundPlan(items, goods + shipping)
