"""`bcmirakl bootstrap` against a real Prefect API (the session's test harness), and the shared quota gate.

Proves what a fresh server holds afterwards (credential Blocks a run can read back, schedule Variables, the
BigCommerce quota limit, the process pool with single-slot queues, the alert automations), that a second
bootstrap keeps an operator's schedule edit, and that under deployments every BigCommerce request takes a
slot of the named Prefect limit, failing loudly when that limit is missing.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bridge.blocks import load_credentials, load_database_url
from bridge.runtime import build_runtime
from bridge.sandbox_settings import sandbox_settings
from deployments.automations import ALERT_RULES
from deployments.bootstrap import BootstrapOptions, bootstrap
from deployments.plan import load_deployments
from sandbox.app import Sandbox

pytestmark = pytest.mark.flow


async def test_bootstrap_prepares_everything_deployments_need_and_keeps_operator_edits(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect import get_client
    from prefect.automations import Automation
    from prefect.variables import Variable

    settings = sandbox_settings(sandbox.base_url, tmp_path)
    options = BootstrapOptions(alert_webhook_url="http://127.0.0.1:9/alerts/hook")
    said: list[str] = []
    await bootstrap(settings, options, say=said.append)

    credentials = await load_credentials("bcmirakl")
    assert credentials.bigcommerce.store_hash == "sandbox"
    assert credentials.bigcommerce.access_token.get_secret_value() == "sandbox-token"
    assert credentials.mirakl.front_api_key.get_secret_value() == "sandbox-mirakl-key"
    assert credentials.mirakl.operator_api_key.get_secret_value() == "sandbox-mirakl-operator-key"
    assert (credentials.erp.base_url, credentials.erp.token.get_secret_value()) == (
        sandbox.erp_url,
        "sandbox-erp-token",
    )
    assert await load_database_url("bcmirakl") == settings.database_url
    assert all("sandbox-token" not in line for line in said)  # progress lines never carry a secret

    assert await Variable.aget("order_routing_cron_bcmirakl") == "* * * * *"
    async with get_client() as client:
        limit = await client.read_global_concurrency_limit_by_name("bigcommerce-api")
        assert (limit.limit, limit.slot_decay_per_second) == (14, pytest.approx(4.0333))
        pool = await client.read_work_pool("bcmirakl-process")
        assert pool.type == "process"
        queues = {q.name: q.concurrency_limit for q in await client.read_work_queues(work_pool_name=pool.name)}
    assert {spec.work_queue: 1 for spec in load_deployments()}.items() <= queues.items()
    for rule in ALERT_RULES:
        automation = await Automation.aread(name=rule.name)
        assert automation.trigger.expect == set(rule.expect)

    # An operator slows the drift monitor in the UI; the environment moves the order routing schedule.
    await Variable.aset("drift_monitor_cron_bcmirakl", "0 * * * *", overwrite=True)
    monkeypatch.setenv("BCMIRAKL_SCHEDULE_ORDER_ROUTING_CRON", "*/3 * * * *")
    # A server bootstrapped before the Variables were renamed, with an operator's edit under the old name.
    await Variable.aunset("shipment_sync_cron_bcmirakl")
    await Variable.aset("bcmirakl_schedule_shipment_sync_cron", "*/10 * * * *")
    await bootstrap(settings, options, say=said.append)
    assert await Variable.aget("shipment_sync_cron_bcmirakl") == "*/10 * * * *"
    assert await Variable.aget("bcmirakl_schedule_shipment_sync_cron") is None
    assert await Variable.aget("drift_monitor_cron_bcmirakl") == "0 * * * *"
    assert await Variable.aget("order_routing_cron_bcmirakl") == "*/3 * * * *"
    for rule in ALERT_RULES:  # replaced by name, not duplicated
        async with get_client() as client:
            assert len(await client.read_automations_by_name(name=rule.name)) == 1


async def test_every_bigcommerce_request_takes_a_slot_of_the_named_limit(sandbox: Sandbox, tmp_path: Path) -> None:
    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    async with get_client() as client:
        await client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name="bc-gate-test", limit=1000, slot_decay_per_second=0.001)
        )
    transport = httpx.ASGITransport(app=sandbox.app)
    runtime = build_runtime(
        sandbox_settings(sandbox.base_url, tmp_path, bc_concurrency_limit="bc-gate-test"), transport=transport
    )
    try:
        await runtime.bigcommerce.list_order_statuses()
        await runtime.bigcommerce.list_locations()
    finally:
        await runtime.aclose()
    async with get_client() as client:
        limit = await client.read_global_concurrency_limit_by_name("bc-gate-test")
    assert limit.active_slots == 2


async def test_a_missing_quota_limit_fails_the_request_instead_of_running_unthrottled(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    from prefect.concurrency._asyncio import ConcurrencySlotAcquisitionError

    transport = httpx.ASGITransport(app=sandbox.app)
    runtime = build_runtime(
        sandbox_settings(sandbox.base_url, tmp_path, bc_concurrency_limit="no-such-limit"), transport=transport
    )
    try:
        with pytest.raises(ConcurrencySlotAcquisitionError):
            await runtime.bigcommerce.list_order_statuses()
        assert runtime.api_calls()["bigcommerce"] == 0
    finally:
        await runtime.aclose()
