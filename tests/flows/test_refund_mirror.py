"""The refund mirror flow against the sandbox: BigCommerce refunds reach Mirakl per line, seller refunds are paid."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.runtime import Runtime, use_runtime
from common.errors import TransientApiError
from connectors.bigcommerce import RefundItem, RefundItemAdjustment, RefundPaymentRequest
from connectors.state import ledger_get, quarantine_counts, unresolved_cs_cases
from flows.refund_mirror import refund_mirror
from sandbox.app import Sandbox
from sandbox.faults import FaultRule
from tests.support.logs import told_once_before_the_traceback
from tests.support.order_world import SandboxControl, route_world_order

REGISTERED = 109  # a registered customer's card order: its quotes offer store credit first, as the spec's example


@pytest.fixture
async def control(sandbox: Sandbox) -> AsyncIterator[SandboxControl]:
    ctl = SandboxControl(sandbox)
    yield ctl
    await ctl.aclose()


def _mirakl_line(sandbox: Sandbox, line_id: str) -> Any:
    return sandbox.mirakl.state.store.orders.line(line_id)[1]


def _bc_refunds(sandbox: Sandbox, bc_order_id: int) -> list[dict[str, Any]]:
    return [r for r in sandbox.bigcommerce.state.store.refunds if r["order_id"] == bc_order_id]


async def _refund_in_bigcommerce(
    runtime: Runtime, bc_order_id: int, product_id: int, quantity: int, *fees: Decimal
) -> None:
    adjustments = [RefundItemAdjustment(amount=fee, description="Restocking fee") for fee in fees] or None
    items = [
        RefundItem(
            item_type="PRODUCT", item_id=product_id, quantity=quantity, adjustments=adjustments, reason="Damaged"
        )
    ]
    quote = await runtime.bigcommerce.create_refund_quote(bc_order_id, items)
    option = quote.refund_methods[0][0]
    payment = RefundPaymentRequest(provider_id=option.provider_id, amount=option.amount, offline=bool(option.offline))
    await runtime.bigcommerce.create_refund(bc_order_id, items, [payment])


async def _seller_refunded(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl, *amounts: Decimal
) -> tuple[str, list[str]]:
    """Order 100 routed, then its second seller refunding `amounts` on its line: the line and the refund ids."""
    routed = await route_world_order(runtime, sandbox, control, 100)
    order_id = routed.logistic_order_ids[1]
    line_id = routed.line_of(order_id)
    return line_id, [refund for amount in amounts for refund in await control.seller_refunds(order_id, line_id, amount)]


async def test_a_partial_refund_of_one_line_of_a_two_seller_order_becomes_one_or28_and_is_confirmed(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl, caplog: pytest.LogCaptureFixture
) -> None:
    routed = await route_world_order(runtime, sandbox, control, 100)
    first, second = routed.logistic_order_ids
    line_a, line_b = routed.line_of(first), routed.line_of(second)
    await _refund_in_bigcommerce(runtime, 100, routed.lines[line_a][0], 1)
    caplog.set_level(logging.INFO)
    with use_runtime(runtime):
        report = await refund_mirror()
        caplog.clear()
        again = await refund_mirror()

    refunded = _mirakl_line(sandbox, line_a).refunds
    assert len(refunded) == 1
    assert refunded[0].amount == _mirakl_line(sandbox, line_a).price  # the whole line, tax apart
    assert refunded[0].reason_code == "14"
    assert refunded[0].state == "REFUNDED"  # PA12 confirmed with the BigCommerce refund as reference
    assert refunded[0].transaction_number == str(_bc_refunds(sandbox, 100)[0]["id"])
    assert _mirakl_line(sandbox, line_b).refunds == []
    assert report.counts["refunds_to_mirakl"] == 1
    assert report.counts["refunds_confirmed_to_mirakl"] == 1
    assert "refunds_to_bigcommerce" not in report.counts  # the customer was not refunded a second time
    assert len(_bc_refunds(sandbox, 100)) == 1
    assert "refunds_to_mirakl" not in again.counts and "refunds_confirmed_to_mirakl" not in again.counts
    # The second run's Logs tab says in one line per step what it read, decided and wrote (nothing new here).
    steps = [m.split(":")[0] for r in caplog.records if ": " in (m := r.getMessage())]
    for step in ("valid_reason_codes", "decide_or28_rows", "record_refund_page", "read_waiting_refunds"):
        assert steps.count(step) == 1, step
    assert "pay_mirakl_refunds: nothing to do" in [r.getMessage() for r in caplog.records]


async def test_a_refund_with_a_goodwill_adjustment_debits_the_seller_only_what_the_customer_got_back(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl
) -> None:
    routed = await route_world_order(runtime, sandbox, control, 100)
    line_a = routed.line_of(routed.logistic_order_ids[0])
    await _refund_in_bigcommerce(runtime, 100, routed.lines[line_a][0], 1, Decimal("-3.00"), Decimal("-2.00"))
    with use_runtime(runtime):
        report = await refund_mirror()
        again = await refund_mirror()

    [bc_refund] = _bc_refunds(sandbox, 100)
    customer_got = routed.line_amounts[line_a] - Decimal("5.00")  # one unit, tax included, minus the adjustments
    assert bc_refund["total_amount"] == customer_got
    line = _mirakl_line(sandbox, line_a)
    [refunded] = line.refunds
    taxes = sum((t["amount"] for t in refunded.taxes), Decimal("0"))
    assert refunded.amount < line.price and refunded.amount + taxes == customer_got  # the order is TAX_EXCLUDED
    assert (refunded.state, refunded.transaction_number) == ("REFUNDED", str(bc_refund["id"]))
    assert report.counts["refunded_to_mirakl_amount"] == str(refunded.amount)
    assert report.tables["to-mirakl"][0]["amount"] == refunded.amount
    assert "refunds_to_mirakl" not in again.counts and len(_mirakl_line(sandbox, line_a).refunds) == 1
    assert len(_bc_refunds(sandbox, 100)) == 1


async def test_customer_refunds_on_two_orders_are_mirrored_to_mirakl_after_one_or11_read(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl
) -> None:
    for order_id in (100, 109):
        routed = await route_world_order(runtime, sandbox, control, order_id)
        line = routed.line_of(routed.logistic_order_ids[0])
        await _refund_in_bigcommerce(runtime, order_id, routed.lines[line][0], 1)
    with use_runtime(runtime):
        report = await refund_mirror()

    assert report.counts["refunds_to_mirakl"] == 2
    # OR11's budget is one call a minute: one read for every Mirakl order the page of BigCommerce refunds touches,
    # one for the PA12 queue their OR28s filled, however many orders there are.
    assert {row["operation"]: row["calls"] for row in report.budget}["OR11"] == 2


async def test_two_refunds_on_one_line_are_both_mirrored_within_what_was_paid(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl
) -> None:
    bc_order = sandbox.bigcommerce.state.store.orders[109]
    two_units = next(line for line in bc_order.lines if line.sku.startswith("MKP"))
    two_units.quantity = 2  # the seeded lines hold one unit; a second one makes two partial refunds possible
    routed = await route_world_order(runtime, sandbox, control, 109)
    line_id = next(line for line, (product, _) in routed.lines.items() if product == two_units.id)
    await _refund_in_bigcommerce(runtime, 109, two_units.id, 1)
    with use_runtime(runtime):
        first = await refund_mirror()
    await _refund_in_bigcommerce(runtime, 109, two_units.id, 1)
    with use_runtime(runtime):
        second = await refund_mirror()

    line = _mirakl_line(sandbox, line_id)
    assert [r.amount for r in line.refunds] == [line.price / 2, line.price / 2]
    assert line.refundable() == (Decimal("0.00"), Decimal("0.00"))
    assert first.counts["refunds_to_mirakl"] == 1 and second.counts["refunds_to_mirakl"] == 1
    assert not first.quarantined and not second.quarantined


async def test_an_over_refund_is_quarantined_and_not_sent(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl
) -> None:
    routed = await route_world_order(runtime, sandbox, control, 100)
    line_a = routed.line_of(routed.logistic_order_ids[0])
    # The seller already refunded part of the line in Mirakl; the operator then refunds the whole product.
    await control.seller_refunds(routed.logistic_order_ids[0], line_a, Decimal("5.00"))
    await _refund_in_bigcommerce(runtime, 100, routed.lines[line_a][0], 1)
    with use_runtime(runtime):
        report = await refund_mirror()
        again = await refund_mirror()

    assert [r.amount for r in _mirakl_line(sandbox, line_a).refunds] == [Decimal("5.00")]  # only the seller's
    assert report.quarantined == {"refund exceeds amount paid": 1}
    assert "refunds_to_mirakl" not in report.counts
    assert not again.quarantined  # decided once, not quarantined again at every run
    with runtime.sessions() as session:
        assert quarantine_counts(session, "refund_mirror") == {"refund exceeds amount paid": 1}


async def test_seller_refunds_are_paid_back_in_bigcommerce_and_confirmed_with_pa02_after_one_or11_read(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl
) -> None:
    line_b, [refund_id, second_id] = await _seller_refunded(
        runtime, sandbox, control, Decimal("10.00"), Decimal("2.50")
    )
    with use_runtime(runtime):
        report = await refund_mirror()
        again = await refund_mirror()

    refunds = _bc_refunds(sandbox, 100)
    assert [r["total_amount"] for r in refunds] == [Decimal("10.80"), Decimal("2.70")]  # taxes included
    mirakl = {r.refund_id: r for r in _mirakl_line(sandbox, line_b).refunds}
    assert mirakl[refund_id].state == mirakl[second_id].state == "REFUNDED"
    assert mirakl[refund_id].transaction_number == str(refunds[0]["id"])
    assert report.counts["refunds_to_bigcommerce"] == 2 and report.counts["refunds_confirmed_to_mirakl"] == 2
    assert report.counts["confirmed_to_mirakl_amount"] == "13.50"
    # Both waiting refunds are served by one OR11 read (OR11's budget is one call a minute).
    assert {row["operation"]: row["calls"] for row in report.budget}["OR11"] == 1
    # Its own BigCommerce refunds are not mirrored back to Mirakl as OR28.
    assert "refunds_to_mirakl" not in report.counts and "refunds_to_mirakl" not in again.counts
    assert len(_bc_refunds(sandbox, 100)) == 2 and len(mirakl) == 2


async def test_bigcommerce_refusing_the_refund_sends_no_pa02_and_opens_an_exception(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl
) -> None:
    line_b, [refund_id] = await _seller_refunded(runtime, sandbox, control, Decimal("10.00"))
    await control.bc_status(100, 5)  # cancelled: BigCommerce no longer has a payment to refund
    with use_runtime(runtime):
        report = await refund_mirror()
        again = await refund_mirror()

    assert _bc_refunds(sandbox, 100) == []
    assert _mirakl_line(sandbox, line_b).refunds[0].state == "WAITING_REFUND_PAYMENT"  # no PA02
    assert report.counts["refunds_refused_by_bigcommerce"] == 1
    assert [a.event for a in report.alerts] == ["bcmirakl.refunds.not-paid"]
    assert again.alerts == []
    with runtime.sessions() as session:
        [case] = unresolved_cs_cases(session, "refund_mirror")
        assert (case.key, case.kind) == (f"mirakl-refund:{refund_id}", "refund-not-paid")
        assert ledger_get(session, "mirakl", "PA02", f"pa02:{refund_id}") is None


async def test_rerun_after_a_crash_mid_batch_makes_no_duplicate_refund_either_way(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    routed = await route_world_order(runtime, sandbox, control, 100)
    line_a, line_b = (routed.line_of(order) for order in routed.logistic_order_ids)
    await _refund_in_bigcommerce(runtime, 100, routed.lines[line_a][0], 1)
    await control.seller_refunds(routed.logistic_order_ids[1], line_b, Decimal("10.00"))
    real_or28, real_refund = runtime.mirakl.create_refunds, runtime.bigcommerce.create_refund

    async def or28_then_crash(*args: Any, **kwargs: Any) -> Any:
        await real_or28(*args, **kwargs)
        raise RuntimeError("worker killed after OR28")

    async def refund_then_crash(*args: Any, **kwargs: Any) -> Any:
        await real_refund(*args, **kwargs)
        raise RuntimeError("worker killed after the BigCommerce refund")

    monkeypatch.setattr(runtime.mirakl, "create_refunds", or28_then_crash)
    with use_runtime(runtime), pytest.raises(RuntimeError, match="OR28"):
        await refund_mirror()
    monkeypatch.setattr(runtime.mirakl, "create_refunds", real_or28)
    monkeypatch.setattr(runtime.bigcommerce, "create_refund", refund_then_crash)
    with use_runtime(runtime), pytest.raises(RuntimeError, match="BigCommerce refund"):
        await refund_mirror()
    monkeypatch.setattr(runtime.bigcommerce, "create_refund", real_refund)
    with use_runtime(runtime):
        report = await refund_mirror()

    assert len(_mirakl_line(sandbox, line_a).refunds) == 1
    assert len(_mirakl_line(sandbox, line_b).refunds) == 1
    assert len(_bc_refunds(sandbox, 100)) == 2  # the operator's refund and one payment of the seller's refund
    assert all(r.state == "REFUNDED" for line in (line_a, line_b) for r in _mirakl_line(sandbox, line).refunds)
    assert report.counts["refunds_confirmed_to_mirakl"] == 2


async def test_a_seller_refund_on_a_card_order_is_paid_back_to_the_card_not_the_store_credit_listed_first(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl
) -> None:
    routed = await route_world_order(runtime, sandbox, control, REGISTERED)
    line = routed.line_of(routed.logistic_order_ids[0])
    [refund_id] = await control.seller_refunds(routed.logistic_order_ids[0], line, Decimal("10.00"))
    with use_runtime(runtime):
        report = await refund_mirror()

    [refund] = _bc_refunds(sandbox, REGISTERED)
    assert [(p["provider_id"], p["offline"]) for p in refund["payments"]] == [("braintree", False)]
    assert _mirakl_line(sandbox, line).refunds[0].state == "REFUNDED"
    assert report.counts["refunds_confirmed_to_mirakl"] == 1
    with runtime.sessions() as session:
        assert ledger_get(session, "mirakl", "PA02", f"pa02:{refund_id}") is not None


async def test_a_quote_offering_only_store_credit_or_an_offline_record_is_refused_with_an_exception_and_no_pa02(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl
) -> None:
    routed = await route_world_order(runtime, sandbox, control, REGISTERED)
    line = routed.line_of(routed.logistic_order_ids[0])
    [refund_id] = await control.seller_refunds(routed.logistic_order_ids[0], line, Decimal("10.00"))
    sandbox.bigcommerce.state.store.orders[REGISTERED].gateway_refunds = False  # quote: store credit, custom
    with use_runtime(runtime):
        report = await refund_mirror()

    assert _bc_refunds(sandbox, REGISTERED) == []
    assert _mirakl_line(sandbox, line).refunds[0].state == "WAITING_REFUND_PAYMENT"
    assert report.counts["refunds_refused_by_bigcommerce"] == 1
    with runtime.sessions() as session:
        [case] = unresolved_cs_cases(session, "refund_mirror")
        assert case.kind == "refund-not-paid" and "gateway" in case.detail["error"]
        assert ledger_get(session, "mirakl", "PA02", f"pa02:{refund_id}") is None


@pytest.mark.parametrize("outcome", ["declined", "pending"])
async def test_a_declined_or_pending_refund_payment_gets_no_pa02(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl, outcome: str
) -> None:
    routed = await route_world_order(runtime, sandbox, control, REGISTERED)
    line = routed.line_of(routed.logistic_order_ids[0])
    [refund_id] = await control.seller_refunds(routed.logistic_order_ids[0], line, Decimal("10.00"))
    await control.post("/bigcommerce/_sandbox/refund-payments", {"outcome": outcome})
    with use_runtime(runtime):
        report = await refund_mirror()
        again = await refund_mirror()

    assert len(_bc_refunds(sandbox, REGISTERED)) == 1  # made once, never again
    assert _mirakl_line(sandbox, line).refunds[0].state == "WAITING_REFUND_PAYMENT"  # no PA02
    assert "refunds_confirmed_to_mirakl" not in report.counts and "refunds_confirmed_to_mirakl" not in again.counts
    with runtime.sessions() as session:
        cases = [(c.key, c.kind) for c in unresolved_cs_cases(session, "refund_mirror")]
    if outcome == "declined":
        assert cases == [(f"mirakl-refund:{refund_id}", "refund-not-paid")]
    else:
        assert cases == [] and again.counts["refunds_payment_pending"] == 1


async def test_where_partial_refunds_are_disabled_seller_refunds_are_confirmed_per_order_line(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl
) -> None:
    sandbox.mirakl.state.store.settings.partial_refunds = False
    runtime.config = runtime.config.model_copy(
        update={"refunds": runtime.config.refunds.model_copy(update={"refund_confirmation": "order_lines"})}
    )
    line_b, refund_ids = await _seller_refunded(runtime, sandbox, control, Decimal("10.00"), Decimal("2.50"))
    with use_runtime(runtime):
        report = await refund_mirror()
        again = await refund_mirror()

    assert [r.state for r in _mirakl_line(sandbox, line_b).refunds] == ["REFUNDED", "REFUNDED"]
    assert report.counts["refunds_confirmed_to_mirakl"] == 2 and report.counts["confirmed_to_mirakl_amount"] == "13.50"
    assert "refunds_confirmed_to_mirakl" not in again.counts and len(_bc_refunds(sandbox, 100)) == 2
    with runtime.sessions() as session:
        key = f"pa02:line:{line_b}:{'+'.join(sorted(refund_ids))}"
        assert ledger_get(session, "mirakl", "PA02", key) is not None


async def test_a_pa02_outage_fails_the_run_with_one_sentence_counting_the_refund_already_paid(
    runtime: Runtime, sandbox: Sandbox, control: SandboxControl, caplog: pytest.LogCaptureFixture
) -> None:
    await _seller_refunded(runtime, sandbox, control, Decimal("10.00"))
    outage = FaultRule(path=r"/api/payment/refund$", method="PUT", error_rate=1.0, status=503)
    sandbox.mirakl.state.faults.add_rule(outage)
    caplog.set_level(logging.INFO)
    with use_runtime(runtime), pytest.raises(TransientApiError):
        await refund_mirror()

    # The paying step broke after its BigCommerce refund: the failure sentence and the failed summary count it.
    sentence = (
        "refund_mirror stopped: Mirakl PA02 answered 503 after the HTTP layer's retries. "
        "Already written: 1 seller refunds made in BigCommerce. "
        "Nothing lost (the ledger and the queue keep the rest); retry when Mirakl answers."
    )
    assert told_once_before_the_traceback(caplog, sentence)
    lines = (Path(runtime.artifacts_dir) / "refund-mirror-summary.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"FAILED: {sentence}"
    assert len(_bc_refunds(sandbox, 100)) == 1
