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
from connectors.bigcommerce.models import VariantBatchResult
from connectors.state import (
    ClaimedItem,
    claim_batch,
    get_offer_map,
    ledger_finish,
    ledger_started,
    pending_count,
    resolve_rejections,
    upsert_offer_map_columns,
)
from connectors.state.types import utcnow
from tasks.leases import outbox_worker
from tasks.offers.calls import (
    CHANGES_SHOWN,
    KIND,
    PushStats,
    acknowledge,
    begin_call,
    finish_ledger,
    owned_claims,
    quarantine_each,
    send_batches,
)
from tasks.offers.metafields import METAFIELD_KIND
from tasks.offers.payloads import Claimed, VariantChange
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
INVENTORY_REASON = "bcmirakl offer sync: seller stock"
# The progress artifact is a Prefect API call: once a second keeps it live without slowing the push.
PROGRESS_EVERY_S = 1.0

Variant = Claimed[VariantChange]
# The offer push's queue: variant changes, then the offer metafields.
QUEUE_KINDS = (KIND, METAFIELD_KIND)


@task(cache_policy=NO_CACHE)
async def drain_outbox(rt: Runtime, run_id: str | None = None) -> PushStats:
    """Push the variant changes due now, then the offer metafields due now; returns what this drain did.

    Callable several times in one run (a flow may drain as its decision fills the outbox): each call counts only
    its own pushes in the `PushStats` it returns, which the flow adds up (`PushStats.add`), and stops when the
    queue is empty or after `max_push_failures` transient failures.
    """
    stats = PushStats()
    async with outbox_worker(rt, Stream.OFFER_SYNC) as lease:
        stats.worker, stats.taken_over = lease.worker, lease.released
        if lease.taken_over:
            close_abandoned_calls(rt, lease.taken_over)
        with rt.sessions() as session:
            total = pending_count(session, Stream.OFFER_SYNC, QUEUE_KINDS) or 1
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
        stats.left = pending_count(session, Stream.OFFER_SYNC, QUEUE_KINDS)
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


