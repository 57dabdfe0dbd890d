"""A run killed between a keyed write and its ledger record: the next clean run settles the row, never resends.

Found by the chaos suite (`ledger_started`, seeds 6, 16, 20, 28, 30, 44): PA01, OR01, PA02, OR24 and the CX
metafield rows stayed `started` after every clean pass, because once the write is made its key never comes up
again (PA11 no longer lists the debit, the route is final, the order has shipped). Each test kills the run at
the chaos suite's "after the call, before the record" point, then runs the stream cleanly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bridge.runtime import Runtime, use_runtime
from connectors.state import LedgerEntry, get_order_route, ledger_get, order_lines_for, unresolved_cs_cases
from flows.acceptance_guard import acceptance_guard
from flows.order_routing import order_routing
from flows.shipment_sync import shipment_sync
from sandbox.app import Sandbox
from tests.flows.test_acceptance_guard_flow import MIXED, only_paid, routed, sellers_act
from tests.flows.test_shipment_sync import _mirakl_order, _ship_in_bigcommerce
from tests.support.order_world import SandboxControl, route_world_order
from tests.support.orders import seed_offer_map

SHIPPED = 2  # BigCommerce order status "Shipped"
CANCELLED = 5  # BigCommerce order status "Cancelled"


class KilledAfterTheCall(RuntimeError):
    """The run dies right after the platform accepted the write, before the ledger records it."""


class ProcessKilled(BaseException):
    """The process dies inside one order's routing: not an error the per-order exception handling may catch."""


