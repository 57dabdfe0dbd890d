"""What each run says: a failed run still publishes its summary with what it wrote, a retried run lists every
attempt's writes, a retried task counts once, and an API outage is told in one sentence and retried once."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bridge.runtime import Runtime, use_runtime
from common.errors import TransientApiError
from connectors.state import attempts_of
from flows.drift_monitor import drift_monitor
from flows.order_routing import order_routing
from sandbox.app import Sandbox
from sandbox.faults import FaultRule
from tests.support.logs import told_once_before_the_traceback
from tests.support.orders import seed_offer_map

PAID = (100, 101, 102, 105, 108, 111)  # the seed's Awaiting Fulfillment orders, all with marketplace lines
RUN_ID = "3b7f0000-0000-4000-8000-000000000001"
FAILED_RUN_ID = "3b7f0000-0000-4000-8000-000000000002"


def summary(runtime: Runtime, stream: str) -> list[str]:
    return (Path(runtime.artifacts_dir) / f"{stream}-summary.md").read_text(encoding="utf-8").splitlines()


def fail_after_routing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The step after the pages (the outage check) breaks: the orders are routed, the run fails."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the state store went away")

    monkeypatch.setattr("flows.order_routing.report_deferrals", broken)


async def test_a_run_failing_after_writes_publishes_a_failed_summary_with_those_writes(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_offer_map(runtime, sandbox, PAID)
    fail_after_routing(monkeypatch)
    with use_runtime(runtime), pytest.raises(RuntimeError):
        await order_routing()

    lines = summary(runtime, "order-routing")
    assert lines[0].startswith("FAILED: order_routing stopped on an unexpected RuntimeError. Already written: ")
    assert "orders routed" in lines[0] and lines[0].endswith("retry the run once the cause below is fixed.")
    routed = next(line for line in lines if line.startswith("| orders routed |"))
    assert int(routed.split("|")[2]) >= 1
    assert "_failed · generated" in "\n".join(lines)


async def test_a_failed_run_keeps_the_api_calls_it_made_before_failing(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_offer_map(runtime, sandbox, PAID)
    monkeypatch.setattr("tasks.runs._flow_run_id", lambda: FAILED_RUN_ID)
    fail_after_routing(monkeypatch)
    with use_runtime(runtime), pytest.raises(RuntimeError):
        await order_routing()

    with runtime.sessions() as session:
        [attempt] = attempts_of(session, FAILED_RUN_ID)
    assert attempt.state == "failed"
    assert attempt.measures["api_calls_bigcommerce"] >= 1 and attempt.measures["api_calls_mirakl"] >= 1
    assert any(line.startswith("| bigcommerce API calls |") for line in summary(runtime, "order-routing"))


async def test_a_retried_run_lists_the_writes_of_every_earlier_attempt(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seed_offer_map(runtime, sandbox, PAID)
    monkeypatch.setattr("tasks.runs._flow_run_id", lambda: RUN_ID)  # a retry from the UI keeps the run's id
    with monkeypatch.context() as broken:
        fail_after_routing(broken)
        with use_runtime(runtime), pytest.raises(RuntimeError):
            await order_routing()
    caplog.set_level(logging.INFO)
    with use_runtime(runtime):
        report = await order_routing()

    assert report.state == "completed"
    with runtime.sessions() as session:
        assert [(r.attempt, r.state) for r in attempts_of(session, RUN_ID)] == [(1, "failed"), (2, "completed")]
    first = report.attempts[0]
    assert first["state"] == "failed" and first["writes"]["orders_routed"] >= 1
    lines = summary(runtime, "order-routing")
    assert "## Earlier attempts of this run" in lines
    assert any(line.startswith("| 1 | failed | ") and "orders routed" in line for line in lines)
    assert lines[0] in [r.getMessage() for r in caplog.records]  # the Logs tab ends with the verdict


async def test_a_page_whose_task_is_retried_counts_its_orders_once(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.order_routing as flow_module
    import tasks.orders.route as route

    seed_offer_map(runtime, sandbox, PAID)
    real_write_cx = route._write_cx
    failures: list[int] = []

    async def write_cx_failing_once(*args: object) -> None:
        if not failures:
            failures.append(1)  # after the page counted and routed its orders: the retry must not count again
            raise TransientApiError("page body cut short", system="bigcommerce", operation="metafields", status=None)
        await real_write_cx(*args)

    monkeypatch.setattr(route, "_write_cx", write_cx_failing_once)
    fast = flow_module.route_order_page.with_options(retry_delay_seconds=0, retry_jitter_factor=None)
    monkeypatch.setattr(flow_module, "route_order_page", fast)
    with use_runtime(runtime):
        report = await order_routing()

    assert failures == [1]
    orders = len(sandbox.bigcommerce.state.store.orders)
    assert report.counts["orders_seen"] == orders  # counted twice (once per attempt) before tasks returned tallies


async def test_a_mirakl_outage_fails_after_one_retry_budget_with_one_plain_sentence_first(
    runtime: Runtime, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.mirakl.state.faults.add_rule(FaultRule(path=r"/api/shops$", error_rate=1.0, status=503))
    caplog.set_level(logging.INFO)
    with use_runtime(runtime), pytest.raises(TransientApiError):
        await drift_monitor()

    # The HTTP layer's attempts only: the task did not run that loop again (6, not 18 requests).
    assert sandbox.mirakl.state.faults.injected_total == 6
    sentence = (
        "drift_monitor stopped: Mirakl S20 answered 503 after the HTTP layer's retries. Already written: nothing. "
        "Nothing lost (the ledger and the queue keep the rest); retry when Mirakl answers."
    )
    assert told_once_before_the_traceback(caplog, sentence)
    assert summary(runtime, "drift-monitor")[0] == f"FAILED: {sentence}"
