"""Turn one paid BigCommerce order into what routing sends: native lines for the ERP, one OR01 for Mirakl.

Pure functions, no I/O, so every money rule (what the customer paid per unit, the shipping share of each
line, BigCommerce's taxes carried to Mirakl, the amount Mirakl will later ask us to debit) is tested on its
own. A line that cannot be sent is never dropped: it becomes a `LineProblem`, which routing turns into an
exception case shown on the order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from bridge.config import BridgeConfig
from connectors.bigcommerce.models import Order, OrderProduct, ShippingAddress
from connectors.mirakl.models import (
    INT32_MAX,
    BillingAddress,
    OrderCreate,
    OrderCustomer,
    OrderOfferCreate,
    OrderReferences,
    TaxAmount,
)
from connectors.mirakl.models import ShippingAddress as MiraklShippingAddress
from connectors.money import allocate, round_money
from tasks.orders.countries import alpha3
from tasks.paid import line_tax, paid_ex_tax, transactional_currency

__all__ = [
    "LinePlan",
    "LineProblem",
    "OfferRef",
    "OrderPlan",
    "build_plan",
    "commercial_id_for",
    "erp_payload",
    "gate_rows",
    "mirakl_line_id",
]

ZERO = Decimal("0")
TAX_MODE = "TAX_EXCLUDED"  # amounts ex tax, BigCommerce's taxes as amounts: Mirakl adds them to the debit


@dataclass(frozen=True)
class OfferRef:
    """The Mirakl offer that sells a BigCommerce variant, from the offer map."""

    offer_id: int
    shop_id: int | None


@dataclass(frozen=True)
class LinePlan:
    """One marketplace line as it goes to Mirakl, with what Mirakl should debit for it (TAX_EXCLUDED)."""

    order_product_id: int
    offer: OfferRef
    offer_line: OrderOfferCreate
    expected_debit: Decimal

    @property
    def line_id(self) -> str:
        assert self.offer_line.order_line_id is not None
        return self.offer_line.order_line_id


@dataclass(frozen=True)
class LineProblem:
    """A line (or, with `order_product_id` None, the whole marketplace part) that cannot be sent."""

    order_product_id: int | None
    kind: str
    reason: str
    offer_id: int | None = None


@dataclass
class OrderPlan:
    order: Order
    products: list[OrderProduct]
    native: list[OrderProduct]
    marketplace: list[LinePlan]
    problems: list[LineProblem] = field(default_factory=list)
    customer: OrderCustomer | None = None
    shipping_zone_code: str | None = None

    @property
    def commercial_id(self) -> str:
        return commercial_id_for(self.order.id)

    def commercial_order(self, config: BridgeConfig, lines: Sequence[LinePlan] | None = None) -> OrderCreate | None:
        """The OR01 body for `lines` (default: every planned marketplace line), or None when nothing is left."""
        chosen = list(self.marketplace if lines is None else lines)
        if not chosen or self.customer is None or self.shipping_zone_code is None:
            return None
        return OrderCreate(
            commercial_id=self.commercial_id,
            customer=self.customer,
            offers=[line.offer_line for line in chosen],
            shipping_zone_code=self.shipping_zone_code,
            scored=config.orders.scored,
            payment_workflow=config.orders.payment_workflow,
            order_tax_mode=TAX_MODE,
            references=OrderReferences(order_reference_for_customer=str(self.order.id)),
        )


def commercial_id_for(bc_order_id: int) -> str:
    return str(bc_order_id)


def mirakl_line_id(bc_order_id: int, order_product_id: int) -> str:
    """Unique across Mirakl: Mirakl's own default line ids contain the order's letter (`100-A-1`), ours never."""
    return f"{bc_order_id}-{order_product_id}"


def build_plan(
    order: Order,
    products: Sequence[OrderProduct],
    addresses: Sequence[ShippingAddress],
    owned: Mapping[int, OfferRef | None],
    config: BridgeConfig,
) -> OrderPlan:
    """Split the order's lines (Mirakl-owned variant = marketplace) and price each marketplace line for OR01.

    A Mirakl-owned variant with no live offer (`None`: sold out, blocked feed, or unknown to a fresh state store)
    is a problem line, never a native one: its goods are a seller's, so the ERP must not ship them.
    """
    native = [p for p in products if p.variant_id is None or p.variant_id not in owned]
    owned_lines = [p for p in products if p.variant_id is not None and p.variant_id in owned]
    plan = OrderPlan(
        order=order, products=list(products), native=[p for p in native if p.quantity >= 1], marketplace=[]
    )
    # A native line without quantity is not sent to the ERP unflagged: it is an exception like a marketplace one.
    plan.problems += [
        LineProblem(p.id, "zero_quantity", "the line's quantity is below 1") for p in native if p.quantity < 1
    ]
    plan.problems += [
        LineProblem(p.id, "offer_gone", "Mirakl-owned variant with no live offer (sold out or feed blocked)")
        for p in owned_lines
        if owned[_vid(p)] is None
    ]
    offers = {_vid(p): offer for p in owned_lines if (offer := owned[_vid(p)]) is not None}
    candidates = [p for p in owned_lines if _vid(p) in offers]
    if not candidates:
        return plan
    address_ids = {p.order_address_id for p in candidates}
    address = next((a for a in addresses if a.id in address_ids), None)
    whole_order_problem = _currency_problem(order, config) or _customer_problem(
        order, address, address_ids, config, plan
    )
    if whole_order_problem is not None:
        plan.problems += [
            LineProblem(p.id, whole_order_problem.kind, whole_order_problem.reason, offers[_vid(p)].offer_id)
            for p in candidates
        ]
        return plan
    shipping, shipping_tax = _shipping_shares(products, addresses, config.currency)
    for product in candidates:
        offer = offers[_vid(product)]
        line = _line_plan(order, product, offer, shipping[product.id], shipping_tax[product.id], config)
        if isinstance(line, LineProblem):
            plan.problems.append(line)
        else:
            plan.marketplace.append(line)
    return plan


def gate_rows(plans: Sequence[OrderPlan], currency: str) -> list[dict[str, Any]]:
    """Rows for the `orders_out` suite, one per marketplace line, keyed by its Mirakl line id.

    The plan already turned a currency mismatch into an order exception; the gate checks it again on what is
    about to be sent, so no code path can put a foreign-currency line into OR01.
    """
    rows = []
    for plan in plans:
        currency_ok = transactional_currency(plan.order) == currency.upper()
        for line in plan.marketplace:
            rows.append(
                {
                    "line_id": line.line_id,
                    "bc_order_id": plan.order.id,
                    "offer_id": line.offer.offer_id,
                    "quantity": line.offer_line.quantity,
                    "offer_price": line.offer_line.offer_price,
                    "currency_ok": currency_ok,
                }
            )
    return rows


def erp_payload(plan: OrderPlan, addresses: Sequence[ShippingAddress]) -> dict[str, Any]:
    """The ERP's document for the native lines: what to ship, to where, at what price (money as strings)."""
    used = {p.order_address_id for p in plan.native}
    return {
        "bc_order_id": plan.order.id,
        "currency": transactional_currency(plan.order),
        "date_created": plan.order.date_created.isoformat() if plan.order.date_created else None,
        "lines": [
            {
                "order_product_id": p.id,
                "sku": p.sku,
                "quantity": p.quantity,
                "price_ex_tax": str(p.price_ex_tax),
                "total_inc_tax": str(p.total_inc_tax),
                "order_address_id": p.order_address_id,
            }
            for p in plan.native
        ],
        "shipping_addresses": [
            a.model_dump(mode="json", exclude={"shipping_zone_id"}) for a in addresses if a.id in used
        ],
    }


