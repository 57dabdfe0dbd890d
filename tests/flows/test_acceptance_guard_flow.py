"""The accept-order SLA guard against the sandbox: staging release, debits, refusals, deadlines, scorecard."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

import flows.acceptance_guard as acceptance_guard_module
from bridge.runtime import Runtime, use_runtime
from common.errors import TransientApiError
from connectors.state import OrderLineMapping, ledger_get, unresolved_cs_cases
from flows.acceptance_guard import acceptance_guard
from flows.order_routing import order_routing
from flows.refund_mirror import refund_mirror
from sandbox.app import Sandbox
from tasks.acceptance.guard import settle_debits
from tasks.reporting import RunReport
from tests.flows.money_world import merchant_refunds
from tests.support.orders import mirakl_orders, seed_offer_map

MIXED = 100  # native + shop 2000 + shop 2001, both sellers accept
REFUSING = 102  # one line from shop 2002, a seller that never answers: Mirakl refuses automatically


def only_paid(sandbox: Sandbox, *order_ids: int) -> None:
    for order in sandbox.bigcommerce.state.store.orders.values():
        if order.id not in order_ids and order.status_id == 11:
            order.status_id = 7


def sellers_act(sandbox: Sandbox) -> None:
    store = sandbox.mirakl.state.store
    store.orders.tick(store.now())


async def routed(runtime: Runtime, sandbox: Sandbox, *order_ids: int) -> None:
    only_paid(sandbox, *order_ids)
    seed_offer_map(runtime, sandbox, order_ids)
    with use_runtime(runtime):
        await order_routing()


async def confirmed_by_two_runs(runtime: Runtime, sandbox: Sandbox) -> RunReport:
    """Route the mixed order, let its sellers accept, run the guard twice: both debits confirmed by the first run
    only. Returns the second run's report."""
    await routed(runtime, sandbox, MIXED)
    sellers_act(sandbox)
    with use_runtime(runtime):
        first = await acceptance_guard()
        second = await acceptance_guard()
    assert [o.state for o in mirakl_orders(sandbox, str(MIXED))] == ["SHIPPING", "SHIPPING"]
    assert first.counts["pa01_sent"] == 2 and "pa01_sent" not in second.counts
    return second


