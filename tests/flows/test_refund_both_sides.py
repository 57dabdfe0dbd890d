"""One refund made on both sides: customer service refunds a line in BigCommerce while its seller refunds it in Mirakl.

Found by the chaos suite (`reconciliation_unexplained`, seeds 10, 14 and 19, action `refund_both_sides`): the OR28
of the customer's refund was quarantined as an over-refund (the seller's refund had taken the line) and the
seller's refund could not be paid again in BigCommerce, so Mirakl never booked the refund and the day's
reconciliation showed it as `refund_not_mirrored`. The customer's refund is the payment of the seller's refund.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bridge.runtime import Runtime, use_runtime
from connectors.state import quarantine_counts, unresolved_cs_cases
from flows.refund_mirror import refund_mirror
from sandbox.app import Sandbox
from tests.flows.money_world import merchant_refunds
from tests.support.order_world import SandboxControl, route_world_order


@pytest.fixture
async def control(sandbox: Sandbox) -> AsyncIterator[SandboxControl]:
    ctl = SandboxControl(sandbox)
    yield ctl
    await ctl.aclose()


async def test_a_line_refunded_by_customer_service_and_by_its_seller_is_one_refund_confirmed_with_pa02(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    routed = await route_world_order(runtime, sandbox, control, 100)
    order_id = routed.logistic_order_ids[0]
    line_id = routed.line_of(order_id)
    line = sandbox.mirakl.state.store.orders.line(line_id)[1]
    await merchant_refunds(runtime, 100, {routed.lines[line_id][0]: 1})  # the line's only unit, back to the card
    [seller_refund] = await control.seller_refunds(order_id, line_id, line.price)
    real_pa02 = runtime.mirakl.confirm_refunds

    async def killed_before_pa02(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("worker killed before PA02")  # the chaos suite's kill_before_call on PA02

    monkeypatch.setattr(runtime.mirakl, "confirm_refunds", killed_before_pa02)
    with use_runtime(runtime), pytest.raises(RuntimeError, match="PA02"):
        await refund_mirror()
    monkeypatch.setattr(runtime.mirakl, "confirm_refunds", real_pa02)
    with use_runtime(runtime):
        report = await refund_mirror()

    [bc_refund] = [r for r in sandbox.bigcommerce.state.store.refunds if r["order_id"] == 100]  # never paid twice
    [refund] = line.refunds  # no OR28 beside the seller's refund
    assert (refund.refund_id, refund.state) == (seller_refund, "REFUNDED")  # Mirakl books it (TL02 REFUND_*)
    assert refund.transaction_number == str(bc_refund["id"])  # paid by the customer service refund
    assert report.counts["refunds_confirmed_to_mirakl"] == 1
    with runtime.sessions() as session:
        assert quarantine_counts(session, "refund_mirror") == {}
        assert unresolved_cs_cases(session, "refund_mirror") == []
