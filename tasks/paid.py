"""What the customer paid, per BigCommerce order line, and in which currency: one basis for every stream.

Routing sends these amounts to Mirakl (OR01), the debit guard compares Mirakl's debit with them, and
reconciliation compares Mirakl's ledger with them. If each stream read the order its own way (before or after
discounts, display or transactional currency), every discounted or multi-currency order would be a false gap,
so they all read it here.

Spec facts relied on (`orders.v2.oas2.yml`):
- Order `default_currency_code`: "The currency code of the transactional currency the shopper pays in";
  `currency_code` is "the display currency used to present prices to the shopper on the storefront", which
  "may be different from the transactional currency".
- Order product `applied_discounts[].amount` are the discounts taken off the line; `total_ex_tax` and
  `total_inc_tax` are before them: in the order-products example, `total_inc_tax` 65.23 minus the 1.59 manual
  discount is the `discounted_total_inc_tax` 63.64, "the correct total amount of the line item after deducting
  all the discounts and including the tax", with `total_tax` 9.24 unchanged.
"""

from __future__ import annotations

from decimal import Decimal

from connectors.bigcommerce.models import Order, OrderProduct

__all__ = ["line_discount", "line_tax", "paid_ex_tax", "paid_inc_tax", "transactional_currency"]

_ZERO = Decimal("0")


def transactional_currency(order: Order) -> str | None:
    """The currency the shopper paid in (`default_currency_code`), upper-case; None when the order omits it.

    Never `currency_code`: that is only the storefront's display currency. A missing value is not guessed.
    """
    code = (order.default_currency_code or "").strip().upper()
    return code or None


def line_discount(product: OrderProduct) -> Decimal:
    """The sum of the line's `applied_discounts` (coupon, automatic and manual discounts alike)."""
    return sum((Decimal(str(d.get("amount") or 0)) for d in product.applied_discounts), _ZERO)


def line_tax(product: OrderProduct) -> Decimal:
    """The line's tax as charged (`total_tax`, or the inc/ex difference when an older payload lacks it)."""
    return product.total_tax if product.total_tax is not None else product.total_inc_tax - product.total_ex_tax


def paid_ex_tax(product: OrderProduct) -> Decimal:
    """The line's goods after discounts, tax excluded: what OR01 sends as the line `price`."""
    return product.total_ex_tax - line_discount(product)


def paid_inc_tax(product: OrderProduct) -> Decimal:
    """The line's goods after discounts, tax included: what the customer paid for it."""
    return paid_ex_tax(product) + line_tax(product)