async def test_accepted_orders_paid_in_bigcommerce_are_confirmed_once_with_pa01(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    second = await confirmed_by_two_runs(runtime, sandbox)
    card = {row["shop_id"]: row for row in second.tables["scorecard"]}
    assert card[2000]["accepted"] == 1 and card[2000]["refusal_rate"] == 0.0
    assert (sandbox.mirakl.state.store.orders.orders["100-A"].customer_debited_date) is not None


async def test_a_debit_step_retried_after_a_transient_error_counts_each_debit_once(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    await routed(runtime, sandbox, MIXED)
    sellers_act(sandbox)
    confirm = runtime.mirakl.confirm_debits
    calls: list[int] = []

    async def first_call_fails(confirmations: Sequence[Any]) -> None:
        calls.append(len(confirmations))
        if len(calls) == 1:  # not retried by the HTTP layer (attempts 1): the task's retry repeats the step
            raise TransientApiError("503", system="mirakl", operation="PA01", status=503)
        await confirm(confirmations)

    monkeypatch.setattr(runtime.mirakl, "confirm_debits", first_call_fails)
    fast = settle_debits.with_options(retry_delay_seconds=0, retry_jitter_factor=None)
    monkeypatch.setattr(acceptance_guard_module, "settle_debits", fast)
    with use_runtime(runtime):
        report = await acceptance_guard()

    assert len(calls) == 3  # the failed PA01, then both debits on the retry
    assert report.counts["debits_ok"] == 2 and report.counts["pa01_sent"] == 2
    assert sorted(row["mirakl_order_id"] for row in report.tables["debits"]) == ["100-A", "100-B"]


async def test_a_debit_amount_that_differs_from_the_order_map_is_an_exception_and_not_confirmed(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    await routed(runtime, sandbox, MIXED)
    sellers_act(sandbox)
    with runtime.sessions() as session:
        session.execute(
            update(OrderLineMapping).where(OrderLineMapping.mirakl_order_id == "100-A").values(amount=Decimal("1.00"))
        )
        session.commit()
    with use_runtime(runtime):
        report = await acceptance_guard()

    states = {o.order_id: o.state for o in mirakl_orders(sandbox, str(MIXED))}
    assert states == {"100-A": "WAITING_DEBIT_PAYMENT", "100-B": "SHIPPING"}
    with runtime.sessions() as session:
        cases = [(c.key, c.kind) for c in unresolved_cs_cases(session, "acceptance_guard")]
    assert cases == [("100-A", "debit_amount_mismatch")]
    assert "bcmirakl.acceptance.debit-mismatch" in [a.event for a in report.alerts]
    assert report.counts["debits_mismatch"] == 1


async def test_a_refunded_bigcommerce_order_gets_its_debit_refused(runtime: Runtime, sandbox: Sandbox) -> None:
    await routed(runtime, sandbox, MIXED)
    sellers_act(sandbox)
    sandbox.bigcommerce.state.store.orders[MIXED].status_id = 4
    with use_runtime(runtime):
        report = await acceptance_guard()
    assert [o.state for o in mirakl_orders(sandbox, str(MIXED))] == ["CANCELED", "CANCELED"]
    assert report.counts["debits_refused"] == 2


async def test_an_order_near_its_acceptance_deadline_warns_once_then_again_at_breach(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    await routed(runtime, sandbox, MIXED)
    created = sandbox.mirakl.state.store.orders.orders["100-A"].created_date
    with use_runtime(runtime):
        early = await acceptance_guard(now=created + timedelta(hours=10))
        near = await acceptance_guard(now=created + timedelta(hours=60))
        again = await acceptance_guard(now=created + timedelta(hours=61))
        late = await acceptance_guard(now=created + timedelta(hours=73))

    assert early.alerts == []
    assert [(a.event, a.payload["mirakl_order_id"]) for a in near.alerts] == [
        ("bcmirakl.acceptance.at-risk", "100-A"),
        ("bcmirakl.acceptance.at-risk", "100-B"),
    ]
    assert near.alerts[0].payload["seconds_left"] == 12 * 3600
    assert again.alerts == []
    assert [a.event for a in late.alerts] == ["bcmirakl.acceptance.breached"] * 2
    assert {row["shop_id"]: row["breaches"] for row in late.tables["scorecard"]} == {2000: 1, 2001: 1}


async def test_an_automatic_refusal_is_refunded_in_bigcommerce_and_shown_on_the_order(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    await routed(runtime, sandbox, REFUSING)
    sellers_act(sandbox)
    with use_runtime(runtime):
        report = await acceptance_guard()
        await acceptance_guard()

    store = sandbox.bigcommerce.state.store
    refunds = [r for r in store.refunds if r["order_id"] == REFUSING]
    assert len(refunds) == 1
    order = store.orders[REFUSING]
    line = order.lines[0]
    address_id = order.addresses[0].id
    assert [(i["item_type"], i["item_id"]) for i in refunds[0]["items"]] == [
        ("PRODUCT", line.id),
        ("SHIPPING", address_id),
    ]
    # The only line was refused, so the customer gets back the goods and all the shipping they paid, tax included.
    assert Decimal(str(refunds[0]["total_amount"])) == order.total_inc_tax
    assert report.counts["refusal_refund_sent"] == 1 and report.counts["outcome_refused_auto"] == 1
    refused = [a for a in report.alerts if a.event == "bcmirakl.acceptance.refused"]
    assert refused[0].payload["automatic"] is True
    record = store.metafields.find("order", REFUSING, "bcmirakl", "fulfilment")
    assert '"state":"REFUSED"' in record["value"]
    card = {row["shop_id"]: row for row in report.tables["scorecard"]}
    assert card[2002]["refused_automatically"] == 1 and card[2002]["refusal_rate"] == 1.0


async def test_refused_lines_are_queued_for_customer_service_when_configured(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    runtime.config = runtime.config.model_copy(
        update={"acceptance": runtime.config.acceptance.model_copy(update={"refused_lines": "queue"})}
    )
    await routed(runtime, sandbox, REFUSING)
    sellers_act(sandbox)
    with use_runtime(runtime):
        await acceptance_guard()
    assert [r for r in sandbox.bigcommerce.state.store.refunds if r["order_id"] == REFUSING] == []
    with runtime.sessions() as session:
        cases = [(c.key, c.kind) for c in unresolved_cs_cases(session, "acceptance_guard")]
    assert cases == [("102-A", "refused_lines")]


async def test_staged_orders_are_released_when_paid_and_invalidated_when_cancelled(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    runtime.config = runtime.config.model_copy(
        update={"orders": runtime.config.orders.model_copy(update={"scored": False})}
    )
    await routed(runtime, sandbox, MIXED, REFUSING)
    assert {o.state for o in mirakl_orders(sandbox, str(MIXED))} == {"STAGING"}
    sandbox.bigcommerce.state.store.orders[REFUSING].status_id = 5
    with use_runtime(runtime):
        report = await acceptance_guard()
        rerun = await acceptance_guard()
    assert {o.state for o in mirakl_orders(sandbox, str(MIXED))} == {"WAITING_ACCEPTANCE"}
    assert {o.state for o in mirakl_orders(sandbox, str(REFUSING))} == {"CANCELED"}
    assert report.counts["or02_sent"] == 1 and report.counts["or03_sent"] == 1
    assert "or02_sent" not in rerun.counts


async def test_lines_refunded_in_bigcommerce_before_the_debit_are_cancelled_in_mirakl_and_only_the_rest_debited(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    store = sandbox.bigcommerce.state.store
    two_units, whole = store.orders[MIXED].lines[1], store.orders[MIXED].lines[2]  # shop 2000 (100-A), 2001 (100-B)
    two_units.quantity = 2
    await routed(runtime, sandbox, MIXED)
    sellers_act(sandbox)
    book = sandbox.mirakl.state.store.orders
    before = book.orders["100-A"].debitable()
    await merchant_refunds(runtime, MIXED, {two_units.id: 1, whole.id: 1})
    assert store.orders[MIXED].payment_status == "partially refunded"
    with use_runtime(runtime):
        early = await refund_mirror()  # the refund mirror meets the refund first: not debited, left to the guard
        report = await acceptance_guard()
        mirror = await refund_mirror()

    line_a = book.orders["100-A"].lines[0]
    assert [(c.quantity, c.amount) for c in line_a.cancelations] == [(1, Decimal("27.79"))]
    assert book.orders["100-A"].state == "SHIPPING"  # PA01 OK, for exactly what Mirakl still asked
    [debit] = [row for row in report.tables["debits"] if row["mirakl_order_id"] == "100-A"]
    assert debit["amount"] == debit["expected"] == before - Decimal("27.79") - Decimal("2.22")  # one unit, tax incl.
    assert book.orders["100-B"].state == "CANCELED"  # nothing left to debit, never shipped
    assert report.counts["or30_sent"] == 2 and report.counts["pa01_sent"] == 1
    assert "debits_mismatch" not in report.counts
    # The refund mirror never refunds the cancelled shares, before or after 100-A is debited.
    assert early.counts["lines_left_to_debit_guard"] == 2 and "refunds_refused_by_mirakl" not in early.counts
    assert "refunds_to_mirakl" not in mirror.counts and line_a.refunds == []
    with runtime.sessions() as session:
        assert unresolved_cs_cases(session, "refund_mirror") == []


def _debit_per_shipment(runtime: Runtime, sandbox: Sandbox, configured: str) -> None:
    sandbox.mirakl.state.store.settings.debit_entity = "SHIPMENT"  # the tenant debits per shipment
    runtime.config = runtime.config.model_copy(
        update={"acceptance": runtime.config.acceptance.model_copy(update={"debit_entity": configured})}
    )


async def test_a_tenant_debiting_per_shipment_gets_pa01_per_debit_entity_once(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    _debit_per_shipment(runtime, sandbox, "SHIPMENT")
    await confirmed_by_two_runs(runtime, sandbox)
    with runtime.sessions() as session:
        assert ledger_get(session, "mirakl", "PA01", "100-A:shipment:100-A-S1") is not None


async def test_a_debit_entity_other_than_configured_is_an_exception_and_not_confirmed(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    _debit_per_shipment(runtime, sandbox, "ORDER")
    await routed(runtime, sandbox, MIXED)
    sellers_act(sandbox)
    with use_runtime(runtime):
        report = await acceptance_guard()

    assert [o.state for o in mirakl_orders(sandbox, str(MIXED))] == ["WAITING_DEBIT_PAYMENT"] * 2
    assert report.counts["debits_mismatch"] == 2 and "pa01_sent" not in report.counts
    with runtime.sessions() as session:
        kinds = {c.kind for c in unresolved_cs_cases(session, "acceptance_guard")}
    assert kinds == {"debit_amount_mismatch"}
