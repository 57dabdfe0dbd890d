"""SH21 that answers nothing usable: the shipment sync keeps running on the last good list, or holds tracking.

Chaos seeds 21, 31 and 43 found it: one unreadable SH21 body spent the day's only SH21 call and every shipment
sync failed until the next day. SH21 is read once a day ("Maximum usage: Once per day", mirakl.md §2.4).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bridge.runtime import Runtime, use_runtime
from bridge.simclock import SimulatedClock
from connectors.state import get_carrier_list, queue_depth, record_carrier_list
from flows.shipment_sync import shipment_sync
from sandbox.app import Sandbox
from tests.flows.test_shipment_sync import _mirakl_order, _ship_in_bigcommerce
from tests.support.order_world import RoutedOrder, SandboxControl, route_world_order

DAY_S = 86_400.0


@pytest.fixture
async def routed(runtime: Runtime, sandbox: Sandbox) -> AsyncIterator[RoutedOrder]:
    control = SandboxControl(sandbox)
    try:
        yield await route_world_order(runtime, sandbox, control, 100)
    finally:
        await control.aclose()


async def _garble_sh21(sandbox: Sandbox, times: int) -> None:
    """The sandbox's own fault rule: SH21 answers 200 with a body that is not JSON, `times` times."""
    rule = {"path": "/api/shipping/carriers$", "method": "GET", "malformed_rate": 1.0, "times": times}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url=sandbox.base_url) as c:
        (await c.put("/mirakl/_sandbox/faults", json={"rules": [rule]})).raise_for_status()


async def test_with_no_carrier_list_an_unreadable_sh21_holds_tracking_and_the_run_completes_until_a_read_succeeds(
    runtime: Runtime, sandbox: Sandbox, routed: RoutedOrder, sim_clock: SimulatedClock
) -> None:
    first = routed.logistic_order_ids[0]
    await _ship_in_bigcommerce(runtime, routed, first, "fedex", "", "FXHELD1")
    await _garble_sh21(sandbox, times=1)
    with use_runtime(runtime):
        held = await shipment_sync()
        sh21_calls = runtime.mirakl.transport.calls["SH21"]
        again = await shipment_sync()  # same day: the budget's one slot is spent, so no call is made

    for report in (held, again):
        assert report.counts["tracking_held_no_carrier_list"] == "yes"
        assert report.counts["carrier_list_stale"] == "yes"
        assert "shipments_to_mirakl" not in report.counts and not report.quarantined
    assert [a.event for a in held.alerts] == ["bcmirakl.shipments.carrier-list-stale"]
    assert held.alerts[0].payload["tracking_held"] is True
    assert again.alerts == []  # the same stale episode, alerted by the run before
    assert again.counts["carrier_list_stale_since"] == held.counts["carrier_list_stale_since"]
    assert runtime.mirakl.transport.calls["SH21"] == sh21_calls
    assert _mirakl_order(sandbox, first).state == "SHIPPING"
    with runtime.sessions() as session:
        assert queue_depth(session, "shipment_sync")["pending"] == 1  # held, not quarantined nor failed

    sim_clock.advance(DAY_S + 60)  # the next day SH21's budget has a slot again
    with use_runtime(runtime):
        sent = await shipment_sync()
    assert sent.counts["shipments_to_mirakl"] == 1 and "carrier_list_stale" not in sent.counts
    assert sent.counts["carrier_list_version"] == 1
    order = _mirakl_order(sandbox, first)
    assert (order.state, order.carrier_code, order.tracking_number) == ("SHIPPED", "FEDEX", "FXHELD1")
    with runtime.sessions() as session:
        kept = get_carrier_list(session, "SH21")
        assert kept is not None and kept.refresh_error is None and "FEDEX" in kept.carriers


async def test_an_unreadable_sh21_refresh_keeps_the_last_good_list_marked_stale_and_alerted(
    runtime: Runtime, sandbox: Sandbox, routed: RoutedOrder
) -> None:
    first = routed.logistic_order_ids[0]
    await _ship_in_bigcommerce(runtime, routed, first, "fedex", "", "FXSTALE1")
    read_at = datetime.now(UTC) - timedelta(hours=30)  # older than `carrier_cache_hours` (24): a refresh is due
    with runtime.sessions() as session:
        record_carrier_list(session, "SH21", {"FEDEX": "FedEx", "UPS": "UPS"}, read_at)
        session.commit()
    await _garble_sh21(sandbox, times=1)
    with use_runtime(runtime):
        report = await shipment_sync()

    assert report.counts["carrier_list_stale"] == "yes"
    assert report.counts["carrier_list_age_hours"] == pytest.approx(30, abs=0.2)
    assert report.counts["mirakl_carriers"] == 2
    assert "tracking_held_no_carrier_list" not in report.counts
    [alert] = report.alerts
    # The garbled answer spent the day's SH21 call, so the transport's repeat was refused by the budget, unsent.
    assert alert.event == "bcmirakl.shipments.carrier-list-stale" and "CallBudgetExhausted" in alert.payload["error"]
    assert report.counts["shipments_to_mirakl"] == 1  # checked against the last good list
    assert _mirakl_order(sandbox, first).carrier_code == "FEDEX"
    with runtime.sessions() as session:
        kept = get_carrier_list(session, "SH21")
        assert kept is not None and kept.fetched_at == read_at and kept.refresh_failed_at is not None
