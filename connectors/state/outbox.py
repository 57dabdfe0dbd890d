"""The outbox queue in front of every rate-limited push.

Changes are enqueued under an idempotency key, then claimed in batches by workers. On PostgreSQL a claim
locks its rows with `FOR UPDATE SKIP LOCKED`, so several workers drain one queue without sharing a row;
on SQLite the claiming UPDATE re-checks that each row is still due, and the database's single writer makes it
atomic. A live
worker renews its claims with its heartbeat (`connectors.state.workers`); a claim whose worker is known to be
dead is released at once (`release_claims`), and any claim not renewed for a whole lease is claimable again.

A held item (failed or quarantined) never blocks its key for good: a newer change for the same key
supersedes it (`supersede_held`), and an operator can requeue it after fixing the cause (`requeue`).

Functions flush but never commit: the caller's transaction decides what becomes visible. Commit right
after `claim_batch`, so the rows' locks are released and other workers see them as in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, func, inspect, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from connectors.state._sql import IN_CHUNK_SIZE, among, chunks, execute_columns, insert_for
from connectors.state.models import OUTBOX_STATUSES, OutboxItem
from connectors.state.types import utcnow

__all__ = [
    "DEFAULT_LEASE",
    "HELD_STATUSES",
    "ClaimedItem",
    "claim_batch",
    "enqueue",
    "enqueue_many",
    "held_items",
    "mark_done",
    "mark_failed",
    "mark_quarantined",
    "pending_count",
    "quarantined_ids",
    "queue_depth",
    "release_claims",
    "requeue",
    "supersede_held",
    "superseded",
]

# How long an unrenewed claim protects its rows; past it the worker is presumed dead and the rows are claimable
# again. Live workers renew their claims every few seconds, so this is the backstop, not the normal way back.
DEFAULT_LEASE = timedelta(minutes=10)
# Statuses an item leaves only through a newer change (`supersede_held`) or an operator (`requeue`).
HELD_STATUSES = ("failed", "quarantined")
# Stored errors are API messages, not dumps; the cap keeps one runaway message from bloating the table.
MAX_ERROR_LENGTH = 2000


class ClaimedItem(NamedTuple):
    """An outbox row as claimed: every column, read once, tracked by no session.

    A claim of thousands of rows as `OutboxItem` instances paid for an identity map and per-row state tracking
    (and again at each commit) that no drain uses: drains read the row and settle it by id.
    """

    id: int
    stream: str
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime | None
    claimed_by: str | None
    claimed_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


_TABLE = OutboxItem.__table__
_CLAIMED_COLUMNS = [_TABLE.c[name] for name in ClaimedItem._fields]


def enqueue(session: Session, stream: str, kind: str, key: str, payload: Mapping[str, Any]) -> bool:
    """Queue one change; returns whether the key is new. See `enqueue_many` for re-enqueue rules."""
    return enqueue_many(session, stream, kind, [(key, payload)]) == 1


def enqueue_many(
    session: Session,
    stream: str,
    kind: str,
    items: Iterable[tuple[str, Mapping[str, Any]]],
    now: datetime | None = None,
) -> int:
    """Queue changes in bulk; returns how many keys were new.

    Re-enqueueing a key that is not yet done replaces its payload (the latest state wins) and leaves its
    status alone: a failed or quarantined item comes back through `supersede_held` (called first, by a stream
    whose newer change must be pushed) or `requeue`. A done key is untouched.
    """
    stamp = now or utcnow()
    table = _TABLE
    new = 0
    latest = dict(items)
    if not latest:
        return 0
    for keys in chunks(latest, IN_CHUNK_SIZE):
        existing = select(func.count()).select_from(table).where(among(session, table.c.idempotency_key, keys))
        new += len(keys) - (session.scalar(existing) or 0)
    statement = insert_for(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=["idempotency_key"],
        set_={"payload": statement.excluded.payload, "updated_at": statement.excluded.updated_at},
        where=table.c.status != "done",
    )
    # One statement compiled once for every row and sent in chunks; what every row shares is bound once.
    # A payload given as a plain dict is stored as it is: copying a catalog's payloads only fed the collector.
    payloads = [payload if type(payload) is dict else dict(payload) for payload in latest.values()]
    columns = {"idempotency_key": list(latest), "payload": payloads}
    shared = {
        "stream": stream,
        "kind": kind,
        "status": "pending",
        "attempts": 0,
        "created_at": stamp,
        "updated_at": stamp,
    }
    execute_columns(session, statement, columns, shared)
    return new


def supersede_held(
    session: Session,
    stream: str,
    kind: str,
    items: Iterable[tuple[str, Mapping[str, Any]]],
    now: datetime | None = None,
    *,
    retry_same: Callable[[Mapping[str, Any]], bool] | None = None,
) -> int:
    """Make held items pending again, due now, when the change about to be enqueued under their key differs.

    A stream whose keys stay the same until a push succeeds (the offer sync keys a variant by its last
    acknowledged push) would otherwise keep a rejected change's key, and every later change with it, held for
    good. The same payload again stays held: re-sending what was refused would only be refused again, unless
    `retry_same` says this change is worth the call anyway (the offer sync's stock-outs: a variant left buyable
    after its refused stock-out oversells, chaos seed 173). Call it before `enqueue_many`, which then writes the
    newer payload. Returns how many items came back.
    """
    any_held = select(OutboxItem.id).where(
        OutboxItem.stream == stream, OutboxItem.kind == kind, OutboxItem.status.in_(HELD_STATUSES)
    )
    # Most runs hold nothing: one seek on the claim index then, not a lookup per 1,000 keys nor a copy of each
    # payload (a first full run enqueues a whole catalog).
    if session.scalar(any_held.limit(1)) is None:
        return 0
    latest = {key: dict(payload) for key, payload in items}
    revived: list[int] = []
    for keys in chunks(latest, IN_CHUNK_SIZE):
        held = session.execute(
            select(OutboxItem.id, OutboxItem.idempotency_key, OutboxItem.payload).where(
                OutboxItem.stream == stream,
                OutboxItem.kind == kind,
                among(session, OutboxItem.idempotency_key, keys),
                OutboxItem.status.in_(HELD_STATUSES),
            )
        ).tuples()
        revived += [
            item_id
            for item_id, key, payload in held
            if payload != latest[key] or (retry_same is not None and retry_same(latest[key]))
        ]
    return requeue(session, revived, now)


def claim_batch(
    session: Session,
    stream: str,
    kind: str,
    limit: int,
    worker: str,
    now: datetime | None = None,
    *,
    lease: timedelta = DEFAULT_LEASE,
) -> list[ClaimedItem]:
    """Claim up to `limit` due items, oldest first, and mark them in flight for `worker`.

    Due means pending with no retry time or one that has passed, or in flight under an expired lease.
    Each claim counts as one attempt. An `OutboxItem` of these rows the session already holds is expired, so it
    reads the claim too.
    """
    stamp = now or utcnow()
    due = or_(
        and_(
            OutboxItem.status == "pending",
            or_(OutboxItem.next_attempt_at.is_(None), OutboxItem.next_attempt_at <= stamp),
        ),
        and_(OutboxItem.status == "in_flight", OutboxItem.claimed_at < stamp - lease),
    )
    ids = _due_ids(session, stream, kind, stamp, lease, limit)
    if not ids:
        return []
    # The rows are checked again as they are claimed: on SQLite another worker may have claimed one meanwhile.
    statement = (
        update(_TABLE)
        .where(among(session, _TABLE.c.id, ids), due)
        .values(
            status="in_flight",
            claimed_by=worker,
            claimed_at=stamp,
            attempts=_TABLE.c.attempts + 1,
            updated_at=stamp,
        )
        .returning(*_CLAIMED_COLUMNS)
    )
    # Fetched whole (`all`): iterating the result fetched the rows one driver call at a time.
    claimed = sorted(map(ClaimedItem._make, session.execute(statement).all()), key=lambda item: item.id)
    _expire_loaded(session, {item.id for item in claimed})
    return claimed


def _expire_loaded(session: Session, ids: set[int]) -> None:
    """Expire the session's `OutboxItem` instances of these rows, which a Core UPDATE leaves as they were read."""
    for instance in _loaded(session, ids):
        session.expire(instance)


