"""The accept-order SLA guard's tasks: read the orders we routed, act on each state, watch every deadline.

Only logistic orders in the order map are watched (routing put them there), so the guard never acts on an
order the bridge did not create. Each action is a ledger-guarded write (`write_once`), retried by Prefect on
transient errors only; each outcome lands in the ledger and in the tally the task returns (the flow adds it
to the run's report, so a retried task counts once).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import or_, select

from bridge.runtime import Runtime
from bridge.streams import Stream
from connectors.bigcommerce.models import Order as BcOrder
from connectors.mirakl.models import Debit, DebitConfirmation
from connectors.mirakl.models import Order as MiraklOrder
from connectors.state import (
    LogisticOrder,
    OrderLineMapping,
    get_order_route,
    ledger_get,
    open_cs_case,
    order_lines_for,
)
from tasks.acceptance.clock import ACCEPTANCE_STATES, DEBIT_STATES, deadline_for
from tasks.acceptance.debits import decide_debit, expected_amount
from tasks.acceptance.outcomes import OUTCOME_OPERATION, mark_once, outcome_rows, record_outcome, scorecard
from tasks.acceptance.prepaid_refunds import cancel_refunded_lines, refunded_before_debit
from tasks.acceptance.refusals import settle_refusal
from tasks.exactly_once import write_once
from tasks.orders.cx import cx_document, write_cx_metafields
from tasks.orders.records import record_logistic_orders
from tasks.reporting import Tally, emit_alert, step_line, step_tally
from tasks.retry import TASK_RETRY

__all__ = [
    "AT_RISK_EVENT",
    "BREACHED_EVENT",
    "MISMATCH_EVENT",
    "Moved",
    "debit_key",
    "fetch_watched_orders",
    "publish_scorecard",
    "record_progress",
    "release_staging",
    "settle_debits",
    "settle_refusals",
    "watch_deadlines",
]

AT_RISK_EVENT = "bcmirakl.acceptance.at-risk"
BREACHED_EVENT = "bcmirakl.acceptance.breached"
MISMATCH_EVENT = "bcmirakl.acceptance.debit-mismatch"
WATCHED_STATES = ("STAGING", *sorted(ACCEPTANCE_STATES), *sorted(DEBIT_STATES))


@dataclass(frozen=True)
class Moved:
    """What a step did (`tally`) and how many orders it moved to another Mirakl state: the flow reads them again."""

    orders: int
    tally: Tally


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def fetch_watched_orders(rt: Runtime) -> list[MiraklOrder]:
    """Every logistic order of each commercial order that still has one waiting (OR11 by commercial id)."""
    with rt.sessions() as session:
        query = select(LogisticOrder.commercial_id).where(
            or_(LogisticOrder.state.in_(WATCHED_STATES), LogisticOrder.state.is_(None))
        )
        commercial_ids = sorted(set(session.scalars(query)))
    found: list[MiraklOrder] = []
    if commercial_ids:
        async for page in rt.mirakl.iter_orders(commercial_ids=commercial_ids):
            found.extend(page)
    step_line("fetch_watched_orders", Tally(counts={"commercial_orders": len(commercial_ids), "orders": len(found)}))
    return found


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def release_staging(rt: Runtime, orders: list[MiraklOrder]) -> Moved:
    """OR02 for STAGING orders BigCommerce was paid for (and does not hold for review); OR03 for cancelled ones."""
    with step_tally() as report:
        return Moved(await _release(rt, orders, report), report)


async def _release(rt: Runtime, orders: list[MiraklOrder], report: Tally) -> int:
    cfg = rt.config.orders
    staged = sorted({o.commercial_id for o in orders if o.order_state == "STAGING" and o.commercial_id})
    acted = 0
    for commercial_id in staged:
        bc = await rt.bigcommerce.get_order(int(commercial_id))
        if bc.status_id in cfg.cancelled_status_ids:
            operation, send = "OR03", rt.mirakl.invalidate_order
        elif bc.status_id in cfg.paid_status_ids and bc.status_id not in cfg.manual_verification_status_ids:
            operation, send = "OR02", rt.mirakl.validate_order
        else:
            report.add("staging_waiting")
            continue
        outcome = await write_once(
            rt.sessions,
            system="mirakl",
            operation=operation,
            key=commercial_id,
            send=lambda send=send, commercial_id=commercial_id: send(commercial_id),
            external_id=lambda _none, commercial_id=commercial_id: commercial_id,
        )
        report.add(f"{operation.lower()}_{outcome.status}")
        acted += outcome.status == "sent"
    return acted


async def _pending_debits(rt: Runtime) -> list[Debit]:
    debits: list[Debit] = []
    async for page in rt.mirakl.iter_pending_debits():  # read every page first: confirming shifts offsets
        debits.extend(page)
    return debits


def debit_key(debit: Debit) -> str:
    """One PA01 per debit: the logistic order, or per shipment the order and its shipment's debit id."""
    entity = debit.debit_entity
    if entity is None or entity.type == "ORDER":
        return debit.order_id
    return f"{debit.order_id}:{entity.type.lower()}:{entity.id}"


