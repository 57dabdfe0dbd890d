"""The offer drain can run several times in one run (pushing the outbox as it fills): each drain pushes what is
queued when it runs and counts only its own work, and the run's totals add up. A queued row whose payload does not
fit its kind is quarantined with why, and the rest of the claim still goes out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bridge.config import load_config
from bridge.runtime import Runtime, use_runtime
from bridge.streams import Stream
from connectors.state import OutboxItem, enqueue_many, quarantine_counts, queue_depth
from flows.offer_sync import offer_sync
from sandbox.app import Sandbox
from tasks.offers import drain_outbox
from tasks.offers.calls import PushStats
from tasks.offers.payloads import MALFORMED
from tests.flows.test_offer_sync import sandbox_runtime, variant_for


@pytest.fixture
async def runtime(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Runtime]:
    config = load_config()
    config = config.model_copy(update={"offers": config.offers.model_copy(update={"export_poll_seconds": 0.0})})
    rt = await sandbox_runtime(sandbox, tmp_path, config)
    try:
        yield rt
    finally:
        await rt.aclose()


def _pushed_payloads(runtime: Runtime, count: int) -> list[dict[str, Any]]:
    """Payloads of variant changes the full run pushed (done), for variants the bridge owns."""
    with runtime.sessions() as session:
        query = select(OutboxItem).where(OutboxItem.kind == "variant", OutboxItem.status == "done")
        return [dict(item.payload) for item in session.scalars(query.order_by(OutboxItem.id).limit(count))]


def _restock(runtime: Runtime, key: str, payload: dict[str, Any]) -> int:
    """Queue the same variant with four more in stock; returns the new level."""
    level = int(payload["inventory_level"]) + 4
    with runtime.sessions() as session:
        enqueue_many(session, Stream.OFFER_SYNC, "variant", [(key, {**payload, "inventory_level": level})])
        session.commit()
    return level


async def test_two_drains_in_one_run_each_push_what_is_queued_then_and_their_counts_add_up(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    with use_runtime(runtime):
        await offer_sync(mode="full")
        first_payload, second_payload = _pushed_payloads(runtime, 2)
        first_level = _restock(runtime, "test:first", first_payload)
        first = await drain_outbox(runtime)
        second_level = _restock(runtime, "test:second", second_payload)
        second = await drain_outbox(runtime)

    assert (first.pushed, first.batches, first.left) == (1, 1, 0)
    assert (second.pushed, second.batches, second.left) == (1, 1, 0)
    run = PushStats()
    run.add(first)
    run.add(second)
    assert (run.pushed, run.calls, run.left) == (2, 2, 0)
    assert [row["product_sku"] for row in run.changes] == [first_payload["product_sku"], second_payload["product_sku"]]
    assert variant_for(sandbox, first_payload["product_sku"])["inventory_level"] == first_level
    assert variant_for(sandbox, second_payload["product_sku"])["inventory_level"] == second_level


async def test_a_malformed_queued_change_is_quarantined_and_the_rest_of_its_claim_is_pushed(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    with use_runtime(runtime):
        await offer_sync(mode="full")
        (good,) = _pushed_payloads(runtime, 1)
        level = _restock(runtime, "test:good", good)
        with runtime.sessions() as session:
            broken = {**good, "variant_id": "not-a-number"}
            enqueue_many(session, Stream.OFFER_SYNC, "variant", [("test:broken", broken)])
            session.commit()
        stats = await drain_outbox(runtime)

    assert stats.pushed == 1 and stats.quarantined == {MALFORMED: 1}
    assert variant_for(sandbox, good["product_sku"])["inventory_level"] == level
    with runtime.sessions() as session:
        assert quarantine_counts(session, Stream.OFFER_SYNC)[MALFORMED] == 1
        assert queue_depth(session, Stream.OFFER_SYNC)["quarantined"] == 1
