"""The outbox: idempotent enqueue, batch claims that never hand one row to two workers, leases and retries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from connectors.state import (
    DEFAULT_LEASE,
    OutboxItem,
    claim_batch,
    enqueue,
    enqueue_many,
    mark_done,
    mark_failed,
    mark_quarantined,
    pending_count,
    queue_depth,
    requeue,
    session_factory,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _fill(session: Session, count: int, stream: str = "offers", kind: str = "price") -> None:
    enqueue_many(session, stream, kind, [(f"{stream}:{kind}:{i}", {"n": i}) for i in range(count)], now=T0)
    session.commit()


def _item(session: Session, key: str) -> OutboxItem:
    return session.scalars(
        select(OutboxItem).where(OutboxItem.idempotency_key == key).execution_options(populate_existing=True)
    ).one()


def test_enqueue_is_idempotent_on_key_and_keeps_the_latest_payload(session: Session) -> None:
    assert enqueue(session, "offers", "price", "sku-1:v1", {"price": "10.00"}) is True
    assert enqueue(session, "offers", "price", "sku-1:v1", {"price": "11.00"}) is False
    session.commit()
    rows = session.scalars(select(OutboxItem)).all()
    assert [(row.idempotency_key, row.payload, row.status) for row in rows] == [
        ("sku-1:v1", {"price": "11.00"}, "pending")
    ]


def test_enqueue_leaves_a_done_item_untouched(session: Session) -> None:
    enqueue(session, "offers", "price", "k", {"v": 1})
    [item] = claim_batch(session, "offers", "price", 10, "w1", T0)
    mark_done(session, [item.id])
    session.commit()
    assert enqueue(session, "offers", "price", "k", {"v": 2}) is False
    session.commit()
    stored = _item(session, "k")
    assert (stored.status, stored.payload) == ("done", {"v": 1})


def test_enqueue_many_counts_only_new_keys(session: Session) -> None:
    assert enqueue_many(session, "offers", "stock", [("a", {"q": 1}), ("b", {"q": 2})]) == 2
    assert enqueue_many(session, "offers", "stock", [("b", {"q": 3}), ("c", {"q": 4})]) == 1
    session.commit()
    assert queue_depth(session, "offers")["pending"] == 3
    assert _item(session, "b").payload == {"q": 3}


def test_the_pending_count_of_a_drain_is_its_kinds_waiting_items_of_its_stream(session: Session) -> None:
    _fill(session, 4)
    _fill(session, 2, kind="stock")
    _fill(session, 3, kind="other")
    _fill(session, 5, stream="orders")
    claim_batch(session, "offers", "price", 1, "w1", T0)  # in flight, no longer waiting
    session.commit()

    assert pending_count(session, "offers", ["price", "stock"]) == 3 + 2
    assert pending_count(session, "offers", ["other"]) == queue_depth(session, "offers")["pending"] - 5


def test_a_bulk_enqueue_beyond_one_statement_chunk_writes_and_counts_every_key(session: Session) -> None:
    items = [(f"k{i}", {"n": i}) for i in range(12_345)]
    assert enqueue_many(session, "offers", "price", items[:7_000], now=T0) == 7_000
    assert enqueue_many(session, "offers", "price", items, now=T0) == 12_345 - 7_000
    session.commit()
    assert pending_count(session, "offers", ["price"]) == 12_345
    assert _item(session, "k12344").payload == {"n": 12_344}


def test_claim_marks_in_flight_and_a_second_claim_gets_other_rows(session: Session) -> None:
    _fill(session, 5)
    first = claim_batch(session, "offers", "price", 3, "w1", T0)
    session.commit()
    second = claim_batch(session, "offers", "price", 3, "w2", T0)
    session.commit()
    assert [item.payload["n"] for item in first] == [0, 1, 2]
    assert [item.payload["n"] for item in second] == [3, 4]
    assert {(item.status, item.claimed_by, item.attempts, item.claimed_at) for item in first} == {
        ("in_flight", "w1", 1, T0)
    }
    assert claim_batch(session, "offers", "price", 3, "w3", T0) == []
    assert queue_depth(session, "offers") == {
        "pending": 0,
        "in_flight": 5,
        "done": 0,
        "failed": 0,
        "quarantined": 0,
    }


def test_claim_takes_only_the_requested_stream_and_kind(session: Session) -> None:
    _fill(session, 2, stream="offers", kind="price")
    _fill(session, 2, stream="offers", kind="stock")
    _fill(session, 2, stream="refunds", kind="price")
    claimed = claim_batch(session, "offers", "stock", 10, "w1", T0)
    assert [item.idempotency_key for item in claimed] == ["offers:stock:0", "offers:stock:1"]
    assert {item.kind for item in claimed} == {"stock"}


def test_stale_in_flight_rows_are_reclaimed_after_the_lease(session: Session) -> None:
    _fill(session, 2)
    claim_batch(session, "offers", "price", 10, "crashed-worker", T0)
    session.commit()
    assert claim_batch(session, "offers", "price", 10, "w2", T0 + DEFAULT_LEASE - timedelta(seconds=1)) == []
    later = T0 + DEFAULT_LEASE + timedelta(seconds=1)
    reclaimed = claim_batch(session, "offers", "price", 10, "w2", later)
    assert [(item.claimed_by, item.attempts, item.claimed_at) for item in reclaimed] == [("w2", 2, later)] * 2


def test_failed_item_with_retry_time_waits_then_is_claimed_again(session: Session) -> None:
    _fill(session, 1)
    [item] = claim_batch(session, "offers", "price", 1, "w1", T0)
    mark_failed(session, item.id, "HTTP 503 from BigCommerce", retry_at=T0 + timedelta(minutes=5))
    session.commit()
    assert claim_batch(session, "offers", "price", 1, "w1", T0 + timedelta(minutes=4)) == []
    [again] = claim_batch(session, "offers", "price", 1, "w1", T0 + timedelta(minutes=5))
    assert (again.id, again.attempts, again.last_error) == (item.id, 2, "HTTP 503 from BigCommerce")


def test_failed_item_without_retry_time_stays_failed_until_requeued(session: Session) -> None:
    _fill(session, 1)
    [item] = claim_batch(session, "offers", "price", 1, "w1", T0)
    mark_failed(session, item.id, "HTTP 422: invalid price")
    session.commit()
    assert _item(session, "offers:price:0").status == "failed"
    assert claim_batch(session, "offers", "price", 1, "w1", T0 + timedelta(days=1)) == []
    assert requeue(session, [item.id]) == 1
    [again] = claim_batch(session, "offers", "price", 1, "w1", T0 + timedelta(days=1))
    assert again.id == item.id


def test_quarantined_items_are_never_claimed_and_keep_the_reason(session: Session) -> None:
    _fill(session, 3)
    claimed = claim_batch(session, "offers", "price", 3, "w1", T0)
    assert mark_quarantined(session, [claimed[0].id, claimed[1].id], "variant not Mirakl-owned") == 2
    mark_done(session, [claimed[2].id])
    session.commit()
    assert claim_batch(session, "offers", "price", 3, "w1", T0 + timedelta(days=1)) == []
    assert _item(session, "offers:price:0").last_error == "variant not Mirakl-owned"
    assert queue_depth(session) == {"pending": 0, "in_flight": 0, "done": 1, "failed": 0, "quarantined": 2}


def test_concurrent_postgres_claims_get_disjoint_rows(postgres_engine: Engine) -> None:
    sessions = session_factory(postgres_engine)
    with sessions() as setup:
        _fill(setup, 10)
    with sessions() as first_worker, sessions() as second_worker:
        # Both transactions stay open: the first worker's row locks are held while the second one claims.
        first = claim_batch(first_worker, "offers", "price", 6, "w1", T0)
        second = claim_batch(second_worker, "offers", "price", 6, "w2", T0)
        first_worker.commit()
        second_worker.commit()
    first_ids = {item.id for item in first}
    second_ids = {item.id for item in second}
    assert len(first_ids) == 6
    assert len(second_ids) == 4
    assert first_ids.isdisjoint(second_ids)
    with sessions() as check:
        rows = check.execute(select(OutboxItem.id, OutboxItem.claimed_by)).tuples()
        claimed_by = {item_id: worker for item_id, worker in rows}
    assert {claimed_by[i] for i in first_ids} == {"w1"}
    assert {claimed_by[i] for i in second_ids} == {"w2"}


def test_a_newer_change_supersedes_a_held_item_and_the_same_change_stays_held(session: Session) -> None:
    from connectors.state import supersede_held

    enqueue_many(session, "offers", "variant", [("v:1", {"qty": 5}), ("v:2", {"qty": 7})], now=T0)
    first, second = claim_batch(session, "offers", "variant", 2, "w", T0)
    mark_quarantined(session, [first.id], "rejected by BigCommerce: 422", T0)
    mark_failed(session, second.id, "refused for good", None, T0)
    session.commit()

    again = [("v:1", {"qty": 5}), ("v:2", {"qty": 0})]
    assert supersede_held(session, "offers", "variant", again, now=T0 + timedelta(minutes=1)) == 1
    enqueue_many(session, "offers", "variant", again, now=T0 + timedelta(minutes=1))
    session.commit()
    assert _item(session, "v:1").status == "quarantined"  # re-sending what was refused would be refused again
    revived = _item(session, "v:2")
    assert (revived.status, revived.payload, revived.next_attempt_at) == ("pending", {"qty": 0}, None)
    assert [
        i.idempotency_key for i in claim_batch(session, "offers", "variant", 5, "w2", T0 + timedelta(minutes=2))
    ] == ["v:2"]


def test_the_same_held_change_comes_back_when_the_stream_says_it_is_worth_retrying(session: Session) -> None:
    """The offer sync retries a refused stock-out as it is (chaos seed 173): a variant left buyable oversells."""
    from connectors.state import supersede_held

    held = [("v:1", {"qty": 0, "purchasing_disabled": True}), ("v:2", {"qty": 5, "purchasing_disabled": False})]
    enqueue_many(session, "offers", "variant", held, now=T0)
    items = claim_batch(session, "offers", "variant", 2, "w", T0)
    mark_quarantined(session, [item.id for item in items], "rejected by BigCommerce: 422", T0)
    session.commit()

    def stock_out(payload: Mapping[str, Any]) -> bool:
        return bool(payload["purchasing_disabled"])

    assert supersede_held(session, "offers", "variant", held, now=T0, retry_same=stock_out) == 1
    session.commit()
    assert (_item(session, "v:1").status, _item(session, "v:2").status) == ("pending", "quarantined")


def test_released_claims_go_back_due_now_and_only_the_named_workers_lose_theirs(session: Session) -> None:
    from connectors.state import release_claims

    _fill(session, 4)
    dead = claim_batch(session, "offers", "price", 2, "dead", T0)
    live = claim_batch(session, "offers", "price", 2, "live", T0)
    session.commit()
    assert release_claims(session, "offers", ["dead"], "taken over", T0 + timedelta(seconds=5)) == 2
    session.commit()
    assert {_item(session, i.idempotency_key).status for i in dead} == {"pending"}
    assert {_item(session, i.idempotency_key).status for i in live} == {"in_flight"}
    retaken = claim_batch(session, "offers", "price", 5, "next", T0 + timedelta(seconds=6))
    assert sorted(i.id for i in retaken) == sorted(i.id for i in dead)
    assert {i.attempts for i in retaken} == {2}  # the interrupted attempt still counts


def test_a_beating_worker_renews_its_claims_and_a_silent_one_is_listed_as_stuck(session: Session) -> None:
    from connectors.state import beat, claim_holders, register_worker, silent_holders

    _fill(session, 3)
    register_worker(session, "alive", "offers", flow_run_id=None, host="h", pid=1, now=T0)
    register_worker(session, "silent", "offers", flow_run_id="run-1", host="h", pid=2, now=T0)
    claim_batch(session, "offers", "price", 1, "alive", T0)
    claim_batch(session, "offers", "price", 2, "silent", T0)
    later = T0 + DEFAULT_LEASE + timedelta(minutes=1)
    assert beat(session, "alive", later) == 1
    session.commit()

    holders = {h.worker: h for h in claim_holders(session, "offers")}
    assert (holders["silent"].items, holders["silent"].flow_run_id, holders["silent"].registered) == (2, "run-1", True)
    assert [h.worker for h in silent_holders(session, later + timedelta(seconds=5))] == ["silent"]
    # The renewed lease holds past the ten minutes; the silent worker's claims are due again.
    assert {i.claimed_by for i in claim_batch(session, "offers", "price", 5, "next", later + timedelta(seconds=5))} == {
        "next"
    }
    assert _item(session, "offers:price:0").claimed_by == "alive"


def test_only_a_claimed_item_whose_payload_changed_since_its_claim_is_superseded(session: Session) -> None:
    from connectors.state import beat, superseded

    _fill(session, 3)
    claimed = claim_batch(session, "offers", "price", 3, "w", T0)
    session.commit()
    beat(session, "w", T0 + timedelta(seconds=10))  # a renewal is no change of the items
    enqueue_many(session, "offers", "price", [("offers:price:1", {"n": 1})], now=T0 + timedelta(seconds=20))
    enqueue_many(session, "offers", "price", [("offers:price:2", {"n": 22})], now=T0 + timedelta(seconds=20))
    session.commit()
    # Rewritten with its own payload again (1) is not superseded; a newer payload (2) is.
    assert superseded(session, claimed) == {i.id for i in claimed if i.idempotency_key == "offers:price:2"}
