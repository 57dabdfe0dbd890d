"""Which Mirakl shipping type each marketplace line asks for, decided before OR01 from what its offer allows.

OR01 needs a `shipping_type_code` per line, "from SH02 `allowed_shipping_types[].code`" (shared/api/mirakl.md
§5.2). A seller that does not ship the type asked for in the customer's zone makes OR01 answer the line with
`offers_not_shippable` / `SHIPPING_TYPE_NOT_FOUND`. So before OR01 the bridge asks SH02 which types each winning
offer allows in the zone (one call per order) and gives each line the first type of the customer's BigCommerce
shipping method (configuration: `orders.shipping_methods`, else `orders.shipping_type_code`) that its offer
allows. A line no type fits is an exception before OR01, with the types the offer does allow in its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bridge.runtime import Runtime
from connectors.bigcommerce.models import ShippingAddress
from tasks.orders.plan import LinePlan, LineProblem, OrderPlan

__all__ = ["NO_SHIPPING_TYPE", "choose_shipping_types", "customer_shipping_method"]

NO_SHIPPING_TYPE = "no_shipping_type"
NOT_SHIPPABLE = "offers_not_shippable"  # the kind OR01's own `offers_not_shippable` answer gets


def customer_shipping_method(plan: OrderPlan, addresses: Sequence[ShippingAddress]) -> str | None:
    """The BigCommerce shipping method of the address the marketplace lines ship to.

    orders.v2.oas2.yml, shippingAddress `shipping_method`: "Text code identifying the BigCommerce shipping
    module selected by the customer." (e.g. `Flat Rate`, `Free Shipping`).
    """
    line_ids = {line.order_product_id for line in plan.marketplace}
    address_ids = {p.order_address_id for p in plan.products if p.id in line_ids}
    return next((a.shipping_method for a in addresses if a.id in address_ids), None)


async def choose_shipping_types(
    rt: Runtime, plan: OrderPlan, lines: Sequence[LinePlan], method: str | None
) -> tuple[list[LinePlan], list[LineProblem]]:
    """The lines to send, each with its shipping type, and the lines no type fits (before any OR01)."""
    if not lines or plan.shipping_zone_code is None:
        return list(lines), []
    zone = plan.shipping_zone_code
    rates = await rt.mirakl.shipping_rates(zone, [(line.offer.offer_id, line.offer_line.quantity) for line in lines])
    allowed = rates.allowed_types()
    errors = {error.offer_id: error.error_code for error in rates.errors}
    wanted = rt.config.orders.shipping_types_for(method)
    chosen: list[LinePlan] = []
    problems: list[LineProblem] = []
    for line in lines:
        offer_id = line.offer.offer_id
        if errors.get(offer_id) == "OFFER_NOT_FOUND":  # the same answer OR01 would give, without sending the line
            problems.append(LineProblem(line.order_product_id, NOT_SHIPPABLE, "OFFER_NOT_FOUND", offer_id))
            continue
        fits = [code for code in wanted if code in allowed.get(offer_id, [])]
        if fits:
            typed = line.offer_line.model_copy(update={"shipping_type_code": fits[0]})
            chosen.append(replace(line, offer_line=typed))
            continue
        offered = ", ".join(allowed.get(offer_id, [])) or errors.get(offer_id, "no shipping type")
        reason = f"shipping method '{method or ''}' allows {', '.join(wanted)}; the offer ships to {zone}: {offered}"
        problems.append(LineProblem(line.order_product_id, NO_SHIPPING_TYPE, reason, offer_id))
    return chosen, problems
