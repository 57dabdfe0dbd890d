"""Drain the offer outbox into BigCommerce, at the pace the quota headers allow.

Variant changes are claimed up to 2,000 at a time. Changes that only move stock (still buyable, same price)
go out as one inventory absolute adjustment at the default location when that saves calls; the rest go as
variant batch updates of at most 50. Then the offer metafields (winner and runners-up, `push_metafields`).
Each call is recorded in the ledger before it is made; in one transaction after it, the items are marked done,
the ledger row closed and the acknowledged state written to the offer map. Variant and stock writes are
absolute, so a batch re-sent after a crash between push and record sets the same values again. Items
BigCommerce rejects are quarantined and the rest of the batch is kept; a batch that keeps failing on transient
errors goes back to the queue and the drain stops after `max_push_failures` such batches.

The drain is a registered outbox worker (`tasks.leases`): it first takes back the items a dead drain left in
flight (a run killed mid-PUT) and closes that drain's `started` ledger rows, since the recovery rule of an
absolute write is to send it again; the items then go out in this run, not ten minutes later. A pushed change
resolves the earlier push rejections of its product, which a newer change or `bcmirakl offers requeue` revived.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.orm import Session

from bridge.runtime import Runtime
from bridge.streams import Stream
from common.errors import PermanentApiError, TransientApiError
from connectors.bigcommerce.models import InventoryAdjustment, VariantUpdate
from connectors.state import (
    OutboxItem,
    claim_batch,
    get_offer_map,
    ledger_begin,
    ledger_finish,
    ledger_get,
    ledger_started,
    mark_done,
    mark_failed,
    mark_quarantined,
    quarantine_many,
    queue_depth,
    requeue,
    resolve_rejections,
    superseded,
    upsert_offer_map,
)
from connectors.state.types import utcnow
from tasks.leases import outbox_worker
from tasks.progress import report_progress

__all__ = [
    "INVENTORY_LIMIT",
    "KIND",
    "PUSH_OPERATIONS",
    "REJECTED",
    "PushStats",
    "batch_key",
    "drain_outbox",
    "finish_entry",
    "finish_ledger",
]

KIND = "variant"
NOT_OWNED = "variant is not Mirakl-owned: refused"
REJECTED = "rejected by BigCommerce"
# Every BigCommerce write of the offer push; their ledger rows carry the worker that made the call.
PUSH_OPERATIONS = (
    "update_variants",
    "adjust_inventory_absolute",
    "create_variant_metafields",
    "update_variant_metafields",
)
INVENTORY_LIMIT = 2000
CHANGES_SHOWN = 500  # rows of the summary's changes table (a full sync can push 100k; the counts say how many)
INVENTORY_REASON = "bcmirakl offer sync: seller stock"
# The progress artifact is a Prefect API call: once a second keeps it live without slowing the push.
PROGRESS_EVERY_S = 1.0


@dataclass
class PushStats:
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
    changes: list[dict[str, Any]] = field(default_factory=list)  # the first CHANGES_SHOWN, for the summary

    @property
    def calls(self) -> int:
        """Write calls made to BigCommerce (variant batches, inventory adjustments, metafield batches)."""
        return self.batches + self.inventory_calls + self.metafield_calls


@task(cache_policy=NO_CACHE)
async def drain_outbox(rt: Runtime, owned: set[int], run_id: str | None = None) -> PushStats:
    """Push every due variant change, then every due offer metafield; returns counts, reasons and latencies."""
    from prefect.artifacts import acreate_progress_artifact, aupdate_progress_artifact

    from tasks.offers.push_metafields import push_metafields

    stats = PushStats()
    async with outbox_worker(rt, Stream.OFFER_SYNC) as lease:
        stats.worker, stats.taken_over = lease.worker, lease.released
        if lease.taken_over:
            close_abandoned_calls(rt, lease.taken_over)
        with rt.sessions() as session:
            total = queue_depth(session, Stream.OFFER_SYNC)["pending"] or 1
        progress = await acreate_progress_artifact(0.0, key="offer-sync-progress", description="offer push progress")
        started = reported = time.perf_counter()
        while stats.transient_failures < rt.config.offers.max_push_failures:
            with rt.sessions() as session:
                items = claim_batch(session, Stream.OFFER_SYNC, KIND, INVENTORY_LIMIT, lease.worker)
                session.commit()
            if not items:
                break
            await _push_round(rt, items, owned, stats, run_id)
            report_progress("offer push", stats.pushed, total)
            if time.perf_counter() - reported >= PROGRESS_EVERY_S:
                reported = time.perf_counter()
                await aupdate_progress_artifact(progress, min(100.0, 100.0 * stats.pushed / total))
        await push_metafields(rt, owned, stats, lease.worker, run_id)
        stats.wall_s = time.perf_counter() - started
        await aupdate_progress_artifact(progress, 100.0)
    with rt.sessions() as session:
        stats.left = queue_depth(session, Stream.OFFER_SYNC)["pending"]
    return stats


def close_abandoned_calls(rt: Runtime, dead: dict[str, str]) -> int:
    """Close the `started` ledger rows of dead workers: their items are back in the queue and go out again.

    Variant, stock and metafield writes are absolute (a metafield create is re-read before it is repeated, see
    `push_metafields`), so sending the items again is the recovery; the interrupted call is recorded as failed,
    with why, and no row stays `started` after the next clean run.
    """
    closed = 0
    with rt.sessions() as session:
        for entry in ledger_started(session, "bigcommerce", PUSH_OPERATIONS):
            worker = (entry.detail or {}).get("worker")
            if worker in dead:
                entry.detail = {**(entry.detail or {}), "resolution": f"worker died ({dead[worker]}); items requeued"}
                ledger_finish(session, entry, "failed")
                closed += 1
        session.commit()
    return closed


async def _push_round(
    rt: Runtime, items: list[OutboxItem], owned: set[int], stats: PushStats, run_id: str | None
) -> None:
    """Push one claim: stock-only changes as one inventory call when that saves calls, the rest as batches."""
    refused = [item for item in items if int(item.payload["variant_id"]) not in owned]
    if refused:
        quarantine_items(rt, refused, NOT_OWNED, stats, run_id)
    allowed = [item for item in items if int(item.payload["variant_id"]) in owned]
    size = rt.config.offers.push_batch_size
    stock = [item for item in allowed if item.payload.get("stock_only")]
    full = [item for item in allowed if not item.payload.get("stock_only")]
    if stock and -(-len(allowed) // size) > -(-len(full) // size) + 1:
        stock = await _push_inventory(rt, stock, stats)
        full += stock
    else:
        full = allowed
    for start in range(0, len(full), size):
        batch = full[start : start + size]
        if stats.transient_failures >= rt.config.offers.max_push_failures:
            release(rt, batch, "drain stopped after repeated transient failures")
            continue
        await _push_batch(rt, batch, stats, run_id)


async def _push_inventory(rt: Runtime, items: list[OutboxItem], stats: PushStats) -> list[OutboxItem]:
    """Set stock with one absolute adjustment; returns the items left for variant batches (on refusal)."""
    location = await rt.bigcommerce.default_location_id()
    key = batch_key(items)
    with rt.sessions() as session:
        detail = {"items": len(items), "worker": stats.worker}
        ledger_begin(session, "bigcommerce", "adjust_inventory_absolute", key, detail)
        session.commit()
    stats.inventory_calls += 1
    adjustments = [
        InventoryAdjustment(
            location_id=location,
            variant_id=int(item.payload["variant_id"]),
            quantity=int(item.payload["inventory_level"]),
        )
        for item in items
    ]
    try:
        transaction_id = await rt.bigcommerce.adjust_inventory_absolute(adjustments, INVENTORY_REASON)
    except (TransientApiError, PermanentApiError):
        # Variant batches carry the same absolute stock and report rejections per item: fall back to them.
        finish_ledger(rt, "adjust_inventory_absolute", key, "failed")
        return items
    _acknowledge(rt, items, stats, "adjust_inventory_absolute", key, transaction_id)
    return []


async def _push_batch(rt: Runtime, items: list[OutboxItem], stats: PushStats, run_id: str | None) -> None:
    key = batch_key(items)
    with rt.sessions() as session:
        detail = {"items": len(items), "first_item": items[0].id, "worker": stats.worker}
        ledger_begin(session, "bigcommerce", "update_variants", key, detail)
        session.commit()
    stats.batches += 1
    try:
        result = await rt.bigcommerce.update_variants([_update(item.payload) for item in items])
    except TransientApiError as exc:
        stats.transient_failures += 1
        release(rt, items, str(exc))
        finish_ledger(rt, "update_variants", key, "failed")
        return
    except PermanentApiError as exc:
        finish_ledger(rt, "update_variants", key, "failed")
        quarantine_items(rt, items, f"{REJECTED}: {exc.api_message}", stats, run_id)
        return
    rejected = {item.id for item in items if int(item.payload["variant_id"]) in result.rejected}
    _acknowledge(rt, [item for item in items if item.id not in rejected], stats, "update_variants", key)
    for item in items:
        if item.id in rejected:
            message = result.rejected[int(item.payload["variant_id"])]
            quarantine_items(rt, [item], f"{REJECTED}: {message}", stats, run_id)


def _acknowledge(
    rt: Runtime,
    done: list[OutboxItem],
    stats: PushStats,
    operation: str,
    key: str,
    external_id: str | None = None,
) -> None:
    acknowledged = utcnow()
    with rt.sessions() as session:
        # BigCommerce holds these states now (the offer map says so), but a change enqueued meanwhile must follow.
        newer = superseded(session, done)
        mark_done(session, [item.id for item in done if item.id not in newer])
        requeue(session, newer)
        record_changes(session, done, stats)
        upsert_offer_map(session, [_acknowledged(item.payload, acknowledged) for item in done])
        resolve_rejections(session, Stream.OFFER_SYNC, [item.payload["product_sku"] for item in done], REJECTED)
        finish_entry(session, operation, key, "succeeded", external_id)
        session.commit()
    stats.pushed += len(done)
    # A first push (key ends in "never") loads the catalog; its age says nothing about sync latency.
    stats.latencies_s.extend(
        _latency(item.payload, acknowledged) for item in done if not item.idempotency_key.endswith(":never")
    )


def record_changes(session: Session, done: Sequence[OutboxItem], stats: PushStats) -> None:
    """Keep what the summary's changes table shows: SKU, price and stock before -> after, buyable. The offer
    map still holds the last pushed state; once CHANGES_SHOWN rows are kept this costs nothing more."""
    room = CHANGES_SHOWN - len(stats.changes)
    if room <= 0:
        return
    shown = list(done)[:room]
    before = get_offer_map(session, [item.payload["product_sku"] for item in shown])
    for item in shown:
        payload, last = item.payload, before.get(item.payload["product_sku"])
        stats.changes.append(
            {
                "product_sku": payload["product_sku"],
                "price": f"{_or_dash(last.price if last else None)} -> {_or_dash(payload.get('price'))}",
                "stock": f"{_or_dash(last.quantity if last else None)} -> {payload['inventory_level']}",
                "buyable": "no" if payload["purchasing_disabled"] else "yes",
            }
        )


def _or_dash(value: object) -> str:
    """A missing value as "-"; a stored price without its trailing zeros ("27.7900" -> "27.79")."""
    if value is None or value == "":
        return "-"
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def batch_key(items: Sequence[OutboxItem]) -> str:
    """The ledger key of one call: the claimed items and their attempt numbers."""
    text = ",".join(f"{item.id}:{item.attempts}" for item in items)
    return "offer-sync:" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def _update(payload: dict[str, Any]) -> VariantUpdate:
    fields: dict[str, Any] = {
        "id": int(payload["variant_id"]),
        "inventory_level": int(payload["inventory_level"]),
        "purchasing_disabled": bool(payload["purchasing_disabled"]),
        "purchasing_disabled_message": payload["purchasing_disabled_message"],
    }
    if payload.get("price"):
        fields["price"] = Decimal(payload["price"])
    return VariantUpdate(**fields)


def _acknowledged(payload: dict[str, Any], acknowledged: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {
        "product_sku": payload["product_sku"],
        "offer_id": payload["offer_id"],
        "shop_id": payload["shop_id"],
        "quantity": int(payload["inventory_level"]),
        "purchasable": not payload["purchasing_disabled"],
        "pushed_hash": payload["hash"],
        "mirakl_updated_at": datetime.fromisoformat(payload["mirakl_updated_at"]),
        "bc_acknowledged_at": acknowledged,
    }
    if payload.get("price"):
        row["price"] = Decimal(payload["price"])
    return row


def _latency(payload: dict[str, Any], acknowledged: datetime) -> float:
    return max(0.0, (acknowledged - datetime.fromisoformat(payload["mirakl_updated_at"])).total_seconds())


def release(rt: Runtime, items: list[OutboxItem], error: str) -> None:
    """Give claimed items back to the queue, due now, after a transient failure."""
    with rt.sessions() as session:
        for item in items:
            mark_failed(session, item.id, error, retry_at=utcnow())
        session.commit()


def quarantine_items(rt: Runtime, items: list[OutboxItem], reason: str, stats: PushStats, run_id: str | None) -> None:
    """Hold refused items with the reason; one whose key got a newer change meanwhile goes back to the queue."""
    with rt.sessions() as session:
        newer = superseded(session, items)
    items = [item for item in items if item.id not in newer]
    records = [
        {
            "record_key": item.payload["product_sku"],
            "reason": reason,
            "payload": {
                k: item.payload.get(k)
                for k in ("variant_id", "price", "inventory_level", "offer_id")
                if k in item.payload
            },
        }
        for item in items
    ]
    with rt.sessions() as session:
        requeue(session, newer)
        mark_quarantined(session, [item.id for item in items], reason)
        quarantine_many(session, Stream.OFFER_SYNC, records, run_id=run_id)
        session.commit()
    if items:
        stats.quarantined[reason] += len(items)


def finish_entry(session: Session, operation: str, key: str, outcome: str, external_id: str | None = None) -> None:
    entry = ledger_get(session, "bigcommerce", operation, key)
    if entry is not None:
        ledger_finish(session, entry, outcome, external_id)


def finish_ledger(rt: Runtime, operation: str, key: str, outcome: str, external_id: str | None = None) -> None:
    with rt.sessions() as session:
        finish_entry(session, operation, key, outcome, external_id)
        session.commit()