def _commercial_id(debit: Debit) -> str:
    return debit.order_commercial_id or debit.order_id.rsplit("-", 1)[0]


def _ours(debits: list[Debit], amounts: dict[str, Decimal | None]) -> dict[str, list[Debit]]:
    """The debits of orders the bridge routed, by commercial id (= BigCommerce order id)."""
    grouped: dict[str, list[Debit]] = defaultdict(list)
    for debit in debits:
        if any(line.order_line_id in amounts for line in debit.order_lines):
            grouped[_commercial_id(debit)].append(debit)
    return grouped


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def settle_debits(rt: Runtime) -> Moved:
    """PA11 -> PA01: lines BigCommerce refunded before the debit are cancelled first (OR30); then OK for what the
    customer still owes, REFUSED when the order was cancelled or refunded."""
    with step_tally() as report:
        return Moved(await _settle_debits(rt, report), report)


async def _settle_debits(rt: Runtime, report: Tally) -> int:
    debits = await _pending_debits(rt)
    line_ids = [line.order_line_id for d in debits for line in d.order_lines]
    with rt.sessions() as session:
        query = select(OrderLineMapping.mirakl_order_line_id, OrderLineMapping.amount, OrderLineMapping.quantity).where(
            OrderLineMapping.mirakl_order_line_id.in_(line_ids)
        )
        mapped = [(k, amount, quantity) for k, amount, quantity in session.execute(query) if k is not None]
    amounts: dict[str, Decimal | None] = {k: amount for k, amount, _ in mapped}
    entity_kind = rt.config.acceptance.debit_entity
    # Per shipment, a debit may cover part of a line: its units' share is expected.
    quantities = {k: quantity for k, _, quantity in mapped} if entity_kind == "SHIPMENT" else None
    grouped = _ours(debits, amounts)
    reason = rt.config.acceptance.cancel_reason_code
    refunded = {cid: await refunded_before_debit(rt, int(cid), group, reason) for cid, group in grouped.items()}
    if await cancel_refunded_lines(rt, [row for r in refunded.values() for row in r.rows], report):
        grouped = _ours(await _pending_debits(rt), amounts)  # PA11 now asks less for the cancelled lines
    bc_orders: dict[str, BcOrder] = {}
    confirmed = 0
    for commercial_id, debit in [(cid, d) for cid, group in grouped.items() for d in group]:
        if commercial_id not in bc_orders:
            bc_orders[commercial_id] = await rt.bigcommerce.get_order(int(commercial_id))
        paid_back = refunded[commercial_id]
        currency = debit.currency_iso_code or rt.config.currency
        expected = expected_amount(debit, amounts, paid_back.gross_by_line(), quantities, currency)
        decision = decide_debit(
            debit, expected, bc_orders[commercial_id], rt.config.orders, paid_back.paid_back, entity_kind
        )
        report.tables.setdefault("debits", []).append(
            {
                "mirakl_order_id": debit.order_id,
                "amount": debit.amount,
                "expected": decision.expected,
                "verdict": decision.verdict,
                "reason": decision.reason,
            }
        )
        report.add(f"debits_{decision.verdict.lower()}")
        if decision.verdict == "MISMATCH":
            detail = {"mirakl_order_id": debit.order_id, "amount": debit.amount, "expected": decision.expected}
            with rt.sessions() as session:
                new = open_cs_case(
                    session,
                    Stream.ACCEPTANCE_GUARD,
                    debit_key(debit),
                    "debit_amount_mismatch",
                    _jsonable(detail | {"reason": decision.reason}),
                )
                session.commit()
            if new:
                emit_alert(
                    report, MISMATCH_EVENT, f"bcmirakl.order.{commercial_id}", detail | {"reason": decision.reason}
                )
            continue
        if decision.verdict == "WAIT":
            continue
        confirmation = DebitConfirmation(
            order_id=debit.order_id,
            customer_id=debit.customer_id,
            payment_status=decision.verdict,
            amount=debit.amount if decision.verdict == "OK" else None,
            currency_iso_code=debit.currency_iso_code,
            # PA01_Request_Orders.debit_entity: "Debit information that varies if the customer is debited per order
            # or per shipment": echoed as PA11 gave it, so Mirakl knows which debit this settles.
            debit_entity=debit.debit_entity.model_dump() if debit.debit_entity else None,
        )
        outcome = await write_once(
            rt.sessions,
            system="mirakl",
            operation="PA01",
            key=debit_key(debit),
            send=lambda confirmation=confirmation: rt.mirakl.confirm_debits([confirmation]),
            external_id=lambda _none, verdict=decision.verdict: verdict,
            detail={"verdict": decision.verdict, "amount": str(debit.amount)},
        )
        report.add(f"pa01_{outcome.status}")
        confirmed += outcome.status == "sent"
    return confirmed


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def settle_refusals(rt: Runtime, orders: list[MiraklOrder]) -> Tally:
    """Refund (or queue for CX) the refused lines of every order that has some."""
    with step_tally() as report:
        for order in orders:
            await settle_refusal(rt, order, report)
        return report


