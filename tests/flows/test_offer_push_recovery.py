"""The offer push converges after a crash or a refusal: a dead drain's claims are taken over by the next run (a
live one's are left alone), the drift monitor alerts on claims stuck under a silent worker, a variant
BigCommerce rejected once is pushed again by its next change or by `bcmirakl offers requeue`, a change
queued while an older state of its variant is in flight is pushed after it instead of being marked done, a queued
row whose payload does not fit its kind is quarantined while the rest of its claim goes out, and the drain can run
several times in one run (pushing the outbox as it fills), each drain counting only its own work."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prefect.runtime import flow_run
from sqlalchemy import select, update

import tasks.offers.push as push_module
from bcmirakl.cli import main
from bridge.config import load_config
from bridge.runtime import Runtime, use_runtime
from bridge.streams import Stream
from connectors.state import (
    LedgerEntry,
    OutboxItem,
    OutboxWorker,
    enqueue_many,
    quarantine_counts,
    queue_depth,
    register_worker,
)
from flows.drift_monitor import drift_monitor
from flows.offer_sync import offer_sync
from sandbox.app import Sandbox
from sandbox.faults import FaultRule
from tasks.leases import Lease, this_process
from tasks.offers import drain_outbox
from tasks.offers.calls import PushStats
from tasks.offers.payloads import MALFORMED
from tests.flows.test_offer_sync import sandbox_runtime, set_offers, single_good_offer_product, variant_for

KILLED = "offer-sync-killed"


@pytest.fixture
async def runtime(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Runtime]:
    config = load_config()
    config = config.model_copy(update={"offers": config.offers.model_copy(update={"export_poll_seconds": 0.0})})
    rt = await sandbox_runtime(sandbox, tmp_path, config)
    try:
        yield rt
    finally:
        await rt.aclose()


@asynccontextmanager
async def _killed_worker(rt: Runtime, stream: str) -> AsyncIterator[Lease]:
    """A drain whose process dies inside: it registered and claimed, then nothing (no beat, no release) ran."""
    with rt.sessions() as session:
        run_id = str(flow_run.get_id())
        register_worker(session, KILLED, stream, flow_run_id=run_id, host="another-host", pid=4242)
        session.commit()
    yield Lease(worker=KILLED)


async def _crash_mid_put(runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> str:
    """Full run, then a stock-out whose delta run is killed while its variant PUT is in flight; returns the SKU."""
    sku, offer_id = single_good_offer_product(sandbox)
    await offer_sync(mode="full")
    await set_offers(sandbox, [{"offer_id": offer_id, "quantity": 0}])

    async def killed(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("process killed while the variant PUT was in flight")

    with monkeypatch.context() as patch:
        patch.setattr(push_module, "outbox_worker", _killed_worker)
        patch.setattr(runtime.bigcommerce, "update_variants", killed)
        state = await offer_sync(mode="delta", return_state=True)
    assert state.is_failed()
    with runtime.sessions() as session:
        [held] = session.scalars(select(OutboxItem).where(OutboxItem.status == "in_flight")).all()
        assert held.claimed_by == KILLED and held.payload["product_sku"] == sku
    return sku


def _set_worker(runtime: Runtime, **values: Any) -> None:
    with runtime.sessions() as session:
        session.execute(update(OutboxWorker).where(OutboxWorker.worker == KILLED).values(**values))
        session.commit()


def _finished_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _started_ledger_rows(runtime: Runtime) -> list[LedgerEntry]:
    with runtime.sessions() as session:
        return list(session.scalars(select(LedgerEntry).where(LedgerEntry.outcome == "started")))


@pytest.mark.parametrize("death", ["flow run failed", "heartbeat stopped", "process gone"])
async def test_a_drain_killed_mid_put_is_taken_over_at_once_by_the_next_run(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, death: str
) -> None:
    with use_runtime(runtime):
        sku = await _crash_mid_put(runtime, sandbox, monkeypatch)
        if death == "heartbeat stopped":
            _set_worker(runtime, flow_run_id=None, heartbeat_at=datetime.now(UTC) - timedelta(minutes=2))
        elif death == "process gone":
            host, _ = this_process()
            _set_worker(runtime, flow_run_id=None, host=host, pid=_finished_pid())
        assert variant_for(sandbox, sku)["purchasing_disabled"] is False  # the stock-out never reached BigCommerce
        report = await offer_sync(mode="delta")

    variant = variant_for(sandbox, sku)
    assert variant["inventory_level"] == 0 and variant["purchasing_disabled"] is True
    assert report.counts["taken_over_from_dead_workers"] == 1
    assert _started_ledger_rows(runtime) == []  # the killed PUT's row is closed, with why
    with runtime.sessions() as session:
        assert queue_depth(session, Stream.OFFER_SYNC)["in_flight"] == 0
        assert session.get(OutboxWorker, KILLED) is None
        [closed] = session.scalars(select(LedgerEntry).where(LedgerEntry.detail["worker"].as_string() == KILLED))
        assert closed.outcome == "failed" and "items requeued" in closed.detail["resolution"]


async def test_a_live_drain_keeps_its_claims_and_a_silent_one_raises_the_drift_alarm(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    with use_runtime(runtime):
        sku = await _crash_mid_put(runtime, sandbox, monkeypatch)
        _set_worker(runtime, flow_run_id=None, heartbeat_at=datetime.now(UTC))  # still beating, elsewhere
        report = await offer_sync(mode="delta")
        assert report.counts["taken_over_from_dead_workers"] == 0
        assert variant_for(sandbox, sku)["purchasing_disabled"] is False  # its worker is pushing it
        with runtime.sessions() as session:
            assert queue_depth(session, Stream.OFFER_SYNC)["in_flight"] == 1
        healthy = await drift_monitor()
        _set_worker(runtime, heartbeat_at=datetime.now(UTC) - timedelta(minutes=5))  # it stopped beating
        # Claims are renewed with the heartbeat: age them too, as a silent worker's would be.
        with runtime.sessions() as session:
            stale = datetime.now(UTC) - timedelta(minutes=5)
            session.execute(update(OutboxItem).where(OutboxItem.claimed_by == KILLED).values(claimed_at=stale))
            session.commit()
        alarmed = await drift_monitor()

    assert healthy.counts["outbox_stuck_in_flight"] == 0
    assert "bcmirakl.drift.stuck-in-flight" not in {a.event for a in healthy.alerts}
    assert alarmed.counts["outbox_stuck_in_flight"] == 1
    assert [row["worker"] for row in alarmed.tables["stuck-in-flight"]] == [KILLED]
    assert "bcmirakl.drift.stuck-in-flight" in {a.event for a in alarmed.alerts}


async def test_a_variant_rejected_once_is_pushed_by_its_next_change(runtime: Runtime, sandbox: Sandbox) -> None:
    sku, offer_id = single_good_offer_product(sandbox)
    reject_once = FaultRule(path=r"/v3/catalog/variants$", method="PUT", partial_failure_rate=1.0, times=1)
    with use_runtime(runtime):
        await offer_sync(mode="full")
        before = variant_for(sandbox, sku)["inventory_level"]
        sandbox.bigcommerce.state.faults.add_rule(reject_once)
        await set_offers(sandbox, [{"offer_id": offer_id, "quantity": before + 3}])
        rejected = await offer_sync(mode="delta")
        assert variant_for(sandbox, sku)["inventory_level"] == before
        assert any(reason.startswith("rejected by BigCommerce") for reason in rejected.quarantined)
        await set_offers(sandbox, [{"offer_id": offer_id, "quantity": 0}])  # sold out at its only seller
        sold_out = await offer_sync(mode="delta")

    variant = variant_for(sandbox, sku)
    assert variant["inventory_level"] == 0 and variant["purchasing_disabled"] is True
    assert sold_out.counts["held_superseded"] == 1 and sold_out.counts["pushed"] == 1
    with runtime.sessions() as session:
        assert queue_depth(session, Stream.OFFER_SYNC)["quarantined"] == 0
        assert not any(r.startswith("rejected by BigCommerce") for r in quarantine_counts(session, Stream.OFFER_SYNC))


async def test_offers_requeue_pushes_a_held_variant_again(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sku, offer_id = single_good_offer_product(sandbox)
    reject_once = FaultRule(path=r"/v3/catalog/variants$", method="PUT", partial_failure_rate=1.0, times=1)
    with use_runtime(runtime):
        await offer_sync(mode="full")
        sandbox.bigcommerce.state.faults.add_rule(reject_once)
        await set_offers(sandbox, [{"offer_id": offer_id, "price": "77.70"}])
        await offer_sync(mode="delta")
        assert Decimal(str(variant_for(sandbox, sku)["price"])) != Decimal("77.70")
        unchanged = await offer_sync(mode="full")  # the same price change again: still held, not re-sent
        assert unchanged.counts["held_superseded"] == 0
        assert Decimal(str(variant_for(sandbox, sku)["price"])) != Decimal("77.70")

        monkeypatch.setenv("BCMIRAKL_DATABASE_URL", runtime.engine.url.render_as_string(hide_password=False))
        assert main(["offers", "held"]) == 0
        assert sku in capsys.readouterr().out
        assert main(["offers", "requeue", "--sku", sku]) == 0
        assert "1 held offer push(es) requeued" in capsys.readouterr().out
        await offer_sync(mode="delta")

    assert Decimal(str(variant_for(sandbox, sku)["price"])) == Decimal("77.70")


async def test_a_refused_stock_out_is_sent_again_by_the_next_full_run(runtime: Runtime, sandbox: Sandbox) -> None:
    """Chaos seed 173: a stock-out BigCommerce refused once stayed held, the variant buyable, through every clean
    run; the same unbuyable change now comes back (it carries nothing BigCommerce could find invalid)."""
    sku, offer_id = single_good_offer_product(sandbox)
    reject_once = FaultRule(path=r"/v3/catalog/variants$", method="PUT", partial_failure_rate=1.0, times=1)
    with use_runtime(runtime):
        await offer_sync(mode="full")
        sandbox.bigcommerce.state.faults.add_rule(reject_once)
        await set_offers(sandbox, [{"offer_id": offer_id, "quantity": 0}])
        await offer_sync(mode="delta")
        assert variant_for(sandbox, sku)["purchasing_disabled"] is False
        again = await offer_sync(mode="full")

    assert again.counts["held_superseded"] == 1
    variant = variant_for(sandbox, sku)
    assert variant["inventory_level"] == 0 and variant["purchasing_disabled"] is True


async def test_a_change_queued_while_an_older_state_of_the_variant_is_in_flight_is_pushed_after_it(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sku, offer_id = single_good_offer_product(sandbox)
    real_put = runtime.bigcommerce.update_variants
    calls: list[int] = []

    async def put_while_a_sell_out_is_queued(updates: Any) -> Any:
        calls.append(len(updates))
        if len(calls) == 1:  # another cycle queues the variant's sell-out under the same key meanwhile
            with runtime.sessions() as session:
                [item] = session.scalars(
                    select(OutboxItem).where(OutboxItem.status == "in_flight", OutboxItem.kind == "variant")
                ).all()
                sold_out = {
                    **item.payload,
                    "inventory_level": 0,
                    "purchasing_disabled": True,
                    "purchasing_disabled_message": runtime.config.offers.unbuyable_message,
                    "stock_only": False,
                    "hash": "sold-out",
                }
                enqueue_many(session, Stream.OFFER_SYNC, "variant", [(item.idempotency_key, sold_out)])
                session.commit()
        return await real_put(updates)

    with use_runtime(runtime):
        await offer_sync(mode="full")
        before = variant_for(sandbox, sku)["inventory_level"]
        await set_offers(sandbox, [{"offer_id": offer_id, "quantity": before + 4}])
        monkeypatch.setattr(runtime.bigcommerce, "update_variants", put_while_a_sell_out_is_queued)
        await offer_sync(mode="delta")

    variant = variant_for(sandbox, sku)
    assert calls == [1, 1]  # the restock, then the sell-out queued while it was in flight
    assert variant["inventory_level"] == 0 and variant["purchasing_disabled"] is True
    with runtime.sessions() as session:
        assert queue_depth(session, Stream.OFFER_SYNC)["pending"] == 0


async def test_a_drain_failing_outside_the_api_leaves_only_its_call_in_flight_started(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim's calls are begun together; when a bug ends the drain at its first call, the calls never made are
    closed `failed` (the worker's end releases their items, and no takeover would close them), so only the call
    whose outcome is unknown stays `started`."""
    config = load_config()
    offers = config.offers.model_copy(update={"export_poll_seconds": 0.0, "push_batch_size": 1})
    rt = await sandbox_runtime(sandbox, tmp_path, config.model_copy(update={"offers": offers}))

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug in the drain, not an API answer")

    monkeypatch.setattr(rt.bigcommerce, "update_variants", broken)
    try:
        with use_runtime(rt):
            state = await offer_sync(mode="full", return_state=True)
        assert state.is_failed()
        with rt.sessions() as session:
            rows = session.scalars(select(LedgerEntry).where(LedgerEntry.operation == "update_variants")).all()
            assert queue_depth(session, Stream.OFFER_SYNC)["in_flight"] == 0
    finally:
        await rt.aclose()
    outcomes = sorted(row.outcome for row in rows)
    assert len(rows) > 1 and outcomes.count("started") == 1
    assert set(outcomes) == {"started", "failed"}


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
