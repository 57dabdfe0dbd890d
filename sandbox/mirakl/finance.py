"""The seller-payment ledger: TL02 transaction lines, SBC11 billing cycles and IV01 commission invoices.

Lines are written when Mirakl would write them (a debit confirmed by PA01, a refund paid by PA02) and can be
planted by tests to create reconciliation gaps. Amounts are signed from the seller's point of view: what the
seller earns is credited (positive), commission is debited (negative). Cycles and invoices are derived from
the lines, so the three views always agree unless a test plants a line to make them disagree.
"""

from __future__ import annotations

import uuid
from bisect import insort
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.mirakl.catalog import Shop
from sandbox.mirakl.formats import iso, money, to_millis
from sandbox.mirakl.orders import Order, OrderLine, Refund, commission_tax, tax_total

__all__ = ["Ledger", "TransactionLine"]

_NAMESPACE = uuid.UUID("6a1f3f4e-0c2b-4d59-9a7e-7b6f0f2f9a11")
COMMISSION_TYPES = ("COMMISSION_FEE", "COMMISSION_VAT", "REFUND_COMMISSION_FEE", "REFUND_COMMISSION_VAT")
# What an AUTO_INVOICE bills besides commission. IV01's example (mmp-operator-openapi.json, GET /api/invoices)
# has detail lines "Commissions of completed orders ..." and "Seller fees on orders ...", and its summary totals
# `total_subscription_*`, `total_seller_fees_on_orders_*` and `total_seller_penalty_fees_*` beside
# `total_commissions_*`: one document, several kinds of charge. Each kind: (TL02 fee type, its tax type, label).
_INVOICED_FEES = (
    ("SUBSCRIPTION_FEE", "SUBSCRIPTION_VAT", "Subscription fees"),
    ("SELLER_FEE_ON_ORDER", "SELLER_FEE_ON_ORDER_TAX", "Seller fees on orders"),
    ("SELLER_PENALTY_FEE", "SELLER_PENALTY_FEE_TAX", "Seller penalty fees"),
)


@dataclass
class TransactionLine:
    seq: int
    id: str
    type: str
    amount: Decimal
    shop_id: int
    currency_iso_code: str
    date_created: datetime
    balance: Decimal
    payment_state: str = "PENDING"
    order_id: str | None = None
    commercial_id: str | None = None
    order_created: datetime | None = None
    order_line_id: str | None = None
    refund_id: str | None = None
    imprint_number: str | None = None
    payment_type: str | None = None
    transaction_number: str | None = None
    transaction_date: datetime | None = None

    @property
    def key(self) -> tuple[int, int]:
        return int(self.date_created.timestamp() * 1000), self.seq

    def to_json(self, cycle_id: str) -> dict[str, Any]:
        entities: dict[str, Any] = {"domain": "PRODUCT"}
        if self.order_id:
            entities["order"] = {
                "id": self.order_id,
                "commercial_id": self.commercial_id,
                "creation_date": iso(self.order_created),
                "payment_info": {"imprint_number": self.imprint_number, "payment_type": self.payment_type},
            }
        if self.order_line_id:
            entities["order_line"] = {"id": self.order_line_id}
        if self.refund_id:
            entities["refund"] = {"id": self.refund_id}
        if self.transaction_number or self.transaction_date:
            entities["transaction_info"] = {"number": self.transaction_number, "date": iso(self.transaction_date)}
        return {
            "id": self.id,
            "type": self.type,
            "amount": self.amount,
            "amount_credited": self.amount if self.amount > 0 else Decimal("0.00"),
            "amount_debited": -self.amount if self.amount < 0 else Decimal("0.00"),
            "balance": self.balance,
            "currency_iso_code": self.currency_iso_code,
            "date_created": iso(self.date_created),
            "last_updated": iso(self.date_created),
            "payment_state": self.payment_state,
            "payment_voucher_number": None,
            "accounting_document_number": None,
            "seller_billing_cycle_id": cycle_id,
            "pay_out_psp_code": "NOT_SPECIFIED",
            "shop": {"id": self.shop_id, "model": "MARKETPLACE", "domains": ["PRODUCT"]},
            "entities": entities,
        }


