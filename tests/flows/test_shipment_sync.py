"""The shipment sync flow against the sandbox: seller shipments reach BigCommerce, operator shipments reach Mirakl."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bridge.runtime import Runtime, use_runtime
from connectors.bigcommerce import ShipmentCreate, ShipmentItem
from connectors.state import ledger_get, quarantine_counts, queue_depth, unresolved_cs_cases, upsert_carrier_overrides
from flows.shipment_sync import shipment_sync
from sandbox.app import Sandbox
from tasks.shipments.outbound import bigcommerce_changed_orders, enqueue_bc_shipments
from tests.support.order_world import RoutedOrder, SandboxControl, route_world_order


@pytest.fixture
async def control(sandbox: Sandbox) -> AsyncIterator[SandboxControl]:
    ctl = SandboxControl(sandbox)
    yield ctl
    await ctl.aclose()


@pytest.fixture
async def routed(runtime: Runtime, sandbox: Sandbox, control: SandboxControl) -> RoutedOrder:
    return await route_world_order(runtime, sandbox, control, 100)


def _mirakl_order(sandbox: Sandbox, order_id: str) -> Any:
    return sandbox.mirakl.state.store.orders.get(order_id)


def _bc_shipments(sandbox: Sandbox, bc_order_id: int) -> list[dict[str, Any]]:
    return [s for s in sandbox.bigcommerce.state.store.shipments if s["order_id"] == bc_order_id]


async def _ship_in_bigcommerce(
    runtime: Runtime, routed: RoutedOrder, logistic_order_id: str, provider: str, carrier: str, tracking: str
) -> None:
    line = routed.line_of(logistic_order_id)
    product_id = routed.lines[line][0]
    products = {p.id: p for p in await runtime.bigcommerce.list_order_products(routed.bc_order_id)}
    shipment = ShipmentCreate(
        order_address_id=products[product_id].order_address_id,
        items=[ShipmentItem(order_product_id=product_id, quantity=products[product_id].quantity)],
        tracking_number=tracking,
        shipping_provider=provider,
        tracking_carrier=carrier,
    )
    await runtime.bigcommerce.create_shipment(routed.bc_order_id, shipment)


async def test_a_seller_shipment_becomes_exactly_one_bigcommerce_shipment_of_its_order_products(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl, routed: RoutedOrder
) -> None:
    first, second = routed.logistic_order_ids
    await control.seller_ships(first, "UPS", "1ZSELLER01")
    with use_runtime(runtime):
        report = await shipment_sync()
        again = await shipment_sync()

    shipments = _bc_shipments(sandbox, routed.bc_order_id)
    assert len(shipments) == 1
    product_id = routed.lines[routed.line_of(first)][0]
    assert [(i["order_product_id"], i["quantity"]) for i in shipments[0]["items"]] == [(product_id, 1)]
    assert shipments[0]["tracking_number"] == "1ZSELLER01"
    assert shipments[0]["shipping_provider"] == "ups"
    assert sandbox.bigcommerce.state.store.orders[routed.bc_order_id].status_id == 3  # partial stays partial
    assert report.counts["shipments_to_bigcommerce"] == 1
    assert "shipments_to_bigcommerce" not in again.counts
    # The BigCommerce echo of the seller's shipment is not sent back to Mirakl.
    assert "shipments_to_mirakl" not in again.counts
    assert _mirakl_order(sandbox, second).state == "SHIPPING"


async def test_an_unknown_bigcommerce_carrier_gets_a_custom_tracking_link(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl, routed: RoutedOrder
) -> None:
    first = routed.logistic_order_ids[0]
    await control.seller_ships(first, "COLISSIMO", "6A0001")
    with use_runtime(runtime):
        await shipment_sync()
    [shipment] = _bc_shipments(sandbox, routed.bc_order_id)
    assert (shipment["shipping_provider"], shipment["tracking_carrier"]) == ("", "colissimo")

    # A Mirakl carrier absent from the table: no BigCommerce provider, Mirakl's tracking URL as the link.
    second = routed.logistic_order_ids[1]
    await control.seller_ships(second, "DPD", "DPD0001")
    with runtime.sessions() as session:
        upsert_carrier_overrides(
            session, [{"mirakl_code": "DPD", "shipping_provider": "", "tracking_carrier": "", "aliases": []}]
        )
        session.commit()
    with use_runtime(runtime):
        await shipment_sync()
    dpd = next(s for s in _bc_shipments(sandbox, routed.bc_order_id) if s["tracking_number"] == "DPD0001")
    assert dpd["shipping_provider"] == "" and dpd["tracking_link"].endswith("DPD0001")


async def test_a_bigcommerce_shipment_of_marketplace_lines_becomes_or23_and_or24_once(
    runtime: Runtime, sandbox: Sandbox, routed: RoutedOrder
) -> None:
    first, second = routed.logistic_order_ids
    await _ship_in_bigcommerce(runtime, routed, first, "fedex", "", "FX123")
    with use_runtime(runtime):
        report = await shipment_sync()
        again = await shipment_sync()

    order = _mirakl_order(sandbox, first)
    assert (order.state, order.carrier_code, order.tracking_number) == ("SHIPPED", "FEDEX", "FX123")
    assert _mirakl_order(sandbox, second).state == "SHIPPING"
    assert report.counts["shipments_to_mirakl"] == 1
    assert report.tables["to-mirakl"][0]["carrier"] == "FEDEX"
    assert "shipments_to_mirakl" not in again.counts
    # Mirakl's SHIPPED order with our tracking is not mirrored back as a second BigCommerce shipment.
    assert len(_bc_shipments(sandbox, routed.bc_order_id)) == 1
    with runtime.sessions() as session:
        assert ledger_get(session, "mirakl", "OR24", f"or24:{first}").outcome == "succeeded"


async def test_a_shipment_of_native_lines_only_costs_no_bigcommerce_call_beyond_the_order_list(
    runtime: Runtime, sandbox: Sandbox, routed: RoutedOrder
) -> None:
    """The order list embeds each order's lines (include=consignments.line_items): no marketplace line is shipped
    in full, so neither the order's shipments nor its products are read."""
    marketplace = {product_id for product_id, _ in routed.lines.values()}
    products = await runtime.bigcommerce.list_order_products(routed.bc_order_id)
    native = next(p for p in products if p.id not in marketplace)
    shipment = ShipmentCreate(
        order_address_id=native.order_address_id,
        items=[ShipmentItem(order_product_id=native.id, quantity=native.quantity)],
        tracking_number="NAT1",
        shipping_provider="fedex",
    )
    await runtime.bigcommerce.create_shipment(routed.bc_order_id, shipment)
    assert sandbox.bigcommerce.state.store.orders[routed.bc_order_id].status_id in (2, 3)
    before = runtime.api_calls()["bigcommerce"]
    queued = [await enqueue_bc_shipments.fn(runtime, page) async for page in bigcommerce_changed_orders(runtime, None)]

    assert runtime.api_calls()["bigcommerce"] - before == 1  # the one order-list page
    assert queued and all("bigcommerce_shipments_queued" not in tally.counts for tally in queued)


