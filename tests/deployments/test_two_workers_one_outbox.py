"""Two workers draining one outbox on PostgreSQL push every change exactly once.

Under deployments several process workers run the same stream's drain against one state store; the claim
(`FOR UPDATE SKIP LOCKED`, then in-flight under a lease) is what keeps them from pushing a change twice.
Each worker here is a thread with its own connections, looping claim -> push -> mark done like a real drain.
A drain that starts while another worker's claims are in flight takes them over only if that worker is dead.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, select, update

from connectors.state import (
    OutboxItem,
    OutboxWorker,
    claim_batch,
    enqueue_many,
    mark_done,
    queue_depth,
    register_worker,
    session_factory,
)
from tests.support.postgres import migrated_postgres_engine

CHANGES = 300


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """Sharing an outbox between workers needs PostgreSQL's row locks."""
    yield from migrated_postgres_engine()


def test_two_workers_draining_one_outbox_push_each_change_once(postgres_engine: Engine) -> None:
    sessions = session_factory(postgres_engine)
    with sessions() as setup:
        changes = [(f"variant:{n}", {"variant_id": n, "inventory_level": n % 7}) for n in range(CHANGES)]
        assert enqueue_many(setup, "offer_sync", "variant", changes) == CHANGES
        setup.commit()

    pushed: Counter[str] = Counter()
    by_worker: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def drain(worker: str) -> None:
        try:
            start.wait()
            while True:
                with sessions() as session:
                    batch = claim_batch(session, "offer_sync", "variant", 25, worker)
                    session.commit()  # releases the row locks; the rows stay in flight under this worker's lease
                    if not batch:
                        return
                    for item in batch:
                        with lock:
                            pushed[item.idempotency_key] += 1
                            by_worker[worker] += 1
                    time.sleep(0.005)  # the API call: lets the other worker claim meanwhile
                    mark_done(session, [item.id for item in batch])
                    session.commit()
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    workers = [threading.Thread(target=drain, args=(name,)) for name in ("worker-a", "worker-b")]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)

    assert errors == []
    assert set(pushed) == {key for key, _ in changes}
    assert [key for key, count in pushed.items() if count > 1] == []
    assert by_worker["worker-a"] > 0 and by_worker["worker-b"] > 0
    assert sum(by_worker.values()) == CHANGES
    with sessions() as check:
        assert queue_depth(check, "offer_sync") == {
            "pending": 0,
            "in_flight": 0,
            "done": CHANGES,
            "failed": 0,
            "quarantined": 0,
        }


async def test_a_drain_takes_over_a_dead_workers_claims_at_once_and_leaves_a_live_workers_alone(
    postgres_engine: Engine,
) -> None:
    from tasks.leases import outbox_worker

    sessions = session_factory(postgres_engine)
    now = datetime.now(UTC)
    with sessions() as setup:
        enqueue_many(setup, "offer_sync", "variant", [(f"variant:{n}", {"variant_id": n}) for n in range(10)])
        register_worker(setup, "dead", "offer_sync", flow_run_id=None, host="elsewhere", pid=1, now=now)
        register_worker(setup, "live", "offer_sync", flow_run_id=None, host="elsewhere", pid=2, now=now)
        dead = {item.id for item in claim_batch(setup, "offer_sync", "variant", 5, "dead", now)}
        live = {item.id for item in claim_batch(setup, "offer_sync", "variant", 5, "live", now)}
        setup.execute(
            update(OutboxWorker).where(OutboxWorker.worker == "dead").values(heartbeat_at=now - timedelta(minutes=2))
        )  # killed two minutes ago: well inside the ten-minute lease
        setup.commit()

    async with outbox_worker(SimpleNamespace(sessions=sessions), "offer_sync") as lease:  # type: ignore[arg-type]
        with sessions() as session:
            taken = claim_batch(session, "offer_sync", "variant", 20, lease.worker)
            mark_done(session, [item.id for item in taken])
            session.commit()

    assert set(lease.taken_over) == {"dead"} and lease.released == 5
    assert {item.id for item in taken} == dead
    with sessions() as check:
        held = check.scalars(select(OutboxItem).where(OutboxItem.status == "in_flight")).all()
        assert {item.id for item in held} == live and {item.claimed_by for item in held} == {"live"}
        assert {w.worker for w in check.scalars(select(OutboxWorker))} == {"live"}
