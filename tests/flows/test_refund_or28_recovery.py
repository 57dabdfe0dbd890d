"""An OR28 whose answer was lost (503 after Mirakl applied it) is recovered by evidence, never by guessing.

A seller's own refund of the same amount on the same line is not adopted as the bridge's: created before the
bridge's write, it is told apart by time and paid back as the seller's; created meanwhile, it cannot be told
apart, so finance gets a case and neither look-alike is paid back or sent again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

import flows.refund_mirror as refund_mirror_module
from bridge.runtime import Runtime, use_runtime
from connectors.state import LedgerEntry, unresolved_cs_cases
from flows.refund_mirror import refund_mirror
from sandbox.app import Sandbox
from sandbox.faults import FaultRule
from tasks.refunds.outbound import AMBIGUOUS_CASE, send_or28
from tests.flows.test_refund_mirror import _bc_refunds, _mirakl_line, _refund_in_bigcommerce
from tests.support.order_world import SandboxControl, route_world_order

ORDER = 109
REASON = "14"  # the code the bridge's default configuration sends


@pytest.fixture
async def control(sandbox: Sandbox) -> AsyncIterator[SandboxControl]:
    ctl = SandboxControl(sandbox)
    yield ctl
    await ctl.aclose()


async def _two_unit_line(runtime: Runtime, sandbox: Sandbox, control: SandboxControl) -> tuple[int, str, str]:
    """Route order 109 with two units on a marketplace line: (BigCommerce product id, Mirakl line, its order)."""
    bc_order = sandbox.bigcommerce.state.store.orders[ORDER]
    two_units = next(line for line in bc_order.lines if line.sku.startswith("MKP"))
    two_units.quantity = 2
    routed = await route_world_order(runtime, sandbox, control, ORDER)
    line_id = next(line for line, (product, _) in routed.lines.items() if product == two_units.id)
    order_id = sandbox.mirakl.state.store.orders.line(line_id)[0].order_id
    return two_units.id, line_id, order_id


async def _seller_refund(control: SandboxControl, order_id: str, line_id: str, amount: Decimal) -> str:
    body = {"order_line_id": line_id, "amount": str(amount), "reason_code": REASON}
    [refund_id] = (await control.post(f"/mirakl/_sandbox/orders/{order_id}/refund", body)).json()["refund_ids"]
    return str(refund_id)


async def _or28_answer_lost(runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """One refund-mirror run whose OR28 is applied by Mirakl but answered 503; the run fails (no task retry)."""
    lost = FaultRule(path=r"/api/orders/refund$", method="PUT", error_rate=1.0, status=503, lose_response=True, times=1)
    sandbox.mirakl.state.faults.add_rule(lost)
    with monkeypatch.context() as patch:
        patch.setattr(refund_mirror_module, "send_or28", send_or28.with_options(retries=0))
        with use_runtime(runtime):
            state = await refund_mirror(return_state=True)
    assert state.is_failed()


def _started(runtime: Runtime) -> list[Any]:
    with runtime.sessions() as session:
        return list(session.scalars(select(LedgerEntry).where(LedgerEntry.outcome == "started")))


async def test_a_seller_refund_of_the_same_amount_made_meanwhile_opens_a_case_instead_of_being_adopted(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    product_id, line_id, order_id = await _two_unit_line(runtime, sandbox, control)
    await _refund_in_bigcommerce(runtime, ORDER, product_id, 1)
    await _or28_answer_lost(runtime, sandbox, monkeypatch)
    [ours] = _mirakl_line(sandbox, line_id).refunds  # Mirakl applied it; the bridge never saw the answer
    seller = await _seller_refund(control, order_id, line_id, ours.amount)
    with use_runtime(runtime):
        report = await refund_mirror()

    refunds = _mirakl_line(sandbox, line_id).refunds
    assert [r.refund_id for r in refunds] == [ours.refund_id, seller]  # nothing sent again
    assert all(r.state == "WAITING_REFUND_PAYMENT" for r in refunds)  # neither confirmed as paid
    assert len(_bc_refunds(sandbox, ORDER)) == 1  # the customer's own refund; no look-alike paid back
    assert report.counts["refunds_held_ambiguous"] == 1 and "refunds_to_mirakl" not in report.counts
    assert "bcmirakl.refunds.recovery-ambiguous" in {a.event for a in report.alerts}
    with runtime.sessions() as session:
        [case] = [c for c in unresolved_cs_cases(session, "refund_mirror") if c.kind == AMBIGUOUS_CASE]
        assert sorted(case.detail["candidates"]) == sorted([ours.refund_id, seller])
    assert _started(runtime) == []


async def test_a_seller_refund_made_before_the_bridge_wrote_is_not_taken_for_the_bridges_own(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    product_id, line_id, order_id = await _two_unit_line(runtime, sandbox, control)
    half = _mirakl_line(sandbox, line_id).price / 2
    seller = await _seller_refund(control, order_id, line_id, half)
    [earlier] = _mirakl_line(sandbox, line_id).refunds
    earlier.created_date -= timedelta(minutes=30)  # the seller refunded half an hour before the customer asked
    await _refund_in_bigcommerce(runtime, ORDER, product_id, 1)
    await _or28_answer_lost(runtime, sandbox, monkeypatch)
    ours = next(r for r in _mirakl_line(sandbox, line_id).refunds if r.refund_id != seller)
    with use_runtime(runtime):
        report = await refund_mirror()

    refunds = {r.refund_id: r for r in _mirakl_line(sandbox, line_id).refunds}
    assert set(refunds) == {seller, ours.refund_id}  # recovered, not sent again
    assert [row["mirakl_refund_id"] for row in report.tables["to-mirakl"]] == [ours.refund_id]
    assert [row["status"] for row in report.tables["to-mirakl"]] == ["recovered"]
    # The seller's refund is paid back to the customer in BigCommerce; the bridge's is paid by the customer's own.
    assert [row["mirakl_refund_id"] for row in report.tables["to-bigcommerce"]] == [seller]
    assert len(_bc_refunds(sandbox, ORDER)) == 2
    assert all(r.state == "REFUNDED" for r in refunds.values())
    with runtime.sessions() as session:
        assert [c for c in unresolved_cs_cases(session, "refund_mirror") if c.kind == AMBIGUOUS_CASE] == []
    assert _started(runtime) == []