@pytest.mark.parametrize(
    ("provider", "tracking_carrier", "carrier_name", "reason"),
    [
        ("", "speedy-parcels", "speedy-parcels", "unmapped carrier: speedy-parcels"),
        ("royalmail", "", "royalmail", "carrier code ROYAL_MAIL (for royalmail) not in Mirakl SH21"),
    ],
    ids=["unmapped name", "mapped code missing from SH21"],
)
async def test_a_carrier_mirakl_would_not_accept_is_quarantined_with_its_name_and_an_alert_and_nothing_is_sent(
    runtime: Runtime,
    sandbox: Sandbox,
    routed: RoutedOrder,
    provider: str,
    tracking_carrier: str,
    carrier_name: str,
    reason: str,
) -> None:
    first = routed.logistic_order_ids[0]
    await _ship_in_bigcommerce(runtime, routed, first, provider, tracking_carrier, "Q1")
    with use_runtime(runtime):
        report = await shipment_sync()
        again = await shipment_sync()

    order = _mirakl_order(sandbox, first)
    assert (order.state, order.tracking_number) == ("SHIPPING", None)
    assert report.quarantined == {reason: 1}
    assert [a.event for a in report.alerts] == ["bcmirakl.shipments.carrier-unmapped"]
    assert report.alerts[0].payload["carrier_name"] == carrier_name
    assert carrier_name in report.alerts[0].payload["action"]
    assert report.tables["quarantined-carriers"] == [
        {"mirakl_order_id": first, "carrier_name": carrier_name, "reason": reason}
    ]
    assert not again.quarantined and not again.alerts  # quarantined once, not at every run
    with runtime.sessions() as session:
        assert quarantine_counts(session, "shipment_sync") == {reason: 1}
        assert queue_depth(session, "shipment_sync")["quarantined"] == 1
        assert ledger_get(session, "mirakl", "OR23", f"or23:{first}") is None


async def test_rerun_after_a_crash_mid_batch_creates_no_duplicate_bigcommerce_shipment(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl, routed: RoutedOrder, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = routed.logistic_order_ids
    await control.seller_ships(first, "UPS", "1ZCRASH1")
    await control.seller_ships(second, "FEDEX", "FXCRASH2")
    real = runtime.bigcommerce.create_shipment
    calls = 0

    async def crash_after_first_write(order_id: int, shipment: ShipmentCreate) -> Any:
        nonlocal calls
        calls += 1
        created = await real(order_id, shipment)
        if calls == 1:
            raise RuntimeError("worker killed after the shipment was created")
        return created

    monkeypatch.setattr(runtime.bigcommerce, "create_shipment", crash_after_first_write)
    with use_runtime(runtime), pytest.raises(RuntimeError):
        await shipment_sync()
    monkeypatch.setattr(runtime.bigcommerce, "create_shipment", real)
    with use_runtime(runtime):
        report = await shipment_sync()

    shipments = _bc_shipments(sandbox, routed.bc_order_id)
    assert sorted(s["tracking_number"] for s in shipments) == ["1ZCRASH1", "FXCRASH2"]
    assert report.counts["shipments_to_bigcommerce"] == 2  # one recovered, one sent
    assert sorted(row["status"] for row in report.tables["to-bigcommerce"]) == ["recovered", "sent"]
    with runtime.sessions() as session:
        assert unresolved_cs_cases(session, "shipment_sync") == []
