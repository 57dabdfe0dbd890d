"""Order routing keeps flowing: one poison order never stops the page, and an outage is told, not hidden."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.runtime import Runtime, use_runtime
from connectors.http.retry import RetryPolicy
from connectors.state import get_cursor, get_order_route, unresolved_cs_cases
from flows.order_routing import order_routing
from sandbox.app import Sandbox
from sandbox.faults import FaultRule
from tests.support.orders import seed_offer_map
from tests.support.sandbox_api import mirakl_orders

PAID = (100, 101, 102, 105, 108, 111)  # the seed's Awaiting Fulfillment orders, all with marketplace lines
POISON = 101


def routes(runtime: Runtime, order_ids: tuple[int, ...]) -> dict[int, str | None]:
    with runtime.sessions() as session:
        found = {order_id: get_order_route(session, order_id) for order_id in order_ids}
    return {order_id: route.status if route else None for order_id, route in found.items()}


def cases(runtime: Runtime) -> list[tuple[str, str, str]]:
    with runtime.sessions() as session:
        return [(c.key, c.kind, c.detail["reason"]) for c in unresolved_cs_cases(session, "order_routing")]


async def test_a_zero_quantity_line_becomes_an_exception_and_the_rest_of_the_page_is_routed(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    seed_offer_map(runtime, sandbox, PAID)
    poison = sandbox.bigcommerce.state.store.order(POISON)
    assert poison is not None
    line = next(x for x in poison.lines if x.sku.startswith("MKP"))
    line.quantity = 0  # price x 0 = 0 paid over 0 units: Decimal's InvalidOperation before the fix
    with use_runtime(runtime):
        report = await order_routing()

    good = tuple(o for o in PAID if o != POISON)
    assert all(status in ("routed", "exception") for status in routes(runtime, good).values())
    assert all([await mirakl_orders(sandbox, str(order_id)) for order_id in good])
    assert routes(runtime, (POISON,)) == {POISON: "exception"}
    assert (f"{POISON}:{line.id}", "zero_quantity", "the line's quantity is below 1") in cases(runtime)
    assert "orders_deferred" not in report.counts
    with runtime.sessions() as session:
        assert get_cursor(session, "order_routing") is not None  # the page was recorded, the sweep moved on


async def test_an_unforeseen_error_in_one_order_is_its_exception_case_and_the_others_are_routed(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tasks.orders.route as route

    seed_offer_map(runtime, sandbox, PAID)
    real_build_plan = route.build_plan

    def build_plan_with_a_bug(order: Any, *args: Any) -> Any:
        if order.id == POISON:
            raise KeyError("a bug nobody foresaw")
        return real_build_plan(order, *args)

    monkeypatch.setattr(route, "build_plan", build_plan_with_a_bug)
    with use_runtime(runtime):
        report = await order_routing()
        again = await order_routing()

    assert routes(runtime, (POISON,)) == {POISON: "exception"}
    assert await mirakl_orders(sandbox, str(POISON)) == []
    assert (str(POISON), "routing_error", "unexpected KeyError while planning the order") in cases(runtime)
    assert all([await mirakl_orders(sandbox, str(order_id)) for order_id in PAID if order_id != POISON])
    exceptions = [row for row in report.tables["exceptions"] if row["bc_order_id"] == POISON]
    assert [(row["order_product_id"], row["kind"]) for row in exceptions] == [(None, "routing_error")]
    assert "nobody foresaw" not in str(report.tables)  # the message may quote customer data: only the type is kept
    assert "orders_exception" not in again.counts  # final: a rerun neither retries nor alerts again


async def test_mirakl_down_alerts_once_per_outage_and_the_first_clean_run_closes_it(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_offer_map(runtime, sandbox, PAID)
    # One attempt per call, so the outage costs no backoff waits in the test; the flow's behaviour is the same.
    monkeypatch.setitem(runtime.mirakl.transport._retry_kwargs, "policy", RetryPolicy(max_attempts=1))
    faults = sandbox.mirakl.state.faults
    faults.add_rule(FaultRule(path=r"/api/", error_rate=1.0, status=503))
    with use_runtime(runtime):
        down = await order_routing(return_state=True)
        still_down = await order_routing()
        faults.clear()
        back = await order_routing()

    first = await down.result()
    assert down.is_completed() and first.counts["orders_deferred"] == len(PAID)
    outage_alerts = [a for a in first.alerts if a.event == "bcmirakl.outage.deferred"]
    assert [(a.resource_id, a.payload["deferred"]) for a in outage_alerts] == [("bcmirakl.system.mirakl", len(PAID))]
    assert still_down.counts["orders_deferred"] == len(PAID)
    assert not [a for a in still_down.alerts if a.event == "bcmirakl.outage.deferred"]  # once per outage
    assert "orders_deferred" not in back.counts
    assert all([await mirakl_orders(sandbox, str(order_id)) for order_id in PAID])
    assert "mirakl is back: nothing was deferred" in back.notes
    assert not [c for c in cases(runtime) if c[1] == "outage"]


async def test_a_blip_below_the_alert_share_defers_without_an_outage_alert(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_offer_map(runtime, sandbox, PAID)
    monkeypatch.setitem(runtime.mirakl.transport._retry_kwargs, "policy", RetryPolicy(max_attempts=1))
    sandbox.mirakl.state.faults.add_rule(FaultRule(path=r"/api/orders$", method="POST", error_rate=1.0, times=1))
    with use_runtime(runtime):
        report = await order_routing()

    assert report.counts["orders_deferred"] == 1
    assert not [a for a in report.alerts if a.event == "bcmirakl.outage.deferred"]
    assert not [c for c in cases(runtime) if c[1] == "outage"]
