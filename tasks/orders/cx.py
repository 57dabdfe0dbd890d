"""The customer-service view on a BigCommerce order: one JSON order metafield saying who fulfils each line.

Agents answer "where is my item?" from the order page, so the metafield lists, per order product, `native` or
the seller's name, the Mirakl logistic order and line ids and their state. Ids and states only, never
customer data. One metafield per order keeps the cost at one BigCommerce call per change: it is created once
(through the ledger, so a rerun never creates a second) and later updated by the id the ledger kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from bcmirakl.runtime import Runtime
from connectors.bigcommerce.models import Metafield
from connectors.http.errors import ConflictError
from connectors.mirakl.models import Order as MiraklOrder
from connectors.state import OrderLineMapping, ledger_get
from tasks.effects import write_once

__all__ = ["CX_NAMESPACE", "cx_document", "write_cx_metafield"]

CX_NAMESPACE = "bcmirakl"
_OPERATION = "order_metafield"


def cx_document(
    commercial_id: str | None,
    lines: Iterable[OrderLineMapping],
    orders: Mapping[str, MiraklOrder],
    route_status: str,
    shop_names: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """Per line: who fulfils it and the Mirakl state (the line's own, else its logistic order's).

    A marketplace line that never reached Mirakl shows `EXCEPTION`; a cancelled order shows `CANCELED` on lines
    Mirakl no longer reports.
    """
    names = dict(shop_names or {})
    names.update({o.shop_id: o.shop_name for o in orders.values() if o.shop_id is not None and o.shop_name})
    rendered = []
    for line in sorted(lines, key=lambda row: row.bc_order_product_id):
        unrouted = line.offer_id is None and line.mirakl_order_line_id is None
        if line.marketplace is False or (line.marketplace is None and unrouted):
            rendered.append({"order_product_id": line.bc_order_product_id, "fulfilled_by": "native", "state": "NATIVE"})
            continue
        order = orders.get(line.mirakl_order_id or "")
        mirakl_line = (
            next((x for x in order.order_lines if x.order_line_id == line.mirakl_order_line_id), None)
            if order
            else None
        )
        if line.mirakl_order_id is None:
            state = "EXCEPTION"
        elif mirakl_line is not None and mirakl_line.order_line_state:
            state = mirakl_line.order_line_state
        elif order is not None and order.order_state:
            state = order.order_state
        else:
            state = "CANCELED" if route_status == "cancelled" else "UNKNOWN"
        rendered.append(
            {
                "order_product_id": line.bc_order_product_id,
                "fulfilled_by": names.get(line.shop_id or -1, f"shop {line.shop_id}")
                if line.shop_id
                else "marketplace",
                "shop_id": line.shop_id,
                "mirakl_order_id": line.mirakl_order_id,
                "mirakl_order_line_id": line.mirakl_order_line_id if line.mirakl_order_id else None,
                "state": state,
            }
        )
    return {"commercial_id": commercial_id, "status": route_status, "lines": rendered}


async def write_cx_metafield(rt: Runtime, bc_order_id: int, document: Mapping[str, Any]) -> str | None:
    """Create the order's CX metafield once, then update it in place; returns the metafield id."""
    value = json.dumps(document, sort_keys=True, separators=(",", ":"))
    key = rt.config.orders.cx_metafield_key
    # Helpdesk apps read it, so it is `read` by default: `app_only` is "Private to the app that owns the field".
    permission = rt.config.orders.cx_metafield_permission_set
    fields = {"namespace": CX_NAMESPACE, "key": key, "value": value, "permission_set": permission}
    with rt.sessions() as session:
        entry = ledger_get(session, "bigcommerce", _OPERATION, str(bc_order_id))
        known = entry.external_id if entry is not None and entry.outcome == "succeeded" else None
    if known is not None:
        await rt.bigcommerce.update_order_metafield(bc_order_id, int(known), **fields)
        return known

    async def create() -> Metafield:
        try:
            return await rt.bigcommerce.create_order_metafield(
                bc_order_id, CX_NAMESPACE, key, value, permission_set=permission
            )
        except ConflictError:  # created by an earlier run whose record was lost: take it over
            return await rt.bigcommerce.upsert_order_metafield(
                bc_order_id, CX_NAMESPACE, key, value, permission_set=permission
            )

    async def find() -> str | None:
        found = await rt.bigcommerce.list_order_metafields(bc_order_id, namespace=CX_NAMESPACE, key=key)
        if not found:
            return None
        await rt.bigcommerce.update_order_metafield(bc_order_id, found[0].id, **fields)
        return str(found[0].id)

    outcome = await write_once(
        rt.sessions,
        system="bigcommerce",
        operation=_OPERATION,
        key=str(bc_order_id),
        send=create,
        external_id=lambda metafield: str(metafield.id),
        recover=find,
    )
    return outcome.external_id
