"""One ledgered BigCommerce write of the offer push, shared by the variant and the metafield drains.

Every write follows one pattern: record the call in the ledger (`started`, with the worker) and commit before
it is made; make it; then either settle the claimed items in one transaction with the ledger row closed
(`acknowledge`), or, on a transient error, give the items back to the queue, and on a permanent one quarantine
them with BigCommerce's message. A claim's calls are begun together and its answered calls settled together
(`send_batches`, then one `acknowledge`): two transactions per claim instead of two per call, which is most of
the push's own CPU at a big catalog's first sync (see `benchmarks/README.md`). The drains work on claimed rows
with their payloads typed once (`payloads.Claimed`); the variant push (`push`) and the metafield push
(`push_metafields`) both import this module, and neither imports the other.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from bridge.runtime import Runtime
from bridge.streams import Stream
from common.errors import PermanentApiError, TransientApiError
from connectors.state import (
    ClaimedItem,
    ledger_begin_many,
    ledger_finish,
    ledger_finish_many,
    ledger_get,
    mark_done,
    mark_failed,
    mark_quarantined,
    owned_among,
    quarantine_many,
    requeue,
    superseded,
)
from connectors.state.types import utcnow
from tasks.offers.payloads import MALFORMED, Claimed, P, read_claim

__all__ = [
    "CHANGES_SHOWN",
    "KIND",
    "NOT_OWNED",
    "PushStats",
    "acknowledge",
    "batch_key",
    "begin_call",
    "begin_calls",
    "finish_ledger",
    "owned_claims",
    "quarantine_claims",
    "quarantine_each",
    "release",
    "send_batches",
]

KIND = "variant"
NOT_OWNED = "variant is not Mirakl-owned: refused"
CHANGES_SHOWN = 500  # rows of the summary's changes table (a full sync can push 100k; the counts say how many)

_T = TypeVar("_T")


@dataclass
class PushStats:
    """What one drain did. A flow that drains several times in a run (as the outbox fills) adds them up with
    `add`, so each count is the run's total and `left` is what the last drain left queued."""

    pushed: int = 0
    batches: int = 0
    inventory_calls: int = 0
    metafield_calls: int = 0
    metafields_written: int = 0
    transient_failures: int = 0
    wall_s: float = 0.0
    quarantined: Counter[str] = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)
    left: int = 0
    taken_over: int = 0
    worker: str = ""
    changes: list[dict[str, Any]] = field(default_factory=list)  # the first `CHANGES_SHOWN`, for the summary

    @property
    def calls(self) -> int:
        """Write calls made to BigCommerce (variant batches, inventory adjustments, metafield batches)."""
        return self.batches + self.inventory_calls + self.metafield_calls

    def add(self, later: PushStats) -> None:
        """Count a later drain of the same run in: sums, its latencies, changes up to `CHANGES_SHOWN`, its `left`."""
        self.pushed += later.pushed
        self.batches += later.batches
        self.inventory_calls += later.inventory_calls
        self.metafield_calls += later.metafield_calls
        self.metafields_written += later.metafields_written
        self.transient_failures += later.transient_failures
        self.wall_s += later.wall_s
        self.quarantined.update(later.quarantined)
        self.latencies_s.extend(later.latencies_s)
        self.left = later.left
        self.taken_over += later.taken_over
        self.worker = later.worker or self.worker
        self.changes.extend(later.changes[: max(0, CHANGES_SHOWN - len(self.changes))])


def batch_key(batch: Sequence[Claimed[Any]]) -> str:
    """The ledger key of one call: the claimed items and their attempt numbers."""
    text = ",".join(f"{claimed.item.id}:{claimed.item.attempts}" for claimed in batch)
    return "offer-sync:" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def begin_call(rt: Runtime, operation: str, batch: Sequence[Claimed[Any]], worker: str) -> str:
    """Record one call as started (committed before it is made); returns its ledger key."""
    return begin_calls(rt, operation, [batch], worker)[0]


def begin_calls(rt: Runtime, operation: str, batches: Sequence[Sequence[Claimed[Any]]], worker: str) -> list[str]:
    """Record a claim's calls as started in one transaction, committed before the first is made; their keys."""
    keys = [batch_key(batch) for batch in batches]
    entries = [
        (key, {"items": len(batch), "first_item": batch[0].item.id, "worker": worker})
        for key, batch in zip(keys, batches, strict=True)
    ]
    with rt.sessions() as session:
        ledger_begin_many(session, "bigcommerce", operation, entries)
        session.commit()
    return keys


async def send_batches(
    rt: Runtime,
    operation: str,
    batches: Sequence[list[Claimed[P]]],
    send: Callable[[list[Claimed[P]]], Awaitable[_T]],
    rejected: str,
    stats: PushStats,
    run_id: str | None,
) -> list[tuple[list[Claimed[P]], str, _T]]:
    """Make one write per batch through the ledger; returns (batch, ledger key, answer) for those answered.

    Every call of the claim is recorded as started in one transaction before the first is made. A transient
    failure gives its items back to the queue (due now) and counts towards stopping the drain, after which the
    remaining batches go back unsent; a permanent one quarantines its items as `rejected` with BigCommerce's
    message. Their ledger rows are closed `failed`; the caller settles the answered ones with `acknowledge`.

    Anything else (a bug, a cancelled run) ends the loop: the rows of the calls never made are closed `failed` on
    the way out, since the worker's end releases its claims and no takeover would ever close them; only the call
    in flight stays `started`, its outcome unknown.
    """
    keys = begin_calls(rt, operation, batches, stats.worker)
    answered: list[tuple[list[Claimed[P]], str, _T]] = []
    attempted = 0
    try:
        for batch, key in zip(batches, keys, strict=True):
            attempted += 1
            if stats.transient_failures >= rt.config.offers.max_push_failures:
                release(rt, batch, "drain stopped after repeated transient failures")
                finish_ledger(rt, operation, [key], "failed")
                continue
            try:
                answered.append((batch, key, await send(batch)))
            except TransientApiError as exc:
                stats.transient_failures += 1
                release(rt, batch, str(exc))
                finish_ledger(rt, operation, [key], "failed")
            except PermanentApiError as exc:
                finish_ledger(rt, operation, [key], "failed")
                quarantine_claims(rt, batch, f"{rejected}: {exc.api_message}", stats, run_id)
    finally:
        if attempted < len(keys):
            finish_ledger(rt, operation, keys[attempted:], "failed")
    return answered


