"""The order split-and-route flow against the sandbox: split, exactly-once sends, exceptions, cancellations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import update

from bridge.runtime import Runtime, use_runtime
from common.errors import TransientApiError
from connectors.state import (
    OfferMapping,
    get_order_route,
    logistic_orders_for,
    order_lines_for,
    set_cursor,
    unresolved_cs_cases,
)
from flows.order_routing import order_routing
from sandbox.app import Sandbox
from tests.support.orders import seed_offer_map
from tests.support.sandbox_api import cx_metafield, erp_orders, mirakl_orders

MIXED = 100  # native line + MKP-000005 (shop 2000) + MKP-000002 (shop 2001), Awaiting Fulfillment
CANCELLED = 104  # Cancelled in the seed, never routed


@pytest.fixture
def only_mixed_basket_paid(sandbox: Sandbox) -> None:
    """Leave order 100 the only paid order, so counts are about it alone."""
    store = sandbox.bigcommerce.state.store
    for order in store.orders.values():
        if order.id != MIXED and order.status_id == 11:
            order.status_id = 7


async def test_mixed_basket_goes_native_to_erp_once_and_marketplace_to_one_split_commercial_order(
    runtime: Runtime, sandbox: Sandbox, only_mixed_basket_paid: None
) -> None:
    seed_offer_map(runtime, sandbox, [MIXED])
    with use_runtime(runtime):
        report = await order_routing()

    erp = await erp_orders(sandbox)
    assert [r["idempotency_key"] for r in erp] == [str(MIXED)]
    assert [line["sku"] for line in erp[0]["order"]["lines"]] == ["NAT-00001"]
    orders = await mirakl_orders(sandbox, str(MIXED))
    assert [(o["order_id"], o["shop_id"]) for o in orders] == [("100-A", 2000), ("100-B", 2001)]
    assert all(o["order_state"] == "WAITING_ACCEPTANCE" for o in orders)
    line_a = orders[0]["order_lines"][0]
    assert line_a["price"] == line_a["price_unit"] * line_a["quantity"] and line_a["taxes"][0]["amount"] > 0
    assert line_a["order_line_id"].startswith("100-")
    with runtime.sessions() as session:
        assert get_order_route(session, MIXED).status == "routed"
        assert [lo.mirakl_order_id for lo in logistic_orders_for(session, bc_order_id=MIXED)] == ["100-A", "100-B"]
        lines = order_lines_for(session, bc_order_id=MIXED)
    assert len(lines) == 3
    assert sorted(str(x.mirakl_order_id) for x in lines) == ["100-A", "100-B", "None"]
    document = await cx_metafield(sandbox, MIXED)
    assert [x["fulfilled_by"] for x in document["lines"]] == ["native", "Seller 1", "Seller 2"]
    assert [x["state"] for x in document["lines"]] == ["NATIVE", "WAITING_ACCEPTANCE", "WAITING_ACCEPTANCE"]
    assert "@" not in json.dumps(document)
    assert report.counts["orders_routed"] == 1 and report.counts["logistic_orders_created"] == 2


async def test_a_rerun_changes_nothing_and_costs_no_order_calls(
    runtime: Runtime, sandbox: Sandbox, only_mixed_basket_paid: None
) -> None:
    seed_offer_map(runtime, sandbox, [MIXED])
    with use_runtime(runtime):
        await order_routing()
        before = runtime.api_calls()
        with runtime.sessions() as session:
            set_cursor(session, "order_routing", "2020-01-01T00:00:00+00:00")  # a retry re-reads everything
            session.commit()
        report = await order_routing()
    after = runtime.api_calls()
    assert len(await erp_orders(sandbox)) == 1
    assert len(await mirakl_orders(sandbox, str(MIXED))) == 2
    assert after["mirakl"] == before["mirakl"] and after["erp"] == before["erp"]
    assert after["bigcommerce"] - before["bigcommerce"] == 1  # the one order-list page
    assert "orders_routed" not in report.counts


async def test_a_crash_after_or01_is_recovered_without_a_second_or01(
    runtime: Runtime, sandbox: Sandbox, only_mixed_basket_paid: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_offer_map(runtime, sandbox, [MIXED])
    real_create = runtime.mirakl.create_order
    sent: list[str] = []

    async def lost_answer(order: Any) -> Any:
        sent.append(order.commercial_id)
        await real_create(order)
        raise TransientApiError("read timeout", system="mirakl", operation="OR01", status=None)

    monkeypatch.setattr(runtime.mirakl, "create_order", lost_answer)
    with use_runtime(runtime):
        first = await order_routing()
        with runtime.sessions() as session:
            assert get_order_route(session, MIXED).status == "pending"
        monkeypatch.setattr(runtime.mirakl, "create_order", real_create)
        second = await order_routing()

    assert first.counts["orders_deferred"] == 1
    assert sent == [str(MIXED)]
    # The first run ended with the OR01 row `started`: the next run settles it from OR11 before routing, so the
    # routing step finds it done instead of recovering it.
    assert second.counts["interrupted_writes_found_done"] == 1
    assert second.counts["or01_already_done"] == 1
    assert [o["order_id"] for o in await mirakl_orders(sandbox, str(MIXED))] == ["100-A", "100-B"]
    with runtime.sessions() as session:
        assert get_order_route(session, MIXED).status == "routed"
        assert len(logistic_orders_for(session, bc_order_id=MIXED)) == 2


async def test_an_unshippable_offer_becomes_an_exception_shown_on_the_order_and_is_not_retried(
    runtime: Runtime, sandbox: Sandbox, only_mixed_basket_paid: None
) -> None:
    seed_offer_map(runtime, sandbox, [MIXED])
    catalog = sandbox.mirakl.state.store.catalog
    out_of_stock = next(o for o in catalog.offers.values() if o.product_sku == "MKP-000002" and o.shop_id == 2001)
    out_of_stock.quantity = 0
    with use_runtime(runtime):
        report = await order_routing()
        with runtime.sessions() as session:
            set_cursor(session, "order_routing", "2020-01-01T00:00:00+00:00")
            session.commit()
        await order_routing()

    assert [o["order_id"] for o in await mirakl_orders(sandbox, str(MIXED))] == ["100-A"]
    with runtime.sessions() as session:
        assert get_order_route(session, MIXED).status == "exception"
        cases = unresolved_cs_cases(session, "order_routing")
    assert [(c.kind, c.detail["reason"]) for c in cases] == [("offers_not_shippable", "OFFER_NOT_FOUND")]
    assert [a.event for a in report.alerts] == ["bcmirakl.orders.exception"]
    states = [x["state"] for x in (await cx_metafield(sandbox, MIXED))["lines"]]
    assert states == ["NATIVE", "WAITING_ACCEPTANCE", "EXCEPTION"]


async def test_an_order_cancelled_before_routing_sends_nothing(runtime: Runtime, sandbox: Sandbox) -> None:
    seed_offer_map(runtime, sandbox, [CANCELLED])
    with use_runtime(runtime):
        report = await order_routing()
    assert await mirakl_orders(sandbox, str(CANCELLED)) == []
    assert str(CANCELLED) not in [r["idempotency_key"] for r in await erp_orders(sandbox)]
    with runtime.sessions() as session:
        assert get_order_route(session, CANCELLED).status == "cancelled"
    assert report.counts["cancelled_before_routing"] >= 1


async def test_an_order_cancelled_after_routing_cancels_its_mirakl_orders(
    runtime: Runtime, sandbox: Sandbox, only_mixed_basket_paid: None
) -> None:
    seed_offer_map(runtime, sandbox, [MIXED])
    store = sandbox.bigcommerce.state.store
    with use_runtime(runtime):
        await order_routing()
        store.set_order_status(store.order(MIXED), 5)
        report = await order_routing()

    assert [o["order_state"] for o in await mirakl_orders(sandbox, str(MIXED))] == ["CANCELED", "CANCELED"]
    assert report.counts["or29_sent"] == 2
    with runtime.sessions() as session:
        assert get_order_route(session, MIXED).status == "cancelled"
        kinds = [c.kind for c in unresolved_cs_cases(session, "order_routing")]
    assert kinds == ["native_cancel"]  # the ERP holds the native line: operations cancel it there
    assert [x["state"] for x in (await cx_metafield(sandbox, MIXED))["lines"]] == ["NATIVE", "CANCELED", "CANCELED"]


async def test_a_shipped_order_cancelled_in_bigcommerce_becomes_an_exception(
    runtime: Runtime, sandbox: Sandbox, only_mixed_basket_paid: None
) -> None:
    seed_offer_map(runtime, sandbox, [MIXED])
    store = sandbox.bigcommerce.state.store
    book = sandbox.mirakl.state.store.orders
    with use_runtime(runtime):
        await order_routing()
        for order in (book.orders[i] for i in book.by_commercial[str(MIXED)]):  # setup: debited, in the world
            book._set_state(order, "SHIPPING", order.created_date)
        store.set_order_status(store.order(MIXED), 5)
        report = await order_routing()

    assert [o["order_state"] for o in await mirakl_orders(sandbox, str(MIXED))] == ["SHIPPING", "SHIPPING"]
    with runtime.sessions() as session:
        kinds = sorted(c.kind for c in unresolved_cs_cases(session, "order_routing"))
    assert kinds == ["cancel_not_allowed", "native_cancel"]
    assert "bcmirakl.orders.cancel-failed" in [a.event for a in report.alerts]


async def test_a_line_whose_offer_vanished_is_an_exception_on_the_order_and_never_goes_to_the_erp(
    runtime: Runtime, sandbox: Sandbox, only_mixed_basket_paid: None
) -> None:
    seed_offer_map(runtime, sandbox, [MIXED])
    with runtime.sessions() as session:  # offer sync saw the seller's offer sell out: no offer wins the variant
        session.execute(update(OfferMapping).where(OfferMapping.product_sku == "MKP-000002").values(offer_id=None))
        session.commit()
    with use_runtime(runtime):
        report = await order_routing()

    [erp] = await erp_orders(sandbox)
    assert [line["sku"] for line in erp["order"]["lines"]] == ["NAT-00001"]
    assert [o["order_id"] for o in await mirakl_orders(sandbox, str(MIXED))] == ["100-A"]
    with runtime.sessions() as session:
        assert get_order_route(session, MIXED).status == "exception"
        assert [c.kind for c in unresolved_cs_cases(session, "order_routing")] == ["offer_gone"]
    assert [a.event for a in report.alerts] == ["bcmirakl.orders.exception"]
    lines = (await cx_metafield(sandbox, MIXED))["lines"]
    assert [(x["fulfilled_by"] == "native", x["state"]) for x in lines] == [
        (True, "NATIVE"),
        (False, "WAITING_ACCEPTANCE"),
        (False, "EXCEPTION"),
    ]


async def test_with_a_fresh_state_store_a_marked_variant_is_an_exception_not_an_erp_line(
    runtime: Runtime, sandbox: Sandbox, only_mixed_basket_paid: None
) -> None:
    # No offer map at all (first deployment, restored database): the variants' ownership marks decide.
    with use_runtime(runtime):
        await order_routing()

    [erp] = await erp_orders(sandbox)
    assert [line["sku"] for line in erp["order"]["lines"]] == ["NAT-00001"]
    assert await mirakl_orders(sandbox, str(MIXED)) == []
    with runtime.sessions() as session:
        assert sorted(c.kind for c in unresolved_cs_cases(session, "order_routing")) == ["offer_gone", "offer_gone"]
    assert [x["state"] for x in (await cx_metafield(sandbox, MIXED))["lines"]] == ["NATIVE", "EXCEPTION", "EXCEPTION"]
