"""What routing a page of orders costs in BigCommerce calls, counted at the client (a count, never a time).

orders.v2.oas2.yml, GET /orders `include=consignments.line_items&consignment_structure=object` brings every
order's lines and shipping addresses on the list page, and orders.v3.yml `/orders/metafields` creates up to 50
CX metafields in one call: a page of 50 orders costs the list page and one batch, 0.04 calls an order.
"""

from __future__ import annotations

from typing import Any

import pytest

from bridge.runtime import Runtime, use_runtime
from connectors.bigcommerce import settings as bc_settings
from connectors.state import get_order_route
from flows.order_routing import order_routing
from sandbox.app import Sandbox
from tests.support.orders import clone_order, seed_offer_map
from tests.support.sandbox_api import cx_document, cx_metafields, erp_orders, mirakl_orders

MIXED = 100  # native line + two marketplace lines from two sellers, Awaiting Fulfillment
PAID = 11


@pytest.fixture
def fifty_mixed_baskets(sandbox: Sandbox, runtime: Runtime) -> list[int]:
    """Order 100 and 49 copies of it are the only paid orders: 50 orders on one list page."""
    store = sandbox.bigcommerce.state.store
    for order in store.orders.values():
        if order.id != MIXED and order.status_id == PAID:
            order.status_id = 7
    seed_offer_map(runtime, sandbox, [MIXED])
    return [MIXED, *clone_order(sandbox, MIXED, 49)]


def cx_states(cx: dict[int, dict[str, Any]], order_id: int) -> list[str]:
    """The line states an order's CX metafield shows, from one listing of them all (`cx_metafields`)."""
    return [line["state"] for line in cx_document(cx, order_id)["lines"]]


async def test_a_page_of_fifty_orders_costs_two_bigcommerce_calls(
    runtime: Runtime, sandbox: Sandbox, fifty_mixed_baskets: list[int]
) -> None:
    with use_runtime(runtime):
        report = await order_routing()

    assert report.counts["orders_routed"] == 50
    assert report.counts["orders_read_from_page"] == 50 and "orders_read_one_by_one" not in report.counts
    # The order-list page, one read of the ownership marks of the variants the offer map does not know (the
    # native ones), and one metafield batch.
    assert report.counts["api_calls_bigcommerce"] == 3
    assert report.counts["api_calls_bigcommerce"] / report.counts["orders_routed"] <= 0.06
    assert report.counts["cx_metafields_written"] == 50
    cx = await cx_metafields(sandbox)
    for order_id in fifty_mixed_baskets:
        assert cx_states(cx, order_id) == ["NATIVE", "WAITING_ACCEPTANCE", "WAITING_ACCEPTANCE"]
        assert len(await mirakl_orders(sandbox, str(order_id))) == 2
    erp = await erp_orders(sandbox)
    assert sorted(int(r["idempotency_key"]) for r in erp) == sorted(fifty_mixed_baskets)
    # the embedded lines carried the shipping address the ERP gets, exactly as the per-order read gave it
    assert all(len(r["order"]["shipping_addresses"]) == 1 for r in erp)


async def test_a_list_page_without_embedded_lines_is_routed_by_reading_each_order(
    runtime: Runtime, sandbox: Sandbox, fifty_mixed_baskets: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that ignores the include (an older API) answers plain orders: two reads an order, same outcome."""
    monkeypatch.setattr(bc_settings, "ORDER_LINES_INCLUDE", {})
    with use_runtime(runtime):
        report = await order_routing()

    assert report.counts["orders_routed"] == 50
    assert report.counts["orders_read_one_by_one"] == 50 and "orders_read_from_page" not in report.counts
    assert report.counts["api_calls_bigcommerce"] == 1 + 2 * 50 + 1 + 1  # + the ownership-mark read
    cx = await cx_metafields(sandbox)
    for order_id in fifty_mixed_baskets:
        assert cx_states(cx, order_id) == ["NATIVE", "WAITING_ACCEPTANCE", "WAITING_ACCEPTANCE"]


async def test_a_cx_metafield_left_by_a_lost_run_is_taken_over_not_duplicated(
    runtime: Runtime, sandbox: Sandbox, fifty_mixed_baskets: list[int]
) -> None:
    """The batch refuses the order whose metafield exists (422 partial success); that order alone is updated."""
    store = sandbox.bigcommerce.state.store
    item = {"namespace": "bcmirakl", "key": "fulfilment", "value": "{}", "permission_set": "app_only"}
    stale = store.metafields.create("order", MIXED, item, store.now())
    with use_runtime(runtime):
        report = await order_routing()

    assert report.counts["cx_metafields_written"] == 50
    cx = await cx_metafields(sandbox)
    assert cx[MIXED]["id"] == stale["id"]
    assert cx_states(cx, MIXED) == ["NATIVE", "WAITING_ACCEPTANCE", "WAITING_ACCEPTANCE"]
    assert report.counts["api_calls_bigcommerce"] == 3 + 2  # + that order's lookup and update
    with runtime.sessions() as session:
        assert get_order_route(session, MIXED).status == "routed"
