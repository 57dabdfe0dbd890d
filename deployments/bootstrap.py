"""`bcmirakl bootstrap`: make a Prefect server ready for `prefect deploy --all`, idempotently.

It writes, from the environment: the credential Blocks workers read (`bridge.blocks`), the schedule
Variables prefect.yaml reads, the global concurrency limit that carries the BigCommerce quota for every
worker, the process work pool with one queue per stream (concurrency 1: a stream never runs twice at once),
and the alert automations with their notification Block. Running it again updates everything in place, except
schedule Variables an operator edited in the UI (the environment still overrides them on purpose).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from bridge.blocks import credentials_from_settings, save_credential_blocks
from bridge.settings import BridgeSettings
from deployments.automations import DEFAULT_HANDBOOK, apply_automations, notification_block_id
from deployments.plan import (
    PoolSpec,
    legacy_variable_names,
    load_deployments,
    load_pool,
    quota_gate,
    schedule_variables,
)

__all__ = ["BootstrapOptions", "bootstrap"]


@dataclass(frozen=True)
class BootstrapOptions:
    bc_quota: int = 150
    bc_quota_window_s: float = 30.0
    alert_webhook_url: str | None = None
    alert_block: str | None = None
    handbook_url: str = DEFAULT_HANDBOOK


async def bootstrap(settings: BridgeSettings, options: BootstrapOptions, say: Callable[[str], None] = print) -> None:
    """Apply every step against the server `PREFECT_API_URL` points at, reporting each as it completes."""
    pool = load_pool()
    names = await save_credential_blocks(
        credentials_from_settings(settings), pool.credential_blocks, settings.database_url
    )
    say(f"credential blocks: {', '.join(names)}")
    written = await _set_variables()
    say(f"variables: {len(written)} schedule variables set ({', '.join(sorted(written)) or 'none changed'})")
    gate = quota_gate(pool.quota_limit, options.bc_quota, options.bc_quota_window_s, settings.bc_reserve_share)
    await _set_quota_limit(gate.name, gate.limit, gate.slot_decay_per_second)
    say(f"concurrency limit {gate.name}: burst {gate.limit}, {gate.slot_decay_per_second}/s sustained")
    queues = await _ensure_work_pool(pool)
    say(f"work pool {pool.name} (process): queues {', '.join(queues)}, one run at a time each")
    block_id = await notification_block_id(options.alert_webhook_url, options.alert_block)
    if block_id is None:
        say("automations skipped: set BCMIRAKL_ALERT_WEBHOOK_URL or pass --alert-block to receive alerts")
        return
    rules = await apply_automations(block_id, options.handbook_url)
    say(f"automations: {', '.join(rules)}")


async def _set_variables() -> list[str]:
    """Set the schedule Variables; a value an operator set under a Variable's former name moves to the new one."""
    from prefect.variables import Variable

    values, explicit = schedule_variables()
    legacy = legacy_variable_names()
    written = []
    for name, value in values.items():
        former = await Variable.aget(legacy[name])
        if former is not None:
            await Variable.aunset(legacy[name])
        if name in explicit or await Variable.aget(name) is None:
            kept = value if name in explicit or former is None else str(former)
            await Variable.aset(name, kept, tags=["bcmirakl", "schedule"], overwrite=True)
            written.append(name if former is None else f"{name} (was {legacy[name]})")
    return written


async def _set_quota_limit(name: str, limit: int, decay: float) -> None:
    from prefect import get_client

    async with get_client() as client:
        await client.upsert_global_concurrency_limit_by_name(name, limit, slot_decay_per_second=decay)


async def _ensure_work_pool(pool: PoolSpec) -> list[str]:
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    queues = sorted({spec.work_queue for spec in load_deployments()})
    async with get_client() as client:
        with contextlib.suppress(ObjectAlreadyExists):
            await client.create_work_pool(
                WorkPoolCreate(
                    name=pool.name,
                    type=ProcessWorker.type,
                    base_job_template=ProcessWorker.get_default_base_job_template(),
                    description="bcmirakl: one subprocess per flow run",
                )
            )
        for queue in queues:
            try:
                existing = await client.read_work_queue_by_name(queue, work_pool_name=pool.name)
            except ObjectNotFound:
                await client.create_work_queue(queue, concurrency_limit=1, work_pool_name=pool.name)
                continue
            if existing.concurrency_limit != 1:
                await client.update_work_queue(existing.id, concurrency_limit=1)
    return queues