# --- private helpers ---------------------------------------------------------------------------------------


def _vid(product: OrderProduct) -> int:
    assert product.variant_id is not None
    return product.variant_id


def _shipping_shares(
    products: Sequence[OrderProduct], addresses: Sequence[ShippingAddress], currency: str
) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """Each line's share of its address's shipping (ex tax) and shipping tax, by goods value."""
    cost: dict[int, Decimal] = {p.id: ZERO for p in products}
    tax: dict[int, Decimal] = {p.id: ZERO for p in products}
    for address in addresses:
        lines = [p for p in products if p.order_address_id == address.id]
        if not lines:
            continue
        ex = address.cost_ex_tax or ZERO
        inc = address.cost_inc_tax if address.cost_inc_tax is not None else ex
        weights = [p.total_ex_tax for p in lines]
        shares = zip(lines, allocate(ex, weights, currency), allocate(inc - ex, weights, currency), strict=True)
        for product, share, tax_share in shares:
            cost[product.id] = share
            tax[product.id] = tax_share
    return cost, tax


def _currency_problem(order: Order, config: BridgeConfig) -> LineProblem | None:
    """An order paid in another currency than the store's cannot go to Mirakl as it is: an exception, with why.

    `orders.v2.oas2.yml`, Order: `default_currency_code` is "the currency code of the transactional currency the
    shopper pays in"; `currency_code` is only the display currency and is never compared or sent.
    """
    paid_in = transactional_currency(order)
    if paid_in is None:
        return LineProblem(None, "currency_unknown", "the order has no transactional currency (default_currency_code)")
    if paid_in != config.currency:
        return LineProblem(
            None, "currency_mismatch", f"paid in {paid_in}, the store and Mirakl work in {config.currency}"
        )
    return None


