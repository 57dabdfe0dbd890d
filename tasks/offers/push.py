"""Drain the offer outbox into BigCommerce, at the pace the quota headers allow.

Variant changes are claimed up to 2,000 at a time. Changes that only move stock (still buyable, same price)
go out as one inventory absolute adjustment at the default location when that saves calls; the rest go as
variant batch updates of at most 50. Then the offer metafields (winner and runners-up, `push_metafields`).
Each call is recorded in the ledger before it is made (a claim's calls in one statement, `calls.send_batches`);
in one transaction after a claim's calls, the saved items are marked done, the ledger rows closed and the
acknowledged state written to the offer map. Variant and stock writes are absolute, so a batch re-sent after a
crash between push and record sets the same values again. A claimed item whose variant the offer map does not
hold as Mirakl-owned is refused (quarantined), never written. Items
BigCommerce rejects are quarantined and the rest of the batch is kept; a batch that keeps failing on transient
errors goes back to the queue and the drain stops after `max_push_failures` such batches.

The drain is a registered outbox worker (`tasks.leases`): it first takes back the items a dead drain left in
flight (a run killed mid-PUT) and closes that drain's `started` ledger rows, since the recovery rule of an
absolute write is to send it again; the items then go out in this run, not ten minutes later. A pushed change
resolves the earlier push rejections of its product, which a newer change or `bcmirakl offers requeue` revived.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from prefect import artifacts, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.orm import Session

from bridge.runtime import Runtime
from bridge.streams import Stream
from common.errors import PermanentApiError, TransientApiError
from connectors.bigcommerce.models import InventoryAdjustment, VariantBatchResult, VariantUpdate
from connectors.state import (
    OutboxItem,
    claim_batch,
    get_offer_map,
    ledger_finish,
    ledger_started,
    queue_depth,
    resolve_rejections,
    upsert_offer_map,
)
from connectors.state.types import utcnow
from tasks.leases import outbox_worker
from tasks.offers.calls import (
    KIND,
    PushStats,
    acknowledge,
    begin_call,
    finish_ledger,
    owned_items,
    quarantine_items,
    send_batches,
)
from tasks.offers.push_metafields import push_metafields
from tasks.progress import report_progress

__all__ = ["INVENTORY_LIMIT", "PUSH_OPERATIONS", "REJECTED", "drain_outbox"]

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


@task(cache_policy=NO_CACHE)
async def drain_outbox(rt: Runtime, run_id: str | None = None) -> PushStats:
    """Push every due variant change, then every due offer metafield; returns counts, reasons and latencies."""
    stats = PushStats()
    async with outbox_worker(rt, Stream.OFFER_SYNC) as lease:
        stats.worker, stats.taken_over = lease.worker, lease.released
        if lease.taken_over:
            close_abandoned_calls(rt, lease.taken_over)
        with rt.sessions() as session:
            total = queue_depth(session, Stream.OFFER_SYNC)["pending"] or 1
        # Looked up at call time (`artifacts.…`), so a harness that replaces Prefect's artifact calls reaches this one.
        progress = await artifacts.acreate_progress_artifact(
            0.0, key="offer-sync-progress", description="offer push progress"
        )
        started = reported = time.perf_counter()
        while stats.transient_failures < rt.config.offers.max_push_failures:
            with rt.sessions() as session:
                items = claim_batch(session, Stream.OFFER_SYNC, KIND, INVENTORY_LIMIT, lease.worker)
                session.commit()
            if not items:
                break
            await _push_round(rt, items, stats, run_id)
            report_progress("offer push", stats.pushed, total)
            if time.perf_counter() - reported >= PROGRESS_EVERY_S:
                reported = time.perf_counter()
                await artifacts.aupdate_progress_artifact(progress, min(100.0, 100.0 * stats.pushed / total))
        await push_metafields(rt, stats, lease.worker, run_id)
        stats.wall_s = time.perf_counter() - started
        await artifacts.aupdate_progress_artifact(progress, 100.0)
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


async def _push_round(rt: Runtime, items: list[OutboxItem], stats: PushStats, run_id: str | None) -> None:
    """Push one claim: stock-only changes as one inventory call when that saves calls, the rest as batches."""
    allowed = owned_items(rt, items, stats, run_id)
    size = rt.config.offers.push_batch_size
    stock = [item for item in allowed if item.payload.get("stock_only")]
    full = [item for item in allowed if not item.payload.get("stock_only")]
    if stock and -(-len(allowed) // size) > -(-len(full) // size) + 1:
        stock = await _push_inventory(rt, stock, stats)
        full += stock
    else:
        full = allowed
    batches = [full[start : start + size] for start in range(0, len(full), size)]
    if batches:
        await _push_batches(rt, batches, stats, run_id)


async def _push_inventory(rt: Runtime, items: list[OutboxItem], stats: PushStats) -> list[OutboxItem]:
    """Set stock with one absolute adjustment; returns the items left for variant batches (on refusal)."""
    location = await rt.bigcommerce.default_location_id()
    key = begin_call(rt, "adjust_inventory_absolute", items, stats.worker)
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
        finish_ledger(rt, "adjust_inventory_absolute", [key], "failed")
        return items
    _acknowledge(rt, items, stats, "adjust_inventory_absolute", [key], transaction_id)
    return []


async def _push_batches(rt: Runtime, batches: list[list[OutboxItem]], stats: PushStats, run_id: str | None) -> None:
    """Send a claim's variant batches, then settle every saved item in one transaction; refusals are quarantined."""

    async def send(batch: list[OutboxItem]) -> VariantBatchResult:
        stats.batches += 1
        return await rt.bigcommerce.update_variants([_update(item.payload) for item in batch])

    answered = await send_batches(rt, "update_variants", batches, send, REJECTED, stats, run_id)
    if not answered:
        return
    done = [
        item
        for batch, _, result in answered
        for item in batch
        if int(item.payload["variant_id"]) not in result.rejected
    ]
    _acknowledge(rt, done, stats, "update_variants", [key for _, key, _ in answered])
    for batch, _, result in answered:
        for item in batch:
            message = result.rejected.get(int(item.payload["variant_id"]))
            if message is not None:
                quarantine_items(rt, [item], f"{REJECTED}: {message}", stats, run_id)


def _acknowledge(
    rt: Runtime,
    done: list[OutboxItem],
    stats: PushStats,
    operation: str,
    keys: list[str],
    external_id: str | None = None,
) -> None:
    acknowledged = utcnow()

    def record(session: Session) -> None:
        # BigCommerce holds these states now (the offer map says so).
        record_changes(session, done, stats)
        upsert_offer_map(session, [_acknowledged(item.payload, acknowledged) for item in done])
        resolve_rejections(session, Stream.OFFER_SYNC, [item.payload["product_sku"] for item in done], REJECTED)

    acknowledge(rt, done, operation, keys, record, external_id)
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