def acknowledge(
    rt: Runtime,
    done: Sequence[Claimed[Any]],
    operation: str,
    keys: Sequence[str],
    record: Callable[[Session], None],
    external_id: str | None = None,
) -> None:
    """Settle what BigCommerce saved, in one transaction: items done, `record` (the caller's state), calls closed.

    An item whose key got a newer change while it was in flight goes back to the queue instead of done, so the
    newer state follows. `external_id` (one call's, such as an inventory transaction) goes on its ledger row.
    """
    with rt.sessions() as session:
        newer = superseded(session, [claimed.item for claimed in done])
        mark_done(session, [claimed.item.id for claimed in done if claimed.item.id not in newer])
        requeue(session, newer)
        record(session)
        _finish(session, operation, keys, "succeeded", external_id)
        session.commit()


def finish_ledger(rt: Runtime, operation: str, keys: Sequence[str], outcome: str) -> None:
    """Close calls that were not acknowledged (`failed`), in a transaction of their own."""
    with rt.sessions() as session:
        _finish(session, operation, keys, outcome, None)
        session.commit()


def _finish(session: Session, operation: str, keys: Sequence[str], outcome: str, external_id: str | None) -> None:
    if external_id is None:
        ledger_finish_many(session, "bigcommerce", operation, keys, outcome)
        return
    for key in keys:
        entry = ledger_get(session, "bigcommerce", operation, key)
        if entry is not None:
            ledger_finish(session, entry, outcome, external_id)


def owned_claims(
    rt: Runtime, items: list[ClaimedItem], kind: type[P], stats: PushStats, run_id: str | None
) -> list[Claimed[P]]:
    """The claimed items, typed as `kind`, whose variant the offer map holds as Mirakl-owned; the others are
    quarantined: refused as not owned, or as malformed when their payload does not fit `kind`.

    Asked of the map per claim (one indexed query), so the drain never loads a big catalog's owned variants.
    """
    claims, malformed = read_claim(items, kind)
    with rt.sessions() as session:
        owned = owned_among(session, [claimed.change.variant_id for claimed in claims])
    refused = [claimed for claimed in claims if claimed.change.variant_id not in owned]
    _quarantine(rt, [(item, _record_key(item), {"error": why}, MALFORMED) for item, why in malformed], stats, run_id)
    quarantine_claims(rt, refused, NOT_OWNED, stats, run_id)
    return [claimed for claimed in claims if claimed.change.variant_id in owned]


def release(rt: Runtime, batch: list[Claimed[Any]], error: str) -> None:
    """Give claimed items back to the queue, due now, after a transient failure."""
    with rt.sessions() as session:
        for claimed in batch:
            mark_failed(session, claimed.item.id, error, retry_at=utcnow())
        session.commit()


def quarantine_claims(
    rt: Runtime, refused: Sequence[Claimed[Any]], reason: str, stats: PushStats, run_id: str | None
) -> None:
    """Hold refused items with the reason; one whose key got a newer change meanwhile goes back to the queue."""
    quarantine_each(rt, [(claimed, reason) for claimed in refused], stats, run_id)


def quarantine_each(
    rt: Runtime, refused: Sequence[tuple[Claimed[Any], str]], stats: PushStats, run_id: str | None
) -> None:
    """`quarantine_claims` with a reason per item (BigCommerce's message for each), in one transaction."""
    _quarantine(rt, [(c.item, c.change.product_sku, c.change.quarantined(), why) for c, why in refused], stats, run_id)


def _quarantine(
    rt: Runtime, rows: Sequence[tuple[ClaimedItem, str, dict[str, Any], str]], stats: PushStats, run_id: str | None
) -> None:
    """(item, record key, what the record shows, reason) per refused item, settled in one transaction."""
    if not rows:
        return
    with rt.sessions() as session:
        newer = superseded(session, [item for item, *_ in rows])
        held = [row for row in rows if row[0].id not in newer]
        requeue(session, newer)
        for reason in dict.fromkeys(why for *_, why in held):
            mark_quarantined(session, [item.id for item, _, _, why in held if why == reason], reason)
        records = [{"record_key": key, "reason": why, "payload": shown} for _, key, shown, why in held]
        quarantine_many(session, Stream.OFFER_SYNC, records, run_id=run_id)
        session.commit()
    stats.quarantined.update(why for *_, why in held)


def _record_key(item: ClaimedItem) -> str:
    """A malformed item's quarantine key: its product SKU when it still names one, else its outbox row."""
    sku = item.payload.get("product_sku") if isinstance(item.payload, dict) else None
    return str(sku) if sku else f"outbox:{item.id}"
