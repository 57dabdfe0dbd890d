"""BigCommerce → Mirakl: each BigCommerce refund touching marketplace lines becomes OR28 refunds per line.

The customer is refunded in BigCommerce; unless Mirakl is told, the seller is still paid and the commission
still charged. Each (BigCommerce refund, Mirakl line) is one ledger key, so partial refunds and several refunds
of one line each go once. The batch passes the `refunds_out` gate first: a row that would take more than was
paid for its line, or that has no valid reason code, is quarantined and recorded as decided, never sent.
An OR28 whose answer was lost is recovered by evidence (`tasks.refunds.recovery`); when the evidence does not
single out the bridge's refund, finance gets a case and the look-alikes are held from being paid back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from bridge.streams import Stream
from connectors.bigcommerce import Refund as BcRefund
from connectors.mirakl import Order as MiraklOrder
from connectors.mirakl import OrderLine as MiraklLine
from connectors.mirakl import RefundCreate, RefundCreated
from connectors.state import (
    ledger_get,
    open_cs_case,
    order_lines_for,
)
from tasks.cursors import Cursor
from tasks.exactly_once import mark_done_elsewhere, record_outcome, write_once
from tasks.quality import gate_and_quarantine, quarantine_records
from tasks.refund_amounts import (
    MIRAKL_REFUND_MARKER,
    PRE_DEBIT_STATES,
    line_refund_fields,
    money_moved,
    or28_rows,
    reason_code_for,
)
from tasks.refunds.recovery import AmbiguousRecovery, own_refund, seller_refund_paid_by
from tasks.reporting import Tally, emit_alert, step_line, step_tally
from tasks.retry import TASK_RETRY

__all__ = [
    "GatedRows",
    "RefundPage",
    "bigcommerce_refunds",
    "decide_or28_rows",
    "gate_or28_rows",
    "record_refund_page",
    "send_or28",
    "valid_reason_codes",
]

BC_CURSOR = Stream.REFUND_MIRROR.cursor("bigcommerce")
SUITE = "refunds_out"
NO_REASON = "no RE01 refund reason mapped"
AMBIGUOUS_CASE = "or28-recovery-ambiguous"
PAYLOAD_COLUMNS = ["bc_refund_id", "bc_order_id", "mirakl_order_line_id", "amount", "shipping_amount", "reason_code"]


async def _rows_for_page(
    rt: Runtime, page: list[BcRefund], valid_reasons: set[str], report: Tally
) -> tuple[list[dict[str, Any]], datetime | None]:
    """OR28 rows of the page, and the creation time of the first refund left to the guard (the cursor holds there)."""
    config = rt.config.refunds
    pending: dict[str, tuple[Decimal, Decimal]] = {}
    rows: list[dict[str, Any]] = []
    held: datetime | None = None
    relevant: list[tuple[BcRefund, dict[int, Any]]] = []
    for refund in page:
        if (refund.reason or "").startswith(MIRAKL_REFUND_MARKER):
            continue  # the bridge paid a Mirakl refund with it: Mirakl already has it
        if not money_moved(refund):
            report.add("bigcommerce_refunds_declined")  # the provider declined it: the customer got nothing back
            continue
        with rt.sessions() as session:
            mappings = {
                m.bc_order_product_id: m
                for m in order_lines_for(session, bc_order_id=refund.order_id)
                if m.mirakl_order_line_id
            }
        if mappings and any(i.item_type == "ORDER" for i in refund.items):
            _order_level_refund_case(rt, refund)  # an order with marketplace lines: finance decides who bears it
        if any(i.item_type == "PRODUCT" and i.item_id in mappings for i in refund.items):
            relevant.append((refund, mappings))
    # One OR11 read for every Mirakl order the page touches: OR11's budget is one call a minute.
    all_lines = await _mirakl_lines(
        rt, {m.mirakl_order_id for _, mappings in relevant for m in mappings.values() if m.mirakl_order_id}
    )
    for refund, mappings in relevant:
        touched = [i for i in refund.items if i.item_type == "PRODUCT" and i.item_id in mappings]
        report.add("bigcommerce_refunds_touching_marketplace")
        products = {p.id: p for p in await rt.bigcommerce.list_order_products(refund.order_id)}
        orders = {mappings[i.item_id].mirakl_order_id for i in touched}
        lines = {k: v for k, v in all_lines.items() if v[0].order_id in orders}
        before_debit = {k for k, (order, _line) in lines.items() if order.order_state in PRE_DEBIT_STATES}
        if before_debit:
            # OR28 refunds debited lines only; the acceptance guard cancels these (OR30) before the debit.
            report.add("lines_left_to_debit_guard", len(before_debit))
            lines = {k: v for k, v in lines.items() if k not in before_debit}
            if refund.created is not None and (held is None or refund.created < held):
                held = refund.created
        code = reason_code_for(refund.reason, config.reason_codes, config.default_reason_code, valid_reasons)
        new_rows, skipped = or28_rows(refund, products, mappings, lines, code, pending, partial(_outcome, rt))
        report.add("lines_not_refundable_in_mirakl", skipped)
        rows += _paid_seller_refunds(rt, new_rows, lines, report)
    return rows, held


def _claimed(rt: Runtime, line: MiraklLine) -> set[str]:
    """The line's Mirakl refunds a ledger key already accounts for (a BigCommerce refund pays each of them)."""
    with rt.sessions() as session:
        return {
            r.id for r in line.refunds if ledger_get(session, "bigcommerce", "refund", f"bc-refund:{r.id}") is not None
        }