@task(cache_policy=NO_CACHE)
async def watch_deadlines(rt: Runtime, orders: list[MiraklOrder], now: datetime) -> Tally:
    """Warn once at the configured share of each waiting order's window and once more at its breach."""
    cfg = rt.config.acceptance
    with step_tally() as report, rt.sessions() as session:
        for order in orders:
            released = ledger_get(session, "mirakl", "OR02", order.commercial_id or "")
            deadline = deadline_for(order, cfg, released.finished_at if released else None)
            if deadline is None:
                continue
            report.add(f"waiting_{deadline.phase}")
            level = deadline.level(now, cfg.warn_share)
            if level == "ok":
                continue
            event = BREACHED_EVENT if level == "breached" else AT_RISK_EVENT
            payload = {
                "mirakl_order_id": order.order_id,
                "shop_id": order.shop_id,
                "phase": deadline.phase,
                "deadline": deadline.due.isoformat(),
                "seconds_left": deadline.seconds_left(now),
            }
            report.tables.setdefault("deadlines", []).append({**payload, "level": level})
            if mark_once(session, event, f"{order.order_id}:{deadline.phase}", payload):
                emit_alert(report, event, f"bcmirakl.mirakl-order.{order.order_id}", payload)
        session.commit()
        return report


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def record_progress(rt: Runtime, orders: list[MiraklOrder]) -> Tally:
    """Record acceptance outcomes and new states, and refresh the CX metafield of every order that changed."""
    with step_tally() as report:
        await _record_progress(rt, orders, report)
        return report


async def _record_progress(rt: Runtime, orders: list[MiraklOrder], report: Tally) -> None:
    by_bc: dict[int, list[MiraklOrder]] = defaultdict(list)
    changed: set[int] = set()
    with rt.sessions() as session:
        stored = {
            lo.mirakl_order_id: lo
            for lo in session.scalars(
                select(LogisticOrder).where(LogisticOrder.mirakl_order_id.in_([o.order_id for o in orders]))
            )
        }
        for order in orders:
            known = stored.get(order.order_id)
            if known is None or known.bc_order_id is None:
                continue
            by_bc[known.bc_order_id].append(order)
            released = ledger_get(session, "mirakl", "OR02", order.commercial_id or "")
            outcome = record_outcome(session, order, released.finished_at if released else None)
            if outcome is not None:
                report.add(f"outcome_{outcome}")
            if known.state != order.order_state or any(x.order_line_state == "REFUSED" for x in order.order_lines):
                changed.add(known.bc_order_id)
        for bc_order_id, group in by_bc.items():
            record_logistic_orders(session, bc_order_id, group)
        session.commit()
    documents = {}
    for bc_order_id in sorted(changed):
        with rt.sessions() as session:
            lines = order_lines_for(session, bc_order_id=bc_order_id)
            route = get_order_route(session, bc_order_id)
            commercial_id, status = (route.commercial_id, route.status) if route else (None, "routed")
        documents[bc_order_id] = cx_document(commercial_id, lines, {o.order_id: o for o in by_bc[bc_order_id]}, status)
    writes = await write_cx_metafields(rt, documents)  # batches of 50 orders a call
    if writes.deferred:  # a transient error: the task's retry writes them again (states are re-read)
        raise next(iter(writes.deferred.values()))
    for bc_order_id, message in writes.failed.items():
        report.add("cx_metafields_failed")
        report.notes.append(f"order {bc_order_id}: CX metafield refused: {message}")
    report.add("cx_metafields_updated", len(writes.written))


@task(cache_policy=NO_CACHE)
async def publish_scorecard(rt: Runtime) -> Tally:
    """The per-seller scorecard table (`acceptance-guard-scorecard`), from every outcome in the ledger."""
    with rt.sessions() as session:
        rows = outcome_rows(session, [OUTCOME_OPERATION, BREACHED_EVENT])
    return Tally(tables={"scorecard": scorecard(rows, BREACHED_EVENT)})


def _jsonable(detail: dict[str, object]) -> dict[str, object]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in detail.items()}
