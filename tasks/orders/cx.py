"""The customer-service view on a BigCommerce order: one JSON order metafield saying who fulfils each line.

Agents answer "where is my item?" from the order page, so the metafield lists, per order product, `native` or
the seller's name, the Mirakl logistic order and line ids and their state. Ids and states only, never
customer data. One metafield per order: it is created once (through the ledger, so a rerun never creates a
second) and later updated by the id the ledger kept. The metafields of a whole page are written together through
the batch endpoints, up to 50 a call, so the CX view costs one call per page rather than one per order:
orders.v3.yml, `/orders/metafields` POST "Create multiple Metafields" (items carry `resource_id`, "The ID for the
order with which the metafield is associated") and PUT "Update multiple Metafields" (items carry `id`); both may
answer 422 "metafields creation with partial success", so each order's outcome is read from the answer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.runtime import Runtime
from common.errors import PermanentApiError, TransientApiError
from connectors.bigcommerce import settings as bc_settings
from connectors.bigcommerce.models import MetafieldBatchResult, MetafieldCreate, MetafieldUpdate
from connectors.mirakl.models import Order as MiraklOrder
from connectors.state import OrderLineMapping, ledger_begin, ledger_finish, ledger_get
from tasks.leases import writer

__all__ = ["CX_NAMESPACE", "CxWrites", "cx_document", "write_cx_metafield", "write_cx_metafields"]

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


_SYSTEM = "bigcommerce"
_log = logging.getLogger("bcmirakl.orders")


@dataclass
class CxWrites:
    """Per order: the metafield id written, the API's refusal, or the transient error that deferred it."""

    written: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    deferred: dict[int, TransientApiError] = field(default_factory=dict)


async def write_cx_metafield(rt: Runtime, bc_order_id: int, document: Mapping[str, Any]) -> str | None:
    """One order's CX metafield (a cancellation, a state change); a transient error is raised to defer the order."""
    outcome = await write_cx_metafields(rt, {bc_order_id: document})
    if bc_order_id in outcome.deferred:
        raise outcome.deferred[bc_order_id]
    return outcome.written.get(bc_order_id)


async def write_cx_metafields(rt: Runtime, documents: Mapping[int, Mapping[str, Any]]) -> CxWrites:
    """Create or update the CX metafield of every order in `documents`, in batches of 50 per call.

    The ledger says which orders already have their metafield (update by the kept id) and which were being
    created when a run stopped (`started`: looked up on the order before creating, so a lost answer never makes
    a second metafield). An order the batch refuses is taken over one at a time (its metafield may exist from a
    run whose record was lost, or have been deleted by someone); no order's failure stops the others.
    """
    key = rt.config.orders.cx_metafield_key
    # Helpdesk apps read it, so it is `read` by default: `app_only` is "Private to the app that owns the field".
    permission = rt.config.orders.cx_metafield_permission_set
    values = {order_id: json.dumps(doc, sort_keys=True, separators=(",", ":")) for order_id, doc in documents.items()}
    known: dict[int, int] = {}
    interrupted: list[int] = []
    new: list[int] = []
    with rt.sessions() as session:
        for order_id in values:
            entry = ledger_get(session, _SYSTEM, _OPERATION, str(order_id))
            if entry is None:
                ledger_begin(session, _SYSTEM, _OPERATION, str(order_id), owner=writer())
                new.append(order_id)
            elif entry.outcome == "succeeded" and entry.external_id:
                known[order_id] = int(entry.external_id)
            elif entry.outcome == "started" or entry.outcome == "succeeded":
                interrupted.append(order_id)
            # `failed`: refused for good earlier, as `write_once` leaves it
        session.commit()
    writes = CxWrites()
    for order_id in interrupted:
        await _one_by_one(rt, writes, order_id, (key, permission), values[order_id])
    updates = [
        MetafieldUpdate(id=i, namespace=CX_NAMESPACE, key=key, value=values[o], permission_set=permission)
        for o, i in known.items()
    ]
    owner_of = {metafield_id: order_id for order_id, metafield_id in known.items()}
    for chunk in _chunks(updates):
        result = await _batch(
            writes, [owner_of[item.id] for item in chunk], rt.bigcommerce.update_order_metafields(chunk)
        )
        if result is not None:
            await _settle(rt, writes, result, (key, permission), values, lambda item: owner_of[item.id])
    creates = [
        MetafieldCreate(namespace=CX_NAMESPACE, key=key, value=values[o], permission_set=permission, resource_id=o)
        for o in new
    ]
    for chunk in _chunks(creates):
        order_ids = [int(item.resource_id or 0) for item in chunk]
        result = await _batch(writes, order_ids, rt.bigcommerce.create_order_metafields(chunk))
        if result is not None:
            await _settle(rt, writes, result, (key, permission), values, lambda item: int(item.resource_id or 0))
    return writes


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    size = bc_settings.METAFIELD_BATCH_LIMIT
    return (items[start : start + size] for start in range(0, len(items), size))


async def _batch(
    writes: CxWrites, order_ids: list[int], call: Awaitable[MetafieldBatchResult]
) -> MetafieldBatchResult | None:
    """Send one batch; a transient error defers its orders, a refusal of the whole batch fails them. Either way a
    create stays `started` in the ledger, so the order's next write looks its metafield up before creating."""
    try:
        return await call
    except TransientApiError as exc:
        writes.deferred.update(dict.fromkeys(order_ids, exc))
    except PermanentApiError as exc:
        writes.failed.update(dict.fromkeys(order_ids, exc.api_message))
    return None


async def _settle(
    rt: Runtime,
    writes: CxWrites,
    result: MetafieldBatchResult,
    name: tuple[str, str],
    values: Mapping[int, str],
    owner: Callable[[Any], int],
) -> None:
    """Record what the batch saved; take over what it refused one order at a time."""
    saved = {int(m.resource_id): m for m in result.saved if m.resource_id is not None}
    with rt.sessions() as session:
        for order_id, metafield in saved.items():
            _finish(session, order_id, "succeeded", str(metafield.id))
            writes.written[order_id] = str(metafield.id)
        session.commit()
    for item, message in result.rejected:
        order_id = owner(item)
        _log.info("order %s: CX metafield refused in a batch (%s), taken over alone", order_id, message)
        await _one_by_one(rt, writes, order_id, name, values[order_id])


async def _one_by_one(rt: Runtime, writes: CxWrites, order_id: int, name: tuple[str, str], value: str) -> None:
    """The single-order path: find the order's metafield, update or create it, and record its id.

    `name` is the metafield's key and permission set."""
    key, permission = name
    try:
        metafield = await rt.bigcommerce.upsert_order_metafield(
            order_id, CX_NAMESPACE, key, value, permission_set=permission
        )
    except TransientApiError as exc:
        writes.deferred[order_id] = exc
        return
    except PermanentApiError as exc:
        writes.failed[order_id] = exc.api_message
        with rt.sessions() as session:
            _finish(session, order_id, "failed", None)
            session.commit()
        return
    with rt.sessions() as session:
        _finish(session, order_id, "succeeded", str(metafield.id))
        session.commit()
    writes.written[order_id] = str(metafield.id)


def _finish(session: Any, order_id: int, outcome: str, metafield_id: str | None) -> None:
    entry = ledger_begin(session, _SYSTEM, _OPERATION, str(order_id))
    if entry.outcome == "started" or metafield_id is not None:
        ledger_finish(session, entry, outcome, metafield_id)