def _paid_seller_refunds(
    rt: Runtime, rows: list[dict[str, Any]], lines: dict[str, tuple[MiraklOrder, MiraklLine]], report: Tally
) -> list[dict[str, Any]]:
    """Rows left to send: an over-refund that a seller's waiting refund of the same line already stands for is
    that refund's payment (`tasks.refunds.recovery.seller_refund_paid_by`), not a second refund.

    Customer service refunded the line in BigCommerce while its seller refunded it in Mirakl: neither OR28 nor
    paying the seller's refund again can go through, and Mirakl would never book the refund. The BigCommerce
    refund is recorded as the payment of the seller's refund, so PA02 confirms it with that refund as reference.
    """
    kept = []
    for row in rows:
        _order, line = lines[row["mirakl_order_line_id"]]
        seller_refund = seller_refund_paid_by(line.refunds, row, _claimed(rt, line))
        if seller_refund is None:
            kept.append(row)
            continue
        key = f"bc-refund:{seller_refund}"
        mark_done_elsewhere(rt.sessions, "bigcommerce", "refund", key, str(row["bc_refund_id"]), row["key"])
        mark_done_elsewhere(rt.sessions, "mirakl", "OR28", row["key"], seller_refund, key)
        report.add("refunds_paying_seller_refunds")
    return kept


async def _mirakl_lines(rt: Runtime, order_ids: set[str | None]) -> dict[str, tuple[MiraklOrder, MiraklLine]]:
    wanted = sorted(o for o in order_ids if o)
    if not wanted:
        return {}
    return {
        line.order_line_id: (order, line)
        async for page in rt.mirakl.iter_orders(order_ids=wanted)
        for order in page
        for line in order.order_lines
    }


def _outcome(rt: Runtime, key: str) -> str | None:
    with rt.sessions() as session:
        entry = ledger_get(session, "mirakl", "OR28", key)
        return entry.outcome if entry is not None else None


def _order_level_refund_case(rt: Runtime, refund: BcRefund) -> None:
    # An order-level amount names no line: finance decides which seller, if any, bears it.
    with rt.sessions() as session:
        open_cs_case(
            session,
            Stream.REFUND_MIRROR,
            f"bc-refund:{refund.id}",
            "order-level-refund-not-mirrored",
            {"order_id": refund.order_id},
        )
        session.commit()