def _loaded(session: Session, ids: set[int]) -> list[OutboxItem]:
    """The session's `OutboxItem` instances of these rows."""
    return [
        instance
        for instance in session.identity_map.values()
        if isinstance(instance, OutboxItem) and inspect(instance).identity[0] in ids
    ]


def _due_ids(session: Session, stream: str, kind: str, stamp: datetime, lease: timedelta, limit: int) -> list[int]:
    """The ids of the `limit` oldest due items, locked (PostgreSQL, `SKIP LOCKED`).

    Asked as three narrow queries, one per way of being due, each walking the (stream, kind, status,
    next_attempt_at) index in id order and stopping at `limit`: one query with an OR of them read (and sorted)
    every pending row at each claim, which a million-item first push cannot afford.
    """
    table = _TABLE  # Core columns: the ORM's statement handling cost more than these index seeks
    of_kind = select(table.c.id).where(table.c.stream == stream, table.c.kind == kind)
    ways = (
        of_kind.where(table.c.status == "pending", table.c.next_attempt_at.is_(None)),
        of_kind.where(table.c.status == "pending", table.c.next_attempt_at <= stamp),
        of_kind.where(table.c.status == "in_flight", table.c.claimed_at < stamp - lease),
    )
    ids: list[int] = []
    for query in ways:
        ids += session.scalars(query.order_by(table.c.id).limit(limit).with_for_update(skip_locked=True)).all()
    return sorted(ids)[:limit]