def _customer_problem(
    order: Order, address: ShippingAddress | None, address_ids: set[int | None], config: BridgeConfig, plan: OrderPlan
) -> LineProblem | None:
    """Build the OR01 customer and zone on `plan`, or say why the order's marketplace part cannot be sent."""
    if len(address_ids) > 1:
        return LineProblem(None, "several_addresses", "marketplace lines ship to several addresses")
    billing = order.billing_address
    if address is None or billing is None:
        return LineProblem(None, "address_missing", "no shipping or billing address")
    ship_country, bill_country = alpha3(address.country_iso2), alpha3(billing.country_iso2)
    if ship_country is None or bill_country is None:
        return LineProblem(None, "unknown_country", "country has no ISO alpha-3 mapping")
    zone = config.orders.shipping_zones.get((address.country_iso2 or "").upper(), config.orders.default_shipping_zone)
    if zone is None:
        return LineProblem(None, "no_shipping_zone", f"no Mirakl shipping zone for {address.country_iso2}")
    customer_id = str(order.customer_id) if order.customer_id else f"guest-{order.id}"
    try:
        plan.customer = OrderCustomer(
            customer_id=customer_id,
            email=billing.email or address.email or "",
            firstname=billing.first_name or address.first_name or "",
            lastname=billing.last_name or address.last_name or "",
            billing_address=BillingAddress(**_address_fields(billing, bill_country)),
            shipping_address=MiraklShippingAddress(**_address_fields(address, ship_country)),
        )
    except ValidationError:
        return LineProblem(None, "address_invalid", "customer or address fields do not fit OR01")
    required = (plan.customer.email, plan.customer.firstname, plan.customer.lastname)
    addresses = (plan.customer.billing_address, plan.customer.shipping_address)
    if not all(required) or not all(a.lastname and a.street_1 and a.city and a.zip_code for a in addresses):
        plan.customer = None
        return LineProblem(None, "address_incomplete", "a required customer or address field is empty")
    plan.shipping_zone_code = zone
    return None


def _line_plan(
    order: Order,
    product: OrderProduct,
    offer: OfferRef,
    shipping: Decimal,
    shipping_tax: Decimal,
    config: BridgeConfig,
) -> LinePlan | LineProblem:
    if product.quantity < 1:
        return LineProblem(product.id, "zero_quantity", "the line's quantity is below 1", offer.offer_id)
    if product.quantity > INT32_MAX:
        # mmp-front-openapi.yaml, OR01_Request_Offers `quantity`: "type: integer, format: int32". Told here
        # rather than as whatever Mirakl answers to a number it cannot hold.
        return LineProblem(product.id, "quantity_too_large", "the line's quantity is beyond int32", offer.offer_id)
    currency = config.currency  # the order's transactional currency: _currency_problem checked they are equal
    paid = paid_ex_tax(product)
    if paid <= 0:
        # Mirakl would debit nothing and pay the seller nothing for goods it still ships: a person decides.
        return LineProblem(
            product.id, "zero_amount", "the line's amount after discounts is not above 0", offer.offer_id
        )
    unit = round_money(paid / product.quantity, currency)
    if unit * product.quantity != paid:
        return LineProblem(product.id, "price_not_divisible", "the discounted line total is not a whole unit price")
    tax = line_tax(product)
    taxes: list[TaxAmount] | None = None
    shipping_taxes: list[TaxAmount] | None = None
    expected = paid + shipping
    if config.orders.tax_mode == "bigcommerce":
        taxes = [TaxAmount(code=config.orders.tax_code, amount=round_money(tax, currency))]
        shipping_taxes = [TaxAmount(code=config.orders.tax_code, amount=shipping_tax)]
        expected += round_money(tax, currency) + shipping_tax
    elif tax != 0 or shipping_tax != 0:
        return LineProblem(product.id, "tax_not_zero", "tax mode mirakl needs the BigCommerce line held at 0 % tax")
    offer_line = OrderOfferCreate(
        offer_id=offer.offer_id,
        quantity=product.quantity,
        offer_price=unit,
        price=unit * product.quantity,
        shipping_price=shipping,
        shipping_type_code=config.orders.shipping_type_code,
        currency_iso_code=currency,
        order_line_id=mirakl_line_id(order.id, product.id),
        taxes=taxes,
        shipping_taxes=shipping_taxes,
    )
    return LinePlan(product.id, offer, offer_line, round_money(expected, currency))


def _address_fields(source: Any, country_iso_code: str) -> dict[str, Any]:
    """A BigCommerce billing or shipping address in OR01's address fields (both carry the same names)."""
    return {
        "lastname": source.last_name or "",
        "firstname": source.first_name,
        "company": source.company or None,
        "street_1": source.street_1 or "",
        "street_2": source.street_2 or None,
        "zip_code": source.zip or None,
        "city": source.city or "",
        "state": source.state or None,
        "country": source.country or source.country_iso2 or "",
        "country_iso_code": country_iso_code,
        "phone": source.phone or None,
    }