async def _send_row(rt: Runtime, row: dict[str, Any], report: Tally) -> None:
    async def send() -> list[RefundCreated]:
        return await rt.mirakl.create_refunds(
            [RefundCreate(**line_refund_fields(row))], order_tax_mode=row["order_tax_mode"]
        )

    async def recover() -> str | None:
        # OR28 has no client reference: the refund is recognised by evidence, or the case goes to finance.
        lines = await _mirakl_lines(rt, {row["mirakl_order_id"]})
        _, line = lines[row["mirakl_order_line_id"]]
        with rt.sessions() as session:
            entry = ledger_get(session, "mirakl", "OR28", row["key"])
            assert entry is not None, "recovery runs only for a started OR28"
            started_at = entry.started_at
        return own_refund(line.refunds, row, started_at, _claimed(rt, line))

    try:
        outcome = await write_once(
            rt.sessions,
            system="mirakl",
            operation="OR28",
            key=row["key"],
            send=send,
            external_id=lambda created: created[0].refund_id if created else None,
            recover=recover,
            detail={"bc_refund_id": row["bc_refund_id"], "amount": row["amount"], "shipping": row["shipping_amount"]},
        )
    except AmbiguousRecovery as ambiguous:
        _hold_for_finance(rt, row, ambiguous, report)
        return
    if outcome.done and outcome.external_id:
        # The customer was refunded in BigCommerce already: when this refund reaches PA12, it is paid by that one.
        mark_done_elsewhere(
            rt.sessions,
            "bigcommerce",
            "refund",
            f"bc-refund:{outcome.external_id}",
            str(row["bc_refund_id"]),
            row["key"],
        )
    if outcome.status in ("sent", "recovered"):
        report.add("refunds_to_mirakl")
        report.add_money("refunded_to_mirakl_amount", row["amount"] + row["shipping_amount"], row["currency"])
        report.tables.setdefault("to-mirakl", []).append(
            {
                "bc_refund_id": row["bc_refund_id"],
                "mirakl_order_line_id": row["mirakl_order_line_id"],
                "mirakl_refund_id": outcome.external_id,
                "amount": row["amount"],
                "shipping_amount": row["shipping_amount"],
                "currency": row["currency"],
                "status": outcome.status,
            }
        )
    elif outcome.status == "failed":
        report.add("refunds_refused_by_mirakl")
        with rt.sessions() as session:
            open_cs_case(session, Stream.REFUND_MIRROR, row["key"], "mirakl-refund-refused", {"error": outcome.error})
            session.commit()


def _hold_for_finance(rt: Runtime, row: dict[str, Any], ambiguous: AmbiguousRecovery, report: Tally) -> None:
    """An interrupted OR28 whose refund cannot be told apart: neither adopt a look-alike nor send again.

    The OR28 is closed (no rerun guesses again) and each look-alike is held from being paid back through
    BigCommerce, since one of them may be the bridge's own refund of money the customer already got back; a
    case tells finance which refunds to compare with the seller. Ids and amounts only.
    """
    detail = {
        "bc_refund_id": row["bc_refund_id"],
        "mirakl_order_line_id": row["mirakl_order_line_id"],
        "amount": str(row["amount"]),
        "shipping_amount": str(row["shipping_amount"]),
        "reason_code": row["reason_code"],
        "candidates": list(ambiguous.candidates),
        "reason": ambiguous.reason,
    }
    record_outcome(rt.sessions, system="mirakl", operation="OR28", keys=[row["key"]], outcome="failed", detail=detail)
    record_outcome(
        rt.sessions,
        system="bigcommerce",
        operation="refund",
        keys=[f"bc-refund:{refund_id}" for refund_id in ambiguous.candidates],
        outcome="failed",
        detail={"held": "ambiguous OR28 recovery", "or28_key": row["key"]},
    )
    with rt.sessions() as session:
        opened = open_cs_case(session, Stream.REFUND_MIRROR, row["key"], AMBIGUOUS_CASE, detail)
        session.commit()
    report.add("refunds_held_ambiguous")
    if opened:
        emit_alert(report, "bcmirakl.refunds.recovery-ambiguous", f"bcmirakl.bc-refund.{row['bc_refund_id']}", detail)


def _record_decided(rt: Runtime, keys: set[str], reason: str) -> None:
    """A quarantined row is decided: later runs re-reading its refund must not quarantine it again."""
    record_outcome(
        rt.sessions,
        system="mirakl",
        operation="OR28",
        keys=sorted(keys),
        outcome="failed",
        detail={"quarantined": reason},
    )


@dataclass(frozen=True)
class RefundPage:
    """A page of BigCommerce refunds decided: its OR28 rows, and where the cursor may move once they are sent.

    `reached` is the newest creation time on the page, or the oldest refund left to the acceptance guard when
    one is (`held`): the next run re-reads from there until its lines are debited (then OR28) or cancelled.
    `tally` is what deciding counted and quarantined.
    """

    rows: list[dict[str, Any]]
    reached: datetime | None
    held: bool
    tally: Tally = field(default_factory=Tally)


