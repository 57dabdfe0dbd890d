"""Refund quotes and refunds (orders v3 `payment_actions`): what may be refunded, for how much, by which method.

Items follow `ItemsRefund` in orders.v3.yml: PRODUCT by order-product id with a quantity (its amount is the
quantity's share of the line's tax-inclusive total after discounts plus its negative `adjustments`, never
below zero; the tax refunded stays the quantity's), SHIPPING by order-address id with an amount, ORDER by order
id with a tax-exempt amount; only PRODUCT items take adjustments. Nothing may exceed what was paid and not yet
refunded, and a refund's payments must add up to the quoted method amount (bigcommerce.md §5.2).

Error shapes are those each endpoint documents: the quote answers the generic 422
`{status, title, type, errors}`; the refund answers `{"data": [{status, title, type, errors}]}`.
Fields the spec types without `nullable` are left out where they do not apply rather than sent as null: a
non-PRODUCT item's `quantity`, an offline payment's `transaction_id`. A PRODUCT item's `requested_amount` is
`null`, as in the spec's refund read example.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandbox.bigcommerce.errors import ApiError
from sandbox.bigcommerce.settings import ERROR_TYPE, PAID_PAYMENT_STATUSES
from sandbox.bigcommerce.store import BigCommerceStore, Order
from sandbox.bigcommerce.wire import parse_money
from sandbox.minor_units import round_to

__all__ = ["RefundPlan", "create_refund", "plan_refund", "quote", "transactions"]

_ZERO = Decimal("0")


class _Rejected(Exception):
    def __init__(self, title: str, errors: dict[str, str]) -> None:
        super().__init__(title)
        self.title = title
        self.errors = errors


@dataclass
class RefundPlan:
    """The validated effect of a refund request, before anything is applied."""

    items: list[dict[str, Any]] = field(default_factory=list)
    quantities: Counter[int] = field(default_factory=Counter)
    shipping: dict[int, Decimal] = field(default_factory=dict)
    total: Decimal = _ZERO
    tax: Decimal = _ZERO


def _money(order: Order, value: Decimal) -> Decimal:
    """Rounded to the minor unit of the currency the shopper paid in (whole yen, cents, fils)."""
    return round_to(value, order.default_currency_code)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _plan_product(order: Order, item: dict[str, Any], index: int, plan: RefundPlan) -> None:
    line = order.line(item.get("item_id")) if isinstance(item.get("item_id"), int) else None
    if line is None:
        raise _Rejected("Order product not found", {f"items.{index}.item_id": "no such order product on this order"})
    quantity = item.get("quantity")
    if not _positive_int(quantity):
        raise _Rejected("JSON data is missing or invalid", {f"items.{index}.quantity": "must be a positive integer"})
    plan.quantities[line.id] += quantity
    if plan.quantities[line.id] > line.quantity - line.quantity_refunded:
        raise _Rejected(
            "The quantity to refund exceeds the quantity left to refund",
            {f"items.{index}.quantity": f"at most {line.quantity - line.quantity_refunded} left to refund"},
        )
    adjustments = _adjustments(order, item.get("adjustments", []), index)
    # Spec silent on discounted lines: a unit is worth its share of `discounted_total_inc_tax`, "the correct total
    # amount of the line item after deducting all the discounts and including the tax" (orders.v2.oas2.yml).
    paid = _money(order, line.discounted_total_inc_tax * quantity / line.quantity)
    amount = paid + sum((a["amount"] for a in adjustments), _ZERO)
    if amount < 0:
        raise _Rejected(
            "The adjustments exceed the amount of the item",
            {f"items.{index}.adjustments": f"at most {paid} in total"},
        )
    plan.total += amount
    plan.tax += line.price_tax * quantity
    plan.items.append(
        {
            "item_type": "PRODUCT",
            "item_id": line.id,
            "reason": item.get("reason", ""),
            "quantity": quantity,
            "adjustments": adjustments,
            # orders.v3.yml RefundID_Get example: a PRODUCT item reads `requested_amount: null`; the `Amount`
            # schema says the amount "becomes irrelevant when you select PRODUCT or GIFT_WRAPPING".
            "requested_amount": None,
        }
    )


def _adjustments(order: Order, raw: Any, index: int) -> list[dict[str, Any]]:
    """`RefundItemAdjustment`s: each a negative amount (to the cent) with an optional description."""
    if not isinstance(raw, list):
        raise _Rejected("JSON data is missing or invalid", {f"items.{index}.adjustments": "must be an array"})
    adjustments = []
    for position, adjustment in enumerate(raw):
        where = f"items.{index}.adjustments.{position}"
        if not isinstance(adjustment, dict):
            raise _Rejected("JSON data is missing or invalid", {where: "must be an object"})
        amount = parse_money(adjustment.get("amount"), allow_string=False)
        if amount is None or _money(order, amount) >= 0:
            raise _Rejected("JSON data is missing or invalid", {f"{where}.amount": "must be a number < 0"})
        description = adjustment.get("description", "")
        if not isinstance(description, str) or len(description) > 255:
            raise _Rejected("JSON data is missing or invalid", {f"{where}.description": "at most 255 characters"})
        adjustments.append({"amount": _money(order, amount), "description": description})
    return adjustments


def _plan_amount(order: Order, item: dict[str, Any], index: int, plan: RefundPlan) -> None:
    kind = item["item_type"]
    if "adjustments" in item:
        raise _Rejected(
            "JSON data is missing or invalid", {f"items.{index}.adjustments": "only supported for item_type PRODUCT"}
        )
    amount = parse_money(item.get("amount"), allow_string=False)
    if amount is None or amount < 0:
        raise _Rejected("JSON data is missing or invalid", {f"items.{index}.amount": "must be a number >= 0"})
    amount = _money(order, amount)
    if kind == "SHIPPING":
        address = order.address(item.get("item_id")) if isinstance(item.get("item_id"), int) else None
        if address is None:
            raise _Rejected("Order address not found", {f"items.{index}.item_id": "no such order address"})
        already = plan.shipping.get(address.id, _ZERO)
        left = address.cost_inc_tax - address.refunded_amount - already
        if amount > left:
            raise _Rejected(
                "The amount to refund exceeds the shipping amount left to refund",
                {f"items.{index}.amount": f"at most {left} left to refund"},
            )
        plan.shipping[address.id] = already + amount
        shipping_rate = (
            (address.cost_inc_tax - address.cost_ex_tax) / address.cost_inc_tax if address.cost_inc_tax else 0
        )
        plan.tax += _money(order, amount * shipping_rate)
    elif item.get("item_id") != order.id:
        raise _Rejected("JSON data is missing or invalid", {f"items.{index}.item_id": "must be the order id"})
    plan.total += amount
    plan.items.append(
        {
            "item_type": kind,
            "item_id": item["item_id"],
            "reason": item.get("reason", ""),
            "requested_amount": amount,
        }
    )


def _plan(order: Order, body: Any) -> RefundPlan:
    if order.payment_status not in PAID_PAYMENT_STATUSES:
        raise _Rejected("The order is not paid, there is nothing to refund", {"order_id": "not refundable"})
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise _Rejected("JSON data is missing or invalid", {"items": "error.path.missing"})
    plan = RefundPlan()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _Rejected("JSON data is missing or invalid", {f"items.{index}": "must be an object"})
        kind = item.get("item_type")
        if kind == "PRODUCT":
            _plan_product(order, item, index, plan)
        elif kind in ("SHIPPING", "ORDER"):
            _plan_amount(order, item, index, plan)
        else:
            raise _Rejected(
                "JSON data is missing or invalid",
                {f"items.{index}.item_type": f"{kind!r} cannot be refunded on this order"},
            )
    plan.total = _money(order, plan.total)
    plan.tax = _money(order, plan.tax)
    left = order.total_inc_tax - order.refunded_total
    if plan.total > left:
        raise _Rejected(
            "The refund amount exceeds the amount paid and not yet refunded",
            {"items": f"total {plan.total} exceeds the {_money(order, left)} left to refund"},
        )
    return plan


def plan_refund(order: Order, body: Any) -> RefundPlan:
    """The plan of a quote request; invalid requests raise the generic 422."""
    try:
        return _plan(order, body)
    except _Rejected as exc:
        raise ApiError("v3", 422, exc.title, errors=exc.errors) from None


def refund_methods(order: Order, amount: Decimal) -> list[list[dict[str, Any]]]:
    """In the order of orders.v3.yml's `refund_methods` example: store credit first (registered customers only:
    "Unable to provide store credit for a guest customer"), then the offline "custom" record, then the method
    that took the payment. Nothing in the spec says the paying method comes first."""
    methods = [[_option("custom", "Custom", amount, offline=True)]]
    if order.gateway_refunds:
        methods.append([_option(order.payment_provider_id, order.payment_provider_id.title(), amount, offline=False)])
    if order.customer_id:
        methods.insert(0, [_option("storecredit", "Store Credit", amount, offline=False)])
    return methods


def _option(provider_id: str, description: str, amount: Decimal, *, offline: bool) -> dict[str, Any]:
    return {
        "provider_id": provider_id,
        "provider_description": description,
        "amount": amount,
        "offline": offline,
        "offline_provider": offline,
        "offline_reason": "This is an offline payment provider." if offline else "",
    }


def quote(order: Order, plan: RefundPlan) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "total_refund_amount": plan.total,
        "total_refund_tax_amount": plan.tax,
        "order_level_refund_amount": sum(
            (i["requested_amount"] for i in plan.items if i["item_type"] == "ORDER"), _ZERO
        ),
        "rounding": 0,
        "adjustment": 0,
        "tax_inclusive": True,
        "refund_methods": refund_methods(order, plan.total),
    }


def _payments(order: Order, body: dict[str, Any], expected: Decimal) -> list[dict[str, Any]]:
    payments = body.get("payments")
    if not isinstance(payments, list) or not payments:
        raise _Rejected("JSON data is missing or invalid", {"payments": "error.path.missing"})
    providers = {option["provider_id"] for method in refund_methods(order, expected) for option in method}
    total = _ZERO
    for index, payment in enumerate(payments):
        amount = parse_money(payment.get("amount") if isinstance(payment, dict) else None, allow_string=False)
        if amount is None or amount < 0:
            raise _Rejected("JSON data is missing or invalid", {f"payments.{index}.amount": "must be a number >= 0"})
        if payment.get("provider_id") not in providers:
            raise _Rejected(
                "Refund method is not available for this order",
                {f"payments.{index}.provider_id": f"must be one of {', '.join(sorted(providers))}"},
            )
        total += amount
    if _money(order, total) != expected:
        raise _Rejected(
            "The payment amount does not match the refund amount",
            {"payments": f"payments add up to {_money(order, total)}, the refund is {expected}"},
        )
    return payments


def _override(body: dict[str, Any], plan: RefundPlan, order: Order) -> bool:
    override = body.get("merchant_calculated_override")
    if override is None:
        return False
    total = parse_money(override.get("total_amount") if isinstance(override, dict) else None, allow_string=False)
    tax = parse_money(override.get("total_tax", 0), allow_string=False) if isinstance(override, dict) else None
    if total is None or total < 0 or tax is None:
        raise _Rejected("JSON data is missing or invalid", {"merchant_calculated_override": "needs total_amount"})
    if _money(order, total) > order.total_inc_tax - order.refunded_total:
        raise _Rejected(
            "The refund amount exceeds the amount paid and not yet refunded",
            {"merchant_calculated_override.total_amount": "exceeds the amount left to refund"},
        )
    plan.total, plan.tax = _money(order, total), _money(order, tax)
    return True


def create_refund(store: BigCommerceStore, order: Order, body: Any) -> dict[str, Any]:
    """Validate the whole request, then record the refund and move the order to Refunded or Partially Refunded."""
    try:
        plan = _plan(order, body)
        overridden = _override(body, plan, order)
        payments = _payments(order, body, plan.total)
    except _Rejected as exc:
        error = {"status": 422, "title": exc.title, "type": ERROR_TYPE, "errors": exc.errors}
        raise ApiError("v3", 422, exc.title, body={"data": [error]}) from None

    for line_id, quantity in plan.quantities.items():
        line = order.line(line_id)
        assert line is not None
        line.quantity_refunded += quantity
    for address_id, amount in plan.shipping.items():
        address = order.address(address_id)
        assert address is not None
        address.refunded_amount += amount
    order.refunded_total += plan.total
    store.set_order_status(order, 4 if order.refunded_total >= order.total_inc_tax else 14)
    refund = {
        "id": store.next_id("refund"),
        "order_id": order.id,
        "user_id": 0,
        "created": order.date_modified,
        "reason": next((i["reason"] for i in plan.items if i.get("reason")), ""),
        "total_amount": plan.total,
        "total_tax": plan.tax,
        "uses_merchant_override_values": overridden,
        "items": plan.items,
        "payments": [_refund_payment(store, order, payment) for payment in payments],
    }
    store.refunds.append(refund)
    return refund


def _refund_payment(store: BigCommerceStore, order: Order, payment: dict[str, Any]) -> dict[str, Any]:
    """One `RefundPayment`. "The payment request itself occurs asynchronously" (orders.v3.yml, Create a Refund):
    an online payment gets a `Transaction` of event `refund` once settled (status `error` and `is_declined` when
    the provider declines it), of event `pending` while it waits; an offline one only records the refund."""
    amount = _money(order, parse_money(payment["amount"], allow_string=False) or _ZERO)
    offline = bool(payment.get("offline", False))
    outcome = "settled" if offline else store.refund_payment_outcome
    record: dict[str, Any] = {
        "id": store.next_id("refund_payment"),
        "provider_id": payment["provider_id"],
        "amount": amount,
        "offline": offline,
        "is_declined": outcome == "declined",
        "declined_message": "The card issuer declined the refund" if outcome == "declined" else "",
    }
    if not offline:
        transaction_id = store.next_id("transaction")
        store.refund_transactions.setdefault(order.id, []).append(
            {
                "id": transaction_id,
                "order_id": str(order.id),
                "event": "pending" if outcome == "pending" else "refund",
                "method": "store_credit" if payment["provider_id"] == "storecredit" else "credit_card",
                "amount": amount,
                "currency": order.default_currency_code,
                "gateway": payment["provider_id"],
                "status": "error" if outcome == "declined" else "ok",
                "test": True,
                "fraud_review": False,
                "date_created": store.now().isoformat(),
            }
        )
        record["transaction_id"] = str(transaction_id)
    return record


def transactions(store: BigCommerceStore, order: Order) -> list[dict[str, Any]]:
    """GET /v3/orders/{id}/transactions: the payment that took the order's money, then its refund payments."""
    taken = order.payment_status not in ("", "pending", "declined", "void")
    purchase = {
        "id": order.id * 1000,
        "order_id": str(order.id),
        "event": "purchase",
        "method": "credit_card",
        "amount": order.total_inc_tax,
        "currency": order.default_currency_code,
        "gateway": order.payment_provider_id,
        "status": "ok",
        "test": True,
        "fraud_review": False,
        "date_created": order.date_created.isoformat(),
    }
    return ([purchase] if taken else []) + store.refund_transactions.get(order.id, [])
