"""Logistic orders, their lines, refunds and cancelations, with Mirakl's amount rules and JSON shapes.

Amount rules (from the OR11 schema and mirakl.md §5.4): `price` is the line's goods total, `total_price` adds
shipping and has cancelled amounts deducted (refused lines stay in it); with TAX_EXCLUDED the customer is
debited `total_price` plus line and shipping taxes. Commission is a per-shop rate of price + shipping, with a
commission tax on top; refunds and cancelations carry the matching commission reversal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.mirakl.formats import iso, money
from sandbox.mirakl.reference import (
    COMMISSION_TAX_CODE,
    COMMISSION_TAX_RATE,
    SHIPPING_TYPES,
    SHIPPING_ZONES,
)

__all__ = [
    "CLOSED_LINE_STATES",
    "DEBITED_STATES",
    "PRE_DEBIT_STATES",
    "Cancelation",
    "Order",
    "OrderLine",
    "Refund",
    "commission_tax",
    "render_order",
    "tax_total",
]

CLOSED_LINE_STATES = frozenset({"REFUSED", "CANCELED"})
PRE_DEBIT_STATES = frozenset({"STAGING", "WAITING_ACCEPTANCE", "WAITING_DEBIT", "WAITING_DEBIT_PAYMENT"})
DEBITED_STATES = frozenset({"SHIPPING", "SHIPPED", "TO_COLLECT", "RECEIVED", "CLOSED"})

Tax = dict[str, Any]  # {"code", "amount", "rate"}


def tax_total(taxes: list[Tax]) -> Decimal:
    return sum((Decimal(t["amount"]) for t in taxes), Decimal("0"))


def commission_tax(commission: Decimal, currency: str) -> Decimal:
    return money(commission * COMMISSION_TAX_RATE / 100, currency)


def _commission_taxes(amount: Decimal) -> list[Tax]:
    return [{"code": COMMISSION_TAX_CODE, "amount": amount, "rate": COMMISSION_TAX_RATE}]


def _render_taxes(taxes: list[Tax], currency: str) -> list[Tax]:
    return [
        {
            "code": t["code"],
            "amount": money(t["amount"], currency),
            "rate": t.get("rate"),
            "tax_calculation_rule": "PROPORTIONAL_TO_AMOUNT",
        }
        for t in taxes
    ]


@dataclass
class Refund:
    refund_id: str
    order_refund_id: str
    order_id: str
    order_line_id: str
    amount: Decimal
    shipping_amount: Decimal
    taxes: list[Tax]
    shipping_taxes: list[Tax]
    quantity: int
    reason_code: str
    commission_amount: Decimal
    created_date: datetime
    currency: str  # the order's: every amount above is in its minor unit
    state: str = "WAITING_REFUND_PAYMENT"
    transaction_number: str | None = None
    transaction_date: datetime | None = None

    @property
    def commission_tax_amount(self) -> Decimal:
        return commission_tax(self.commission_amount, self.currency)

    def payable(self, tax_mode: str) -> Decimal:
        """What the operator pays back: PA12's amount and PA02's expected amount."""
        base = self.amount + self.shipping_amount
        if tax_mode == "TAX_EXCLUDED":
            base += tax_total(self.taxes) + tax_total(self.shipping_taxes)
        return money(base, self.currency)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.refund_id,
            "order_refund_id": self.order_refund_id,
            "created_date": iso(self.created_date),
            "amount": self.amount,
            "shipping_amount": self.shipping_amount,
            "quantity": self.quantity,
            "reason_code": self.reason_code,
            "refund_state": self.state,
            "state": self.state,
            "commission_amount": self.commission_amount,
            "commission_tax_amount": self.commission_tax_amount,
            "commission_taxes": _commission_taxes(self.commission_tax_amount),
            "commission_total_amount": self.commission_amount + self.commission_tax_amount,
            "taxes": _render_taxes(self.taxes, self.currency),
            "shipping_taxes": _render_taxes(self.shipping_taxes, self.currency),
            "transaction_number": self.transaction_number,
            "transaction_date": iso(self.transaction_date),
        }


@dataclass
class Cancelation:
    cancelation_id: str
    amount: Decimal
    shipping_amount: Decimal
    taxes: list[Tax]
    shipping_taxes: list[Tax]
    quantity: int
    reason_code: str
    commission_amount: Decimal
    created_date: datetime
    currency: str

    def to_json(self) -> dict[str, Any]:
        commission_tax_amount = commission_tax(self.commission_amount, self.currency)
        return {
            "id": self.cancelation_id,
            "created_date": iso(self.created_date),
            "amount": self.amount,
            "shipping_amount": self.shipping_amount,
            "quantity": self.quantity,
            "reason_code": self.reason_code,
            "commission_amount": self.commission_amount,
            "commission_taxes": _commission_taxes(commission_tax_amount),
            "commission_total_amount": self.commission_amount + commission_tax_amount,
            "taxes": _render_taxes(self.taxes, self.currency),
            "shipping_taxes": _render_taxes(self.shipping_taxes, self.currency),
        }


@dataclass
class OrderLine:
    order_line_id: str
    index: int
    offer_id: int
    offer_sku: str
    product_sku: str
    quantity: int
    price_unit: Decimal
    price: Decimal
    shipping_price: Decimal
    taxes: list[Tax]
    shipping_taxes: list[Tax]
    commission_rate: Decimal
    commission_fee: Decimal
    state: str
    created_date: datetime
    last_updated_date: datetime
    currency: str  # the order's (the shop's) currency: amounts are rounded to its minor unit
    state_reason_code: str | None = None
    debited_date: datetime | None = None
    shipped_date: datetime | None = None
    refunds: list[Refund] = field(default_factory=list)
    cancelations: list[Cancelation] = field(default_factory=list)
    additional_fields: list[dict[str, Any]] = field(default_factory=list)

    @property
    def commission_tax_amount(self) -> Decimal:
        return commission_tax(self.commission_fee, self.currency)

    @property
    def cancelled_amount(self) -> Decimal:
        return sum((c.amount for c in self.cancelations), Decimal("0"))

    @property
    def cancelled_shipping(self) -> Decimal:
        return sum((c.shipping_amount for c in self.cancelations), Decimal("0"))

    @property
    def total_price(self) -> Decimal:
        return self.price + self.shipping_price - self.cancelled_amount - self.cancelled_shipping

    def debitable(self, tax_mode: str) -> Decimal:
        """What PA11 asks the operator to debit for this line (0 once refused or cancelled)."""
        if self.state in CLOSED_LINE_STATES:
            return money(0, self.currency)
        amount = self.total_price
        if tax_mode == "TAX_EXCLUDED":
            cancelled_taxes = sum((tax_total(c.taxes) + tax_total(c.shipping_taxes) for c in self.cancelations), 0)
            amount += tax_total(self.taxes) + tax_total(self.shipping_taxes) - cancelled_taxes
        return money(amount, self.currency)

    def refundable(self) -> tuple[Decimal, Decimal]:
        """(goods, shipping) still refundable on this line."""
        goods = self.price - self.cancelled_amount - sum((r.amount for r in self.refunds), Decimal("0"))
        shipping = (
            self.shipping_price - self.cancelled_shipping - sum((r.shipping_amount for r in self.refunds), Decimal("0"))
        )
        return goods, shipping

    def to_json(self, order: Order) -> dict[str, Any]:
        goods_left, shipping_left = self.refundable()
        debited = order.customer_debited_date is not None and self.state not in CLOSED_LINE_STATES
        return {
            "order_line_id": self.order_line_id,
            "order_line_index": self.index,
            "order_line_state": self.state,
            "order_line_state_reason_code": self.state_reason_code,
            "order_line_state_reason_label": None,
            "offer_id": self.offer_id,
            "offer_sku": self.offer_sku,
            "offer_state_code": "11",
            "product_sku": self.product_sku,
            "product_shop_sku": self.offer_sku,
            "product_title": self.product_sku,
            "product_medias": [],
            "category_code": "marketplace",
            "category_label": "Marketplace",
            "description": None,
            "quantity": self.quantity,
            "price_unit": self.price_unit,
            "origin_unit_price": self.price_unit,
            "price": self.price,
            "price_additional_info": None,
            "shipping_price": self.shipping_price,
            "total_price": self.total_price,
            "taxes": _render_taxes(self.taxes, self.currency),
            "shipping_taxes": _render_taxes(self.shipping_taxes, self.currency),
            "commission_fee": self.commission_fee,
            "commission_rate_vat": COMMISSION_TAX_RATE,
            "commission_vat": self.commission_tax_amount,
            "commission_taxes": _commission_taxes(self.commission_tax_amount),
            "total_commission": self.commission_fee + self.commission_tax_amount,
            "cancelations": [c.to_json() for c in self.cancelations],
            "refunds": [r.to_json() for r in self.refunds],
            "can_refund": debited and (goods_left > 0 or shipping_left > 0),
            "can_open_incident": self.state in {"SHIPPED", "RECEIVED"},
            "tax_recalculation_required": False,
            "order_line_additional_fields": self.additional_fields,
            "created_date": iso(self.created_date),
            "last_updated_date": iso(self.last_updated_date),
            "debited_date": iso(self.debited_date),
            "shipped_date": iso(self.shipped_date),
            "received_date": None,
        }


@dataclass
class Order:
    seq: int
    order_id: str
    commercial_id: str
    shop_id: int
    shop_name: str
    state: str
    created_date: datetime
    last_updated_date: datetime
    currency_iso_code: str
    customer: dict[str, Any]
    shipping_zone_code: str
    shipping_type_code: str
    payment_workflow: str
    order_tax_mode: str
    lines: list[OrderLine]
    payment_type: str | None = None
    imprint_number: str | None = None
    channel_code: str | None = None
    references: dict[str, Any] | None = None
    additional_fields: list[dict[str, Any]] = field(default_factory=list)
    state_reason_code: str | None = None
    state_reason_label: str | None = None
    acceptance_decision_date: datetime | None = None
    customer_debited_date: datetime | None = None
    shipping_deadline: datetime | None = None
    carrier_code: str | None = None
    carrier_standard_code: str | None = None
    carrier_name: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    transaction_number: str | None = None
    transaction_date: datetime | None = None

    def line(self, order_line_id: str) -> OrderLine | None:
        return next((line for line in self.lines if line.order_line_id == order_line_id), None)

    def debitable(self) -> Decimal:
        return money(
            sum((line.debitable(self.order_tax_mode) for line in self.lines), Decimal("0")), self.currency_iso_code
        )

    @property
    def open_lines(self) -> list[OrderLine]:
        return [line for line in self.lines if line.state not in CLOSED_LINE_STATES]


def _order_taxes(order: Order) -> list[dict[str, Any]]:
    totals: dict[str, Decimal] = {}
    rates: dict[str, Any] = {}
    for line in order.lines:
        for tax in [*line.taxes, *line.shipping_taxes]:
            totals[tax["code"]] = totals.get(tax["code"], Decimal("0")) + Decimal(tax["amount"])
            rates[tax["code"]] = tax.get("rate")
    return [
        {"code": code, "rate": rates[code], "total_amount": money(total, order.currency_iso_code)}
        for code, total in totals.items()
    ]


def render_order(order: Order) -> dict[str, Any]:
    """The OR01/OR11 order object (§5.4), built from the emulator's state."""
    open_lines = order.open_lines
    commission = sum((line.commission_fee + line.commission_tax_amount for line in open_lines), Decimal("0"))
    fully_refunded = bool(open_lines) and all(
        line.refunds and line.refundable() == (Decimal("0"), Decimal("0")) for line in open_lines
    )
    return {
        "order_id": order.order_id,
        "commercial_id": order.commercial_id,
        "shop_id": order.shop_id,
        "shop_name": order.shop_name,
        "order_state": order.state,
        "order_state_reason_code": order.state_reason_code,
        "order_state_reason_label": order.state_reason_label,
        "created_date": iso(order.created_date),
        "last_updated_date": iso(order.last_updated_date),
        "acceptance_decision_date": iso(order.acceptance_decision_date),
        "customer_debited_date": iso(order.customer_debited_date),
        "shipping_deadline": iso(order.shipping_deadline),
        "leadtime_to_ship": 2,
        "currency_iso_code": order.currency_iso_code,
        "price": sum((line.price for line in order.lines), Decimal("0")),
        "shipping_price": sum((line.shipping_price for line in order.lines), Decimal("0")),
        "total_price": sum((line.total_price for line in order.lines), Decimal("0")),
        "total_commission": commission,
        "order_tax_mode": order.order_tax_mode,
        "order_taxes": _order_taxes(order),
        "payment_workflow": order.payment_workflow,
        "payment_type": order.payment_type,
        "paymentType": order.payment_type,
        "imprint_number": order.imprint_number,
        "transaction_number": order.transaction_number,
        "transaction_date": iso(order.transaction_date),
        "customer": order.customer,
        "shipping_zone_code": order.shipping_zone_code,
        "shipping_zone_label": SHIPPING_ZONES.get(order.shipping_zone_code, order.shipping_zone_code),
        "shipping_type_code": order.shipping_type_code,
        "shipping_type_label": SHIPPING_TYPES.get(order.shipping_type_code, order.shipping_type_code),
        "shipping_type_standard_code": order.shipping_type_code,
        "shipping_carrier_code": order.carrier_code,
        "shipping_carrier_standard_code": order.carrier_standard_code,
        "shipping_company": order.carrier_name,
        "shipping_tracking": order.tracking_number,
        "shipping_tracking_url": order.tracking_url,
        "shipping_pudo_id": None,
        "channel": {"code": order.channel_code, "label": order.channel_code} if order.channel_code else None,
        "references": order.references,
        "order_additional_fields": order.additional_fields,
        "order_refunds": [
            {"order_refund_id": refund_id, "taxes": []}
            for refund_id in dict.fromkeys(r.order_refund_id for line in order.lines for r in line.refunds)
        ],
        "fulfillment": {"center": {"code": "DEFAULT"}},
        "promotions": {"applied_promotions": [], "total_deduced_amount": 0},
        "can_cancel": order.state in PRE_DEBIT_STATES,
        "can_shop_ship": order.state == "SHIPPING",
        "can_evaluate": order.state in {"SHIPPED", "RECEIVED", "CLOSED"},
        "has_incident": False,
        "has_invoice": False,
        "has_customer_message": False,
        "fully_refunded": fully_refunded,
        "customer_directly_pays_seller": False,
        "pay_out_psp_code": "NOT_SPECIFIED",
        "commissionable": True,
        "waiting_tax_confirmation": False,
        "waiting_funding_confirmation": False,
        "quote_id": None,
        "order_lines": [line.to_json(order) for line in order.lines],
    }