def mark_done(session: Session, ids: Iterable[int], now: datetime | None = None) -> int:
    return _set_status(session, ids, {"status": "done", "last_error": None}, now)


def mark_failed(
    session: Session, item_id: int, error: str, retry_at: datetime | None = None, now: datetime | None = None
) -> None:
    """Record a failed push: pending again from `retry_at`, or failed for good when `retry_at` is None."""
    values: dict[str, Any] = {"last_error": error[:MAX_ERROR_LENGTH], "next_attempt_at": retry_at}
    values["status"] = "failed" if retry_at is None else "pending"
    _set_status(session, [item_id], values, now)


def mark_quarantined(session: Session, ids: Iterable[int], reason: str, now: datetime | None = None) -> int:
    return _set_status(session, ids, {"status": "quarantined", "last_error": reason[:MAX_ERROR_LENGTH]}, now)


def requeue(session: Session, ids: Iterable[int], now: datetime | None = None) -> int:
    """Make failed or quarantined items pending and due now, after an operator fixed the cause."""
    return _set_status(session, ids, {"status": "pending", "next_attempt_at": None}, now)


def release_claims(
    session: Session, stream: str, workers: Iterable[str], reason: str, now: datetime | None = None
) -> int:
    """Give the in-flight items of `workers` back to the queue, due now; returns how many.

    For a worker known to be dead (its run ended or crashed, its process is gone, its heartbeat stopped) and for
    a worker ending cleanly with items it did not finish. The attempt count is kept, so a push that recovers an
    interrupted create (offer metafields) knows the item was tried before.
    """
    stamp = now or utcnow()
    released = 0
    for batch in chunks(workers, IN_CHUNK_SIZE):
        result = session.execute(
            update(OutboxItem)
            .where(OutboxItem.stream == stream, OutboxItem.status == "in_flight", OutboxItem.claimed_by.in_(batch))
            .values(status="pending", next_attempt_at=None, last_error=reason[:MAX_ERROR_LENGTH], updated_at=stamp)
            .execution_options(synchronize_session=False)
        )
        released += result.rowcount
    return released