def kill_after_first_call(
    real: Callable[..., Awaitable[Any]], kill: type[BaseException] = KilledAfterTheCall
) -> Callable[..., Awaitable[Any]]:
    calls = 0

    async def call(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        result = await real(*args, **kwargs)
        if calls == 1:
            raise kill("killed after the call")
        return result

    return call


def _entry(runtime: Runtime, system: str, operation: str, key: str) -> LedgerEntry | None:
    with runtime.sessions() as session:
        return ledger_get(session, system, operation, key)


async def test_a_pa01_made_before_the_kill_is_recorded_by_the_next_run_and_not_sent_again(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    await routed(runtime, sandbox, MIXED)
    sellers_act(sandbox)
    monkeypatch.setattr(runtime.mirakl, "confirm_debits", kill_after_first_call(runtime.mirakl.confirm_debits))
    with use_runtime(runtime), pytest.raises(KilledAfterTheCall):
        await acceptance_guard()
    [killed] = [k for k in ("100-A", "100-B") if _entry(runtime, "mirakl", "PA01", k)]
    assert _entry(runtime, "mirakl", "PA01", killed).outcome == "started"
    sent_before = runtime.mirakl.transport.calls["PA01"]

    with use_runtime(runtime):
        clean = await acceptance_guard()

    entry = _entry(runtime, "mirakl", "PA01", killed)
    assert (entry.outcome, entry.external_id) == ("succeeded", "OK")
    assert clean.counts["interrupted_writes_found_done"] == 1
    assert runtime.mirakl.transport.calls["PA01"] - sent_before == 1  # only the other order's debit
    assert {o.state for o in sandbox.mirakl.state.store.orders.orders.values() if o.commercial_id == "100"} == {
        "SHIPPING"
    }


async def test_a_cx_metafield_created_before_the_kill_is_found_and_recorded_by_the_next_routing_run(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_paid(sandbox, MIXED)
    seed_offer_map(runtime, sandbox, (MIXED,))
    create = kill_after_first_call(runtime.bigcommerce.create_order_metafields)
    monkeypatch.setattr(runtime.bigcommerce, "create_order_metafields", create)
    with use_runtime(runtime), pytest.raises(KilledAfterTheCall):
        await order_routing()
    assert _entry(runtime, "bigcommerce", "order_metafield", str(MIXED)).outcome == "started"

    with use_runtime(runtime):
        clean = await order_routing()

    entry = _entry(runtime, "bigcommerce", "order_metafield", str(MIXED))
    [metafield] = await runtime.bigcommerce.list_order_metafields(MIXED, namespace="bcmirakl")
    assert (entry.outcome, entry.external_id) == ("succeeded", str(metafield.id))
    assert clean.counts["interrupted_writes_found_done"] == 1


async def test_an_or24_made_before_the_kill_is_recorded_by_the_next_shipment_run(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    control = SandboxControl(sandbox)
    world = await route_world_order(runtime, sandbox, control, 100)
    await control.aclose()
    first = world.logistic_order_ids[0]
    await _ship_in_bigcommerce(runtime, world, first, "fedex", "", "FXKILL1")
    monkeypatch.setattr(runtime.mirakl, "ship_order", kill_after_first_call(runtime.mirakl.ship_order))
    with use_runtime(runtime), pytest.raises(KilledAfterTheCall):
        await shipment_sync()
    assert _entry(runtime, "mirakl", "OR24", f"or24:{first}").outcome == "started"
    assert _mirakl_order(sandbox, first).state == "SHIPPED"

    with use_runtime(runtime):
        clean = await shipment_sync()

    assert _entry(runtime, "mirakl", "OR24", f"or24:{first}").outcome == "succeeded"
    assert clean.counts["interrupted_writes_found_done"] == 1
    assert runtime.mirakl.transport.calls["OR24"] == 1


async def test_an_order_killed_after_or01_that_ships_before_the_next_run_still_gets_its_logistic_orders(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chaos seeds 36, 114, 150, 168 (`reconciliation_missing_in_bigcommerce`): the warehouse shipped the order
    before the next routing run, so it was no longer "paid", the pending route was never finished, and its
    lines never learnt their Mirakl order: reconciliation found Mirakl's lines without a BigCommerce side."""
    only_paid(sandbox, MIXED)
    seed_offer_map(runtime, sandbox, (MIXED,))
    monkeypatch.setattr(
        runtime.mirakl, "create_order", kill_after_first_call(runtime.mirakl.create_order, ProcessKilled)
    )
    with use_runtime(runtime), pytest.raises(ProcessKilled):
        await order_routing()
    sandbox.bigcommerce.state.store.orders[MIXED].status_id = SHIPPED  # the warehouse ships before the next run

    with use_runtime(runtime):
        await order_routing()

    with runtime.sessions() as session:
        route = get_order_route(session, MIXED)
        marketplace = [line for line in order_lines_for(session, bc_order_id=MIXED) if line.marketplace]
    assert route is not None and route.status == "routed"
    assert marketplace and all(line.mirakl_order_id for line in marketplace)
    assert _entry(runtime, "mirakl", "OR01", route.commercial_id).outcome == "succeeded"


async def test_an_order_cancelled_after_its_erp_hand_over_was_interrupted_goes_to_customer_service(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chaos `ledger_started` erp/send_order (seeds 335, 520, 836, 949): the run died inside the ERP hand-over,
    the customer cancelled, and the row stayed `started` for good. The ERP sink cannot be asked whether it got
    the lines, so the row is closed as not sent and customer service gets the order to check there."""
    only_paid(sandbox, MIXED)
    seed_offer_map(runtime, sandbox, (MIXED,))

    async def killed_during_the_hand_over(*args: Any, **kwargs: Any) -> Any:
        raise ProcessKilled("killed during the ERP hand-over")

    monkeypatch.setattr(runtime.erp, "send_order", killed_during_the_hand_over)
    with use_runtime(runtime), pytest.raises(ProcessKilled):
        await order_routing()
    assert _entry(runtime, "erp", "send_order", str(MIXED)).outcome == "started"
    sandbox.bigcommerce.state.store.orders[MIXED].status_id = CANCELLED

    with use_runtime(runtime):
        await order_routing()

    assert _entry(runtime, "erp", "send_order", str(MIXED)).outcome == "failed"
    with runtime.sessions() as session:
        route = get_order_route(session, MIXED)
        cases = [c for c in unresolved_cs_cases(session) if str(MIXED) in c.key]
    assert route is not None and route.status == "cancelled"
    assert any("ERP" in str(case.detail) for case in cases), [(c.key, c.kind, c.detail) for c in cases]


async def test_an_or29_made_before_the_kill_is_recorded_when_mirakl_shows_the_order_cancelled(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chaos seed 891: the next run skipped the logistic order Mirakl already showed cancelled, and its OR29 row
    stayed `started` for good."""
    await routed(runtime, sandbox, MIXED)
    store = sandbox.bigcommerce.state.store
    store.orders[MIXED].status_id = CANCELLED
    store.touch_order(store.orders[MIXED])  # as the store does on every status change
    cancel = kill_after_first_call(runtime.mirakl.cancel_order, ProcessKilled)
    monkeypatch.setattr(runtime.mirakl, "cancel_order", cancel)
    with use_runtime(runtime), pytest.raises(ProcessKilled):
        await order_routing()

    with use_runtime(runtime):
        await order_routing()

    outcomes = {key: _entry(runtime, "mirakl", "OR29", key) for key in ("100-A", "100-B")}
    assert {key: entry.outcome for key, entry in outcomes.items() if entry} == {
        "100-A": "succeeded",
        "100-B": "succeeded",
    }
    assert {o.state for o in sandbox.mirakl.state.store.orders.orders.values() if o.commercial_id == "100"} == {
        "CANCELED"
    }
