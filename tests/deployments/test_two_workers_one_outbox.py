"""Two workers draining one outbox on PostgreSQL push every change exactly once.

Under deployments several process workers run the same stream's drain against one state store; the claim
(`FOR UPDATE SKIP LOCKED`, then in-flight under a lease) is what keeps them from pushing a change twice.
Each worker here is a thread with its own connections, looping claim -> push -> mark done like a real drain.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, make_url, text

from connectors.state import claim_batch, create_state_engine, enqueue_many, mark_done, queue_depth, session_factory
from connectors.state import upgrade as upgrade_schema

POSTGRES_URL_ENV = "BCMIRAKL_TEST_POSTGRES_URL"
SCHEMA = f"bcmirakl_two_workers_{os.getpid()}"
CHANGES = 300


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        message = f"{POSTGRES_URL_ENV} is not set; sharing an outbox between workers needs PostgreSQL"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    admin = create_state_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
    engine = create_state_engine(scoped.render_as_string(hide_password=False))
    upgrade_schema(engine)
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    admin.dispose()


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