async def _push_round(rt: Runtime, items: list[ClaimedItem], stats: PushStats, run_id: str | None) -> None:
    """Push one claim: stock-only changes as one inventory call when that saves calls, the rest as batches."""
    allowed = owned_claims(rt, items, VariantChange, stats, run_id)
    size = rt.config.offers.push_batch_size
    stock = [claimed for claimed in allowed if claimed.change.stock_only]
    full = [claimed for claimed in allowed if not claimed.change.stock_only]
    if stock and -(-len(allowed) // size) > -(-len(full) // size) + 1:
        full += await _push_inventory(rt, stock, stats)
    else:
        full = allowed
    batches = [full[start : start + size] for start in range(0, len(full), size)]
    if batches:
        await _push_batches(rt, batches, stats, run_id)


async def _push_inventory(rt: Runtime, claims: list[Variant], stats: PushStats) -> list[Variant]:
    """Set stock with one absolute adjustment; returns the items left for variant batches (on refusal)."""
    location = await rt.bigcommerce.default_location_id()
    key = begin_call(rt, "adjust_inventory_absolute", claims, stats.worker)
    stats.inventory_calls += 1
    # PUT /v3/inventory/adjustments/absolute (`inventory.v3.yml`, `setAbsoluteAdjustment`): items of
    # location_id, variant_id and quantity.
    adjustments = [
        {"location_id": location, "variant_id": c.change.variant_id, "quantity": c.change.inventory_level}
        for c in claims
    ]
    try:
        transaction_id = await rt.bigcommerce.adjust_inventory_absolute(adjustments, INVENTORY_REASON)
    except (TransientApiError, PermanentApiError):
        # Variant batches carry the same absolute stock and report rejections per item: fall back to them.
        finish_ledger(rt, "adjust_inventory_absolute", [key], "failed")
        return claims
    _acknowledge(rt, claims, stats, "adjust_inventory_absolute", [key], transaction_id)
    return []


async def _push_batches(rt: Runtime, batches: list[list[Variant]], stats: PushStats, run_id: str | None) -> None:
    """Send a claim's variant batches, then settle every saved item in one transaction; refusals are quarantined."""

    async def send(batch: list[Variant]) -> VariantBatchResult:
        stats.batches += 1
        return await rt.bigcommerce.update_variants([claimed.change.api_update() for claimed in batch])

    answered = await send_batches(rt, "update_variants", batches, send, REJECTED, stats, run_id)
    if not answered:
        return
    done = [c for batch, _, result in answered for c in batch if c.change.variant_id not in result.rejected]
    _acknowledge(rt, done, stats, "update_variants", [key for _, key, _ in answered])
    refused = [
        (claimed, f"{REJECTED}: {result.rejected[claimed.change.variant_id]}")
        for batch, _, result in answered
        for claimed in batch
        if claimed.change.variant_id in result.rejected
    ]
    quarantine_each(rt, refused, stats, run_id)


def _acknowledge(
    rt: Runtime,
    done: list[Variant],
    stats: PushStats,
    operation: str,
    keys: list[str],
    external_id: str | None = None,
) -> None:
    acknowledged = utcnow()

    def record(session: Session) -> None:
        # BigCommerce holds these states now (the offer map says so).
        record_changes(session, done, stats)
        for columns in _acknowledged([claimed.change for claimed in done], acknowledged):
            upsert_offer_map_columns(session, columns)
        resolve_rejections(session, Stream.OFFER_SYNC, [claimed.change.product_sku for claimed in done], REJECTED)

    acknowledge(rt, done, operation, keys, record, external_id)
    stats.pushed += len(done)
    # A first push (key ends in "never") loads the catalog; its age says nothing about sync latency.
    stats.latencies_s.extend(
        max(0.0, (acknowledged - claimed.change.mirakl_updated_at).total_seconds())
        for claimed in done
        if not claimed.item.idempotency_key.endswith(":never")
    )


def record_changes(session: Session, done: Sequence[Variant], stats: PushStats) -> None:
    """Keep what the summary's changes table shows: SKU, price and stock before -> after, buyable. The offer
    map still holds the last pushed state; once CHANGES_SHOWN rows are kept this costs nothing more."""
    room = CHANGES_SHOWN - len(stats.changes)
    if room <= 0:
        return
    shown = [claimed.change for claimed in done[:room]]
    before = get_offer_map(session, [change.product_sku for change in shown])
    for change in shown:
        last = before.get(change.product_sku)
        stats.changes.append(
            {
                "product_sku": change.product_sku,
                "price": f"{_or_dash(last.price if last else None)} -> {_or_dash(change.price)}",
                "stock": f"{_or_dash(last.quantity if last else None)} -> {change.inventory_level}",
                "buyable": "no" if change.purchasing_disabled else "yes",
            }
        )


def _or_dash(value: object) -> str:
    """A missing value as "-"; a price without its trailing zeros ("27.7900" -> "27.79")."""
    if value is None or value == "":
        return "-"
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def _acknowledged(changes: Sequence[VariantChange], acknowledged: datetime) -> list[dict[str, list[Any]]]:
    """The offer map's rows for changes BigCommerce saved, as columns: those with a price, then those without
    (which leave the stored price as it is)."""
    priced = [change for change in changes if change.price is not None]
    unpriced = [change for change in changes if change.price is None]
    written: list[dict[str, list[Any]]] = []
    if priced:
        written.append({**_map_columns(priced, acknowledged), "price": [change.price for change in priced]})
    if unpriced:
        written.append(_map_columns(unpriced, acknowledged))
    return written


def _map_columns(changes: list[VariantChange], acknowledged: datetime) -> dict[str, list[Any]]:
    return {
        "product_sku": [change.product_sku for change in changes],
        "offer_id": [change.offer_id for change in changes],
        "shop_id": [change.shop_id for change in changes],
        "quantity": [change.inventory_level for change in changes],
        "purchasable": [not change.purchasing_disabled for change in changes],
        "pushed_hash": [change.hash for change in changes],
        "mirakl_updated_at": [change.mirakl_updated_at for change in changes],
        "bc_acknowledged_at": [acknowledged] * len(changes),
    }