class Ledger:
    def __init__(self, shops: dict[int, Shop], opened: datetime) -> None:
        self.shops = shops
        self.opened = to_millis(opened)
        self.lines: dict[int, TransactionLine] = {}
        self.keys: list[tuple[int, int]] = []
        self.by_shop: dict[int, list[tuple[int, int]]] = {}
        self.by_order: dict[str, list[tuple[int, int]]] = {}
        self._balances: dict[int, Decimal] = {}

    def cycle_id(self, shop_id: int) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"cycle-{shop_id}"))

    def add(self, type_: str, amount: Decimal, shop_id: int, when: datetime, **details: Any) -> TransactionLine:
        shop = self.shops.get(shop_id)
        currency = details.pop("currency_iso_code", shop.currency_iso_code if shop else "USD")
        amount = money(amount, currency)
        balance = self._balances.get(shop_id, Decimal("0")) + amount
        self._balances[shop_id] = balance
        seq = len(self.lines) + 1
        line = TransactionLine(
            seq=seq,
            id=str(uuid.uuid5(_NAMESPACE, f"tl-{seq}")),
            type=type_,
            amount=amount,
            shop_id=shop_id,
            currency_iso_code=currency,
            date_created=to_millis(when),
            balance=balance,
            **details,
        )
        self.lines[seq] = line
        insort(self.keys, line.key)
        insort(self.by_shop.setdefault(shop_id, []), line.key)
        if line.order_id:
            insort(self.by_order.setdefault(line.order_id, []), line.key)
        return line

    def _order_details(self, order: Order, line: OrderLine) -> dict[str, Any]:
        return {
            "order_id": order.order_id,
            "commercial_id": order.commercial_id,
            "order_created": order.created_date,
            "order_line_id": line.order_line_id,
            "imprint_number": order.imprint_number,
            "payment_type": order.payment_type,
            "currency_iso_code": order.currency_iso_code,
        }

    def record_debit(self, order: Order, when: datetime) -> None:
        """PA01 OK: what the seller earns on each debited line, and the commission it pays.

        A line partly cancelled before the debit (OR30) books only what was debited. The specs are silent on TL02's
        amounts for such a line (TL02 has no cancellation type); each OR11 cancellation carries its `amount`, its
        `taxes` and its `commission_amount` ("Cancellation's commission amount"), so all three come off alike.
        """
        for line in order.open_lines:
            details = self._order_details(order, line)
            details |= {"transaction_number": order.transaction_number, "transaction_date": order.transaction_date}
            cancelled = line.cancelations
            taxes = tax_total(line.taxes) - sum((tax_total(c.taxes) for c in cancelled), Decimal("0"))
            shipping_taxes = tax_total(line.shipping_taxes) - sum(
                (tax_total(c.shipping_taxes) for c in cancelled), Decimal("0")
            )
            commission = line.commission_fee - sum((c.commission_amount for c in cancelled), Decimal("0"))
            self.add("ORDER_AMOUNT", line.price - line.cancelled_amount, order.shop_id, when, **details)
            self.add("ORDER_AMOUNT_TAX", taxes, order.shop_id, when, **details)
            self.add(
                "ORDER_SHIPPING_AMOUNT", line.shipping_price - line.cancelled_shipping, order.shop_id, when, **details
            )
            if line.shipping_taxes:
                self.add("ORDER_SHIPPING_AMOUNT_TAX", shipping_taxes, order.shop_id, when, **details)
            self.add("COMMISSION_FEE", -commission, order.shop_id, when, **details)
            self.add("COMMISSION_VAT", -commission_tax(commission, line.currency), order.shop_id, when, **details)

    def record_refund(self, order: Order, line: OrderLine, refund: Refund, when: datetime) -> None:
        """PA02 OK: the seller gives back the refunded amounts and gets the commission on them back."""
        details = self._order_details(order, line)
        details |= {
            "refund_id": refund.refund_id,
            "transaction_number": refund.transaction_number,
            "transaction_date": refund.transaction_date,
        }
        self.add("REFUND_ORDER_AMOUNT", -refund.amount, order.shop_id, when, **details)
        self.add("REFUND_ORDER_AMOUNT_TAX", -tax_total(refund.taxes), order.shop_id, when, **details)
        self.add("REFUND_ORDER_SHIPPING_AMOUNT", -refund.shipping_amount, order.shop_id, when, **details)
        if refund.shipping_taxes:
            self.add(
                "REFUND_ORDER_SHIPPING_AMOUNT_TAX", -tax_total(refund.shipping_taxes), order.shop_id, when, **details
            )
        self.add("REFUND_COMMISSION_FEE", refund.commission_amount, order.shop_id, when, **details)
        self.add("REFUND_COMMISSION_VAT", refund.commission_tax_amount, order.shop_id, when, **details)

    def _totals(self, shop_id: int) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for key in self.by_shop.get(shop_id, []):
            line = self.lines[key[1]]
            totals[line.type] = totals.get(line.type, Decimal("0")) + line.amount
        return totals

    def billing_cycle(self, shop: Shop) -> dict[str, Any]:
        """The shop's one open billing cycle (SBC11 item), summarising every line booked so far."""
        t = self._totals(shop.shop_id)

        def total(*types: str) -> Decimal:
            return money(sum((t.get(name, Decimal("0")) for name in types), Decimal("0")), shop.currency_iso_code)

        to_seller = money(sum(t.values(), Decimal("0")), shop.currency_iso_code)
        summary = {
            "total_payable_orders_excl_tax": total("ORDER_AMOUNT", "ORDER_SHIPPING_AMOUNT"),
            "total_payable_orders_incl_tax": total(
                "ORDER_AMOUNT", "ORDER_SHIPPING_AMOUNT", "ORDER_AMOUNT_TAX", "ORDER_SHIPPING_AMOUNT_TAX"
            ),
            "total_commissions_excl_tax": total("COMMISSION_FEE"),
            "total_commissions_incl_tax": total("COMMISSION_FEE", "COMMISSION_VAT"),
            "total_refund_orders_excl_tax": total("REFUND_ORDER_AMOUNT", "REFUND_ORDER_SHIPPING_AMOUNT"),
            "total_refund_orders_incl_tax": total(
                "REFUND_ORDER_AMOUNT",
                "REFUND_ORDER_SHIPPING_AMOUNT",
                "REFUND_ORDER_AMOUNT_TAX",
                "REFUND_ORDER_SHIPPING_AMOUNT_TAX",
            ),
            "total_refund_commissions_excl_tax": total("REFUND_COMMISSION_FEE"),
            "total_refund_commissions_incl_tax": total("REFUND_COMMISSION_FEE", "REFUND_COMMISSION_VAT"),
            "total_other_credits_incl_tax": total("MANUAL_CREDIT", "MANUAL_CREDIT_VAT"),
            "total_other_invoices_incl_tax": total("MANUAL_INVOICE", "MANUAL_INVOICE_VAT"),
            "total_subscription_incl_tax": total("SUBSCRIPTION_FEE", "SUBSCRIPTION_VAT"),
        }
        return {
            "id": self.cycle_id(shop.shop_id),
            "date_created": iso(self.opened),
            "currency_iso_code": shop.currency_iso_code,
            "shop": {
                "shop_id": shop.shop_id,
                "shop_name": shop.shop_name,
                "shop_corporate_name": shop.shop_name,
                "shop_model": "MARKETPLACE",
                "shop_operator_internal_id": None,
            },
            "amount_transferred_to_seller": to_seller,
            "amount_transferred_to_operator": -total(*COMMISSION_TYPES),
            "pay_out": {"state": "TO_PAY"},
            "pay_out_psp_code": "NOT_SPECIFIED",
            "payment_voucher_number": None,
            "summary": summary,
        }

    def invoices(self) -> list[dict[str, Any]]:
        """One AUTO_INVOICE per shop that owes anything: commission plus subscription and other fees.

        The detail lines carry only a description and amounts, as IV01's `details[]` schema has no type field.
        """
        documents = []
        for shop_id in sorted(self.by_shop):
            shop = self.shops.get(shop_id)
            if shop is None:
                continue
            t = self._totals(shop_id)
            zero = Decimal("0")
            charges = [
                (
                    "Commissions on debited orders",
                    -(t.get("COMMISSION_FEE", zero) + t.get("REFUND_COMMISSION_FEE", zero)),
                    -(t.get("COMMISSION_VAT", zero) + t.get("REFUND_COMMISSION_VAT", zero)),
                ),
                *(
                    (label, -t.get(fee_type, zero), -t.get(tax_type, zero))
                    for fee_type, tax_type, label in _INVOICED_FEES
                ),
            ]
            charges = [(label, fee, vat) for label, fee, vat in charges if fee or vat]
            if not charges:
                continue
            currency = shop.currency_iso_code
            fee = sum((c[1] for c in charges), zero)
            vat = sum((c[2] for c in charges), zero)
            taxes = [{"code": "VAT", "amount": money(vat, currency)}]
            documents.append(
                {
                    "invoice_id": len(documents) + 1,
                    "id": str(uuid.uuid5(_NAMESPACE, f"invoice-{shop_id}")),
                    "type": "AUTO_INVOICE",
                    "state": "COMPLETE",
                    "date_created": iso(self.opened),
                    "issue_date": iso(self.opened),
                    "due_date": iso(self.opened),
                    "shop_id": shop_id,
                    "shop_name": shop.shop_name,
                    "shop_corporate_name": shop.shop_name,
                    "shop_model": "MARKETPLACE",
                    "currency_iso_code": shop.currency_iso_code,
                    "total_amount_excl_taxes": money(fee, currency),
                    "total_amount_incl_taxes": money(fee + vat, currency),
                    "total_taxes": taxes,
                    "details": [
                        {
                            "description": label,
                            "quantity": 1,
                            "amount_excl_taxes": money(line_fee, currency),
                            "taxes": [{"code": "VAT", "amount": money(line_vat, currency)}],
                        }
                        for label, line_fee, line_vat in charges
                    ],
                    "payment": {"state": "PENDING"},
                    "payment_voucher_number": None,
                    "pay_out_psp_code": "NOT_SPECIFIED",
                    "seller_billing_cycle_id": self.cycle_id(shop_id),
                }
            )
        return documents