@dataclass(frozen=True)
class GatedRows:
    """The rows the `refunds_out` gate passed, whether it tripped, and what it quarantined and alerted."""

    passed: list[dict[str, Any]]
    tripped: bool
    tally: Tally


def refunds_cursor(rt: Runtime) -> Cursor:
    return Cursor.with_overlap(BC_CURSOR, rt.config.refunds.overlap_seconds)


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def valid_reason_codes(rt: Runtime) -> set[str]:
    """The RE01 refund reasons the operator may use: a row with none of them is quarantined, not sent."""
    codes = {r.code for r in await rt.mirakl.list_reasons("REFUND") if r.is_operator_right}
    step_line("valid_reason_codes", Tally(counts={"refund_reasons": len(codes)}))
    return codes


async def bigcommerce_refunds(rt: Runtime, since: datetime | None) -> AsyncIterator[list[BcRefund]]:
    """Pages of BigCommerce refunds from the cursor (with overlap), or from the operator's `since`."""
    with rt.sessions() as session:
        start = refunds_cursor(rt).start(session, since)
    filters: dict[str, Any] = {} if start is None else {"created:min": start}
    async for page in rt.bigcommerce.iter_refunds(**filters):
        yield page


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def decide_or28_rows(rt: Runtime, page: list[BcRefund], valid_reasons: set[str]) -> RefundPage:
    """The page's OR28 rows per Mirakl line; rows without a valid reason are quarantined here (Mirakl refuses them)."""
    with step_tally() as tally:
        rows, held = await _rows_for_page(rt, page, valid_reasons, tally)
        reached = max((r.created for r in page if r.created is not None), default=None)
        if held is not None:
            reached = held if reached is None else min(reached, held)
        return RefundPage(_quarantine_unreasoned(rt, rows, tally), reached, held is not None, tally)


@task(cache_policy=NO_CACHE)
async def gate_or28_rows(rt: Runtime, rows: list[dict[str, Any]]) -> GatedRows:
    """The `refunds_out` gate over the page's rows; failed rows are quarantined and recorded as decided."""
    with step_tally() as tally:
        result = await gate_and_quarantine(
            rt.sessions,
            pd.DataFrame(rows),
            suite=SUITE,
            stream=Stream.REFUND_MIRROR,
            key_column="key",
            report=tally,
            payload_columns=PAYLOAD_COLUMNS,
        )
        # Decided: a later run re-reading the refund must not quarantine it again (nor send it).
        _record_decided(rt, set(result.failed["key"]), "quarantined by the refunds_out gate")
        passed = set(result.passed["key"])
        return GatedRows([row for row in rows if row["key"] in passed], result.tripped, tally)


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def send_or28(rt: Runtime, rows: list[dict[str, Any]]) -> Tally:
    """OR28 for each row the gate passed, each exactly once through the ledger (a retry sends nothing twice)."""
    with step_tally() as tally:
        for row in rows:
            await _send_row(rt, row, tally)
        return tally


@task(cache_policy=NO_CACHE)
def record_refund_page(rt: Runtime, page: RefundPage) -> Tally:
    """Move the cursor past the page, or to the refund held for the acceptance guard."""
    tally = Tally()
    if page.held:
        tally.notes.append("cursor held at a refund of lines not debited yet")
    if page.reached is not None:
        with rt.sessions() as session:
            refunds_cursor(rt).advance(session, page.reached)
            session.commit()
    return tally


def _quarantine_unreasoned(rt: Runtime, rows: list[dict[str, Any]], report: Tally) -> list[dict[str, Any]]:
    """Rows without a valid RE01 reason are quarantined before the gate: Mirakl would refuse them."""
    missing = [row for row in rows if row["reason_code"] is None]
    if missing:
        records = [
            {"record_key": row["key"], "reason": NO_REASON, "payload": {c: str(row[c]) for c in PAYLOAD_COLUMNS}}
            for row in missing
        ]
        quarantine_records(rt.sessions, Stream.REFUND_MIRROR, records, report)
        _record_decided(rt, {row["key"] for row in missing}, NO_REASON)
    return [row for row in rows if row["reason_code"] is not None]
