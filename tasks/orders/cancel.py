"""Unwind a routed order that BigCommerce cancelled: cancel its Mirakl logistic orders (OR29) while Mirakl allows.

An order Mirakl no longer lets us cancel (already debited or shipped) becomes an exception for customer
service, never a silent leftover; native lines already handed to the ERP become one too, because the ERP
sink has no cancel call.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bridge.runtime import Runtime
from connectors.state import get_order_route, ledger_finish, ledger_get, order_lines_for
from tasks.exactly_once import write_once
from tasks.leases import writers_gone
from tasks.orders.cx import cx_document, write_cx_metafield
from tasks.orders.lookup import mirakl_orders_of
from tasks.orders.plan import LineProblem
from tasks.orders.records import record_logistic_orders, record_problems, set_route_status
from tasks.reporting import Tally, emit_alert

__all__ = ["CANCEL_EVENT", "cancel_routed_order"]

CANCEL_EVENT = "bcmirakl.orders.cancel-failed"
ERP_UNKNOWN = (
    "the native lines' hand-over to the ERP was interrupted: check the ERP and cancel them there if it has them"
)
_DONE_STATES = frozenset({"CANCELED", "REFUSED"})


async def cancel_routed_order(rt: Runtime, bc_order_id: int, report: Tally) -> None:
    """Cancel every open logistic order of the BigCommerce order and record the outcome on the order."""
    with rt.sessions() as session:
        route = get_order_route(session, bc_order_id)
        native_sent = bool(route and route.native_sent)
        commercial_id = route.commercial_id if route else None
    problems: list[LineProblem] = []
    orders = await mirakl_orders_of(rt, commercial_id) if commercial_id else []
    for order in orders:
        if order.order_state in _DONE_STATES:
            continue
        if not order.can_cancel:
            problems.append(LineProblem(None, "cancel_not_allowed", f"{order.order_id} is {order.order_state}"))
            continue
        outcome = await write_once(
            rt.sessions,
            system="mirakl",
            operation="OR29",
            key=order.order_id,
            send=lambda order_id=order.order_id: rt.mirakl.cancel_order(order_id),
            external_id=lambda _none, order_id=order.order_id: order_id,
        )
        report.add(f"or29_{outcome.status}")
        if not outcome.done:
            problems.append(LineProblem(None, "cancel_refused", f"{order.order_id}: {outcome.error}"))
    if native_sent:
        problems.append(LineProblem(None, "native_cancel", "native lines were sent to the ERP: cancel them there"))
    elif await _erp_hand_over_interrupted(rt, bc_order_id):
        problems.append(LineProblem(None, "native_cancel", ERP_UNKNOWN))
    if orders:
        orders = await mirakl_orders_of(rt, commercial_id)  # states after the cancellations
    now = datetime.now(UTC)
    with rt.sessions() as session:
        record_logistic_orders(session, bc_order_id, orders)
        record_problems(session, bc_order_id, problems, now)
        set_route_status(session, bc_order_id, "cancelled", now)
        lines = order_lines_for(session, bc_order_id=bc_order_id)
        session.commit()
    report.add("cancelled_after_routing")
    if problems:
        report.tables.setdefault("exceptions", []).extend(
            {"bc_order_id": bc_order_id, "order_product_id": None, "kind": p.kind, "reason": p.reason} for p in problems
        )
        emit_alert(
            report,
            CANCEL_EVENT,
            f"bcmirakl.order.{bc_order_id}",
            {"bc_order_id": bc_order_id, "kinds": sorted({p.kind for p in problems})},
        )
    if commercial_id:
        document = cx_document(commercial_id, lines, {o.order_id: o for o in orders}, "cancelled")
        await write_cx_metafield(rt, bc_order_id, document)


async def _erp_hand_over_interrupted(rt: Runtime, bc_order_id: int) -> bool:
    """A run died during this order's ERP hand-over (its ledger row is still `started`, its writer gone): the
    order is cancelled, so the write is not wanted any more, and whether the ERP got it cannot be asked (the
    sink has no read). The row is closed as not sent and customer service gets the order to check (chaos
    `ledger_started` erp/send_order, seeds 335, 520, 836, 949)."""
    key = str(bc_order_id)
    with rt.sessions() as session:
        entry = ledger_get(session, "erp", "send_order", key)
        session.expunge_all()
    if entry is None or entry.outcome != "started" or not await writers_gone([entry]):
        return False
    with rt.sessions() as session:  # not held across the liveness check, which may ask the Prefect API
        entry = ledger_get(session, "erp", "send_order", key)
        if entry is None or entry.outcome != "started":
            return False
        entry.detail = {**(entry.detail or {}), "closed": "order cancelled during an interrupted hand-over"}
        ledger_finish(session, entry, "failed")
        session.commit()
    return True
