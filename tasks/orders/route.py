"""Route one page of changed BigCommerce orders: paid ones are split and sent, cancelled ones are unwound.

A page is worked in four steps so the expensive parts run once per page: take every order's lines and
addresses from the consignments the list page embedded (read one order at a time, two calls, only where the
page did not bring them whole), plan and gate all marketplace lines in one frame, send order by order under a
bounded concurrency, then write the page's customer-service metafields in batches. A page of 50 orders so costs
about two BigCommerce calls: the list page and one metafield batch. Each order is anchored in the state store before any
call and every write goes through the ledger (`write_once`), so a rerun, a Prefect retry or a crash at any
point never sends a line twice. The cursor moves only when the whole page is recorded.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.config import OrderRoutingConfig
from bridge.runtime import Runtime
from bridge.streams import Stream
from common.errors import TransientApiError
from connectors.bigcommerce.models import Order, OrderProduct, ShippingAddress
from connectors.mirakl.models import Order as MiraklOrder
from connectors.mirakl.models import OrderCreated
from connectors.state import order_lines_for
from tasks.cursors import Cursor
from tasks.exactly_once import write_once
from tasks.offers.ownership import marked_variants
from tasks.orders.cancel import cancel_routed_order
from tasks.orders.cx import cx_document, write_cx_metafields
from tasks.orders.lookup import lines_and_addresses, mirakl_orders_of
from tasks.orders.plan import LinePlan, LineProblem, OrderPlan, build_plan, erp_payload, gate_rows
from tasks.orders.records import (
    anchor_route,
    owned_offers,
    record_logistic_orders,
    record_problems,
    routes_for,
    set_route_status,
)
from tasks.orders.shipping import choose_shipping_types, customer_shipping_method
from tasks.quality import gate_and_quarantine
from tasks.reporting import Tally, emit_alert
from tasks.retry import TASK_RETRY

__all__ = ["PageResult", "changed_orders", "load_order_cursor", "route_order_page"]

FINAL_ROUTES = frozenset({"routed", "exception", "cancelled"})
EXCEPTION_EVENT = "bcmirakl.orders.exception"
UNEXPECTED_ERROR = "routing_error"

_log = logging.getLogger("bcmirakl.orders")


@dataclass
class PageResult:
    """What one page did; `deferred` orders met a transient error and wait for the next run.

    `attempted` counts the orders the page tried to route or unwind, `deferred_by_system` which system's
    transient errors deferred them: together they tell an outage (everything deferred) from a blip.
    """

    orders: int = 0
    attempted: int = 0
    deferred: list[int] = field(default_factory=list)
    deferred_by_system: Counter[str] = field(default_factory=Counter)
    cursor: str | None = None
    tally: Tally = field(default_factory=Tally)


@task(cache_policy=NO_CACHE)
async def load_order_cursor(rt: Runtime) -> datetime | None:
    """Where the sweep starts: the saved cursor minus the overlap window (pages shift while orders change)."""
    with rt.sessions() as session:
        return _cursor(rt).start(session)


def _cursor(rt: Runtime) -> Cursor:
    return Cursor.with_overlap(Stream.ORDER_ROUTING, rt.config.orders.overlap_seconds)


async def changed_orders(rt: Runtime, since: datetime | None) -> AsyncIterator[list[Order]]:
    """Pages of orders modified since `since`, oldest change first, every status (cancellations matter too),
    each order with its lines and shipping addresses embedded unless `orders.embed_lines` is off."""
    pages = rt.bigcommerce.iter_orders(
        min_date_modified=since, sort="date_modified:asc", with_lines=rt.config.orders.embed_lines
    )
    async for page in pages:
        yield page


def _routable(order: Order, route: str | None, cfg: OrderRoutingConfig) -> bool:
    """Paid and not yet routed, or a route a killed run left `pending` (it was paid when anchored) whatever the
    order's status now, short of a cancellation: the warehouse may ship it before the next run, and the route
    must still be finished so its lines learn their Mirakl orders (chaos seeds 36, 114: reconciliation then
    found Mirakl's lines without a BigCommerce side)."""
    if route in FINAL_ROUTES:
        return False
    if route == "pending":
        return order.status_id not in cfg.cancelled_status_ids
    return order.status_id in cfg.paid_status_ids


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def route_order_page(rt: Runtime, orders: list[Order]) -> PageResult:
    """Route the paid orders of a page, unwind the cancelled ones, then move the cursor past the page.

    Counts go to the result's own tally, made afresh by each attempt, so a retried page counts once.
    """
    result = PageResult(orders=len(orders))
    report = result.tally
    cfg = rt.config.orders
    latest: dict[int, Order] = {}
    for order in orders:  # dedupe on (id, date_modified): the overlap re-reads orders already seen
        latest[order.id] = order
    with rt.sessions() as session:
        routes = {k: v.status for k, v in routes_for(session, latest).items()}
    to_route = [o for o in latest.values() if _routable(o, routes.get(o.id), cfg)]
    to_cancel = [
        o for o in latest.values() if o.status_id in cfg.cancelled_status_ids and routes.get(o.id) != "cancelled"
    ]
    report.add("orders_seen", len(latest))
    report.add("orders_skipped", len(latest) - len(to_route) - len(to_cancel))
    # What needs a call: a cancellation of a never-routed order needs none, so it cannot be deferred either.
    result.attempted = len(to_route) + sum(1 for o in to_cancel if routes.get(o.id) is not None)
    limit = asyncio.Semaphore(cfg.page_concurrency)

    async def guarded(order_id: int, step: str, work: Awaitable[None]) -> None:
        """One order's failure stays that order's: transient errors defer it, anything else makes it an
        exception case, and the rest of the page flows either way."""
        async with limit:
            try:
                await work
            except TransientApiError as exc:
                result.deferred.append(order_id)
                result.deferred_by_system[exc.system or "unknown"] += 1
                report.add("orders_deferred")
                report.notes.append(f"order {order_id} deferred: {exc.operation} {exc.status}")
            except Exception as exc:
                await _unexpected_error(rt, order_id, step, exc, report)

    details: dict[int, tuple[list[OrderProduct], list[ShippingAddress]]] = {}

    async def fetch(order: Order) -> None:
        products, addresses, read_alone = await lines_and_addresses(rt, order)
        details[order.id] = products, addresses
        report.add("orders_read_one_by_one" if read_alone else "orders_read_from_page")

    await asyncio.gather(*(guarded(o.id, "fetching", fetch(o)) for o in to_route))
    plans = await _plans(rt, [o for o in to_route if o.id in details], details, report)
    failed = await _gate(rt, plans, report)
    documents: dict[int, dict[str, Any]] = {}
    await asyncio.gather(
        *(
            guarded(p.order.id, "routing", _route(rt, p, details[p.order.id][1], failed, report, documents))
            for p in plans
        ),
        *(guarded(o.id, "cancelling", _cancel(rt, o, routes.get(o.id), report)) for o in to_cancel),
    )
    await _write_cx(rt, documents, result, report)
    if not result.deferred and orders:
        newest = max((o.date_modified for o in orders if o.date_modified), default=None)
        if newest is not None:
            with rt.sessions() as session:
                result.cursor = _cursor(rt).advance(session, newest)
                session.commit()
    return result


# --- steps -------------------------------------------------------------------------------------------------


async def _write_cx(rt: Runtime, documents: dict[int, dict[str, Any]], result: PageResult, report: Tally) -> None:
    """The page's CX metafields in batches; an order whose write met a transient error is deferred, so the
    cursor stays before it, as when each order wrote its own."""
    if not documents:
        return
    writes = await write_cx_metafields(rt, documents)
    report.add("cx_metafields_written", len(writes.written))
    for order_id, exc in writes.deferred.items():
        result.deferred.append(order_id)
        result.deferred_by_system[exc.system or "unknown"] += 1
        report.add("orders_deferred")
        report.notes.append(f"order {order_id} deferred: {exc.operation} {exc.status}")
    for order_id, message in writes.failed.items():
        report.add("cx_metafields_failed")
        report.notes.append(f"order {order_id}: CX metafield refused: {message}")


async def _plans(
    rt: Runtime,
    orders: Sequence[Order],
    details: dict[int, tuple[list[OrderProduct], list[ShippingAddress]]],
    report: Tally,
) -> list[OrderPlan]:
    """Plan each order on its own: one that cannot be planned becomes an exception, the others go on."""
    variant_ids = {p.variant_id for products, _ in details.values() for p in products if p.variant_id is not None}
    with rt.sessions() as session:
        owned, native = owned_offers(session, variant_ids)
    # Variants the offer map does not know (a fresh or restored state store): their ownership mark decides, so a
    # Mirakl-owned line is never sent to the ERP as a native one.
    unknown = sorted(variant_ids - set(owned) - native)
    if unknown:
        owned.update(dict.fromkeys(await marked_variants(rt, unknown)))
    plans = []
    for order in orders:
        try:
            plans.append(build_plan(order, details[order.id][0], details[order.id][1], owned, rt.config))
        except Exception as exc:
            await _unexpected_error(rt, order.id, "planning", exc, report)
    return plans


async def _unexpected_error(rt: Runtime, order_id: int, step: str, exc: Exception, report: Tally) -> None:
    """A bug or an input nobody foresaw in one order: that order becomes an exception case with the error's
    type and step (never its message, which may quote customer fields), and the page goes on.

    A paid order's route becomes `exception`, final like any other, so no rerun sends part of it again; a
    cancellation keeps its route and is tried again by the next run, its case opened (and alerted) once.
    The log keeps the stack for engineers, without the exception's message for the same reason.
    """
    reason = f"unexpected {type(exc).__name__} while {step} the order"
    frames = "".join(traceback.format_tb(exc.__traceback__))
    _log.error("order %s: %s\n%s", order_id, reason, frames)
    problem = LineProblem(None, UNEXPECTED_ERROR, reason)
    now = datetime.now(UTC)
    with rt.sessions() as session:
        if step != "cancelling":
            set_route_status(session, order_id, "exception", now)
        opened = record_problems(session, order_id, [problem], now)
        session.commit()
    report.add("orders_exception")
    if opened:
        _report_problems(report, order_id, [problem])


async def _gate(rt: Runtime, plans: Sequence[OrderPlan], report: Tally) -> dict[str, str]:
    """Gate every marketplace line of the page at once; returns failed Mirakl line ids with their reason."""
    rows = gate_rows(plans, rt.config.currency)
    if not rows:
        return {}
    frame = pd.DataFrame(rows)
    frame["offer_price"] = frame["offer_price"].astype(float)  # the suite compares numbers, not Decimals
    gate = await gate_and_quarantine(
        rt.sessions, frame, suite="orders_out", stream=Stream.ORDER_ROUTING, key_column="line_id", report=report
    )
    gate.raise_if_tripped()  # a broken source stops the sweep: the run fails and the cursor holds before the page
    return {str(row["line_id"]): str(row["reason"]) for _, row in gate.failed.iterrows()}


async def _route(
    rt: Runtime,
    plan: OrderPlan,
    addresses: list[ShippingAddress],
    gate_failed: dict[str, str],
    report: Tally,
    documents: dict[int, dict[str, Any]],
) -> None:
    """Send one planned order; its CX document is left in `documents` for the page's batch write."""
    order_id = plan.order.id
    problems = list(plan.problems)
    to_send = []
    for line in plan.marketplace:
        if line.line_id in gate_failed:
            problems.append(
                LineProblem(line.order_product_id, "gate_failed", gate_failed[line.line_id], line.offer.offer_id)
            )
        else:
            to_send.append(line)
    to_send, unshippable = await choose_shipping_types(rt, plan, to_send, customer_shipping_method(plan, addresses))
    problems += unshippable
    with rt.sessions() as session:
        anchor_route(session, plan, problems)
        session.commit()
    if plan.native:
        sent = await write_once(
            rt.sessions,
            system="erp",
            operation="send_order",
            key=str(order_id),
            send=lambda: rt.erp.send_order(erp_payload(plan, addresses), str(order_id)),
            external_id=lambda receipt: receipt.erp_order_id,
            detail={"lines": len(plan.native)},
        )
        report.add(f"erp_{sent.status}")
        if not sent.done:
            problems.append(LineProblem(None, "erp_rejected", sent.error or "the ERP refused the native lines"))
    created: list[MiraklOrder] = []
    if to_send:
        created, not_shippable, error = await _send_commercial_order(rt, plan, to_send, report)
        sent_ids = {line.order_line_id for o in created for line in o.order_lines}
        for line in to_send:
            if line.line_id in sent_ids:
                continue
            if error is not None:
                problems.append(LineProblem(line.order_product_id, "or01_rejected", error, line.offer.offer_id))
            else:
                code = not_shippable.get(line.offer.offer_id, "NOT_CREATED")
                problems.append(LineProblem(line.order_product_id, "offers_not_shippable", code, line.offer.offer_id))
    status = "exception" if problems else "routed"
    now = datetime.now(UTC)
    with rt.sessions() as session:
        record_logistic_orders(session, order_id, created)
        record_problems(session, order_id, problems, now)
        set_route_status(session, order_id, status, now, native_sent=bool(plan.native) or None)
        lines = order_lines_for(session, bc_order_id=order_id)
        session.commit()
    report.add(f"orders_{status}")
    report.add("logistic_orders_created", len(created))
    report.add("native_lines_sent", len(plan.native))
    report.add("marketplace_lines_routed", sum(len(o.order_lines) for o in created))
    if problems:
        _report_problems(report, order_id, problems)
    if to_send or problems:
        documents[order_id] = cx_document(plan.commercial_id, lines, {o.order_id: o for o in created}, status)


def _report_problems(report: Tally, order_id: int, problems: Sequence[LineProblem]) -> None:
    """Count, list and alert an order's problems (the alert once: the route is final, never rerouted)."""
    report.add("line_exceptions", len(problems))
    report.tables.setdefault("exceptions", []).extend(
        {"bc_order_id": order_id, "order_product_id": p.order_product_id, "kind": p.kind, "reason": p.reason}
        for p in problems
    )
    emit_alert(
        report,
        EXCEPTION_EVENT,
        f"bcmirakl.order.{order_id}",
        {"bc_order_id": order_id, "kinds": sorted({p.kind for p in problems}), "lines": len(problems)},
    )


async def _send_commercial_order(
    rt: Runtime, plan: OrderPlan, lines: Sequence[LinePlan], report: Tally
) -> tuple[list[MiraklOrder], dict[int, str], str | None]:
    """OR01 exactly once: a rerun after a lost answer finds the orders by commercial id (OR11) instead."""
    body = plan.commercial_order(rt.config, lines)
    assert body is not None
    commercial_id = plan.commercial_id
    recovered: list[MiraklOrder] = []

    async def find() -> str | None:
        recovered.extend(await mirakl_orders_of(rt, commercial_id))
        return commercial_id if recovered else None

    outcome = await write_once(
        rt.sessions,
        system="mirakl",
        operation="OR01",
        key=commercial_id,
        send=lambda: rt.mirakl.create_order(body),
        external_id=lambda _created: commercial_id,
        recover=find,
        detail={"lines": len(lines)},
    )
    report.add(f"or01_{outcome.status}")
    if outcome.status == "sent":
        created: OrderCreated = outcome.result  # type: ignore[assignment]
        return created.orders, {x.offer_id: x.error_code for x in created.offers_not_shippable}, None
    if outcome.status == "recovered":
        return recovered, {}, None
    if outcome.status == "already_done":  # recorded in the ledger, not yet in the order map
        return await mirakl_orders_of(rt, commercial_id), {}, None
    return [], {}, outcome.error or "OR01 was refused earlier"


async def _cancel(rt: Runtime, order: Order, route_status: str | None, report: Tally) -> None:
    if route_status is None:
        with rt.sessions() as session:
            set_route_status(session, order.id, "cancelled")
            session.commit()
        report.add("cancelled_before_routing")
        return
    await cancel_routed_order(rt, order.id, report)