def superseded(session: Session, items: Iterable[ClaimedItem]) -> set[int]:
    """Ids of claimed items whose payload a newer change replaced while they were in flight.

    The worker pushed (or had refused) an older state of their key: settle them with `requeue`, so the newer
    state goes out too, rather than marking them done or holding them. `items` carry the payload and `updated_at`
    as claimed (one value per claim): only rows written since (their `updated_at` moved) come back from the store,
    and only their payloads are decoded and compared, so settling a claim nobody touched reads no row at all.
    """
    by_stamp: dict[datetime, dict[int, ClaimedItem]] = {}
    for item in items:
        by_stamp.setdefault(item.updated_at, {})[item.id] = item
    found: set[int] = set()
    for stamp, claimed in by_stamp.items():
        for batch in chunks(claimed, IN_CHUNK_SIZE):
            query = select(_TABLE.c.id, _TABLE.c.payload).where(
                among(session, _TABLE.c.id, batch), _TABLE.c.updated_at != stamp
            )
            found |= {
                item_id for item_id, payload in session.execute(query).all() if payload != claimed[item_id].payload
            }
    return found


def held_items(session: Session, stream: str) -> list[OutboxItem]:
    """The failed and quarantined items of a stream, oldest first, for an operator to inspect and requeue."""
    query = select(OutboxItem).where(OutboxItem.stream == stream, OutboxItem.status.in_(HELD_STATUSES))
    return list(session.scalars(query.order_by(OutboxItem.id)))


def quarantined_ids(session: Session, stream: str, kind: str | None = None) -> list[int]:
    """Ids of the items held in quarantine for a stream (and kind), for an operator to requeue after a fix."""
    query = select(OutboxItem.id).where(OutboxItem.stream == stream, OutboxItem.status == "quarantined")
    if kind is not None:
        query = query.where(OutboxItem.kind == kind)
    return list(session.scalars(query.order_by(OutboxItem.id)))


def queue_depth(session: Session, stream: str | None = None) -> dict[str, int]:
    """Item count per status (every status present, zero included), for one stream or all."""
    query = select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
    if stream is not None:
        query = query.where(OutboxItem.stream == stream)
    depth = dict.fromkeys(OUTBOX_STATUSES, 0)
    depth.update({status: count for status, count in session.execute(query).tuples()})
    return depth


def pending_count(session: Session, stream: str, kinds: Iterable[str]) -> int:
    """Items waiting (`pending`) in these kinds of one stream: a seek per kind on the claim index. `queue_depth`
    counts every status of the stream, a sort over the whole queue (done items included) at a big catalog."""
    query = select(func.count()).where(
        OutboxItem.stream == stream, OutboxItem.kind.in_(list(kinds)), OutboxItem.status == "pending"
    )
    return int(session.scalar(query) or 0)


def _set_status(session: Session, ids: Iterable[int], values: dict[str, Any], now: datetime | None) -> int:
    written = {**values, "updated_at": now or utcnow()}
    changed = 0
    settled: set[int] = set()
    # A Core UPDATE: the ORM's "evaluate" synchronisation cannot read `among`'s JSON list on SQLite, and its
    # "fetch" read every changed id back, a cost per row that a drain settling thousands of items a claim paid.
    for batch in chunks(ids, IN_CHUNK_SIZE):
        changed += session.execute(update(_TABLE).where(among(session, _TABLE.c.id, batch)).values(written)).rowcount
        settled.update(batch)
    _sync_loaded(session, settled, written)
    return changed


def _sync_loaded(session: Session, ids: set[int], values: Mapping[str, Any]) -> None:
    """Give the session's `OutboxItem` instances of these rows the values a Core UPDATE wrote to them, as the ORM's
    "evaluate" synchronisation did, so an item read before it was settled reads settled."""
    for instance in _loaded(session, ids):
        for name, value in values.items():
            set_committed_value(instance, name, value)
