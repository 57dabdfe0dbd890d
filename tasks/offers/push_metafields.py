"""Write the offer metafields (winning offer and runners-up) of changed variants with the batch endpoints.

A variant's first value is created (POST, permission `read_and_sf_access` so the theme can read it) and its
metafield id is recorded; later values update that id (PUT). Both are batches of at most 50. A create is not
repeatable: when a claimed item was attempted before (a crash or a lost response), the variants' existing
metafields are read first and updated instead, so a rerun never creates a second one. Each call goes through
the ledger; once acknowledged, the metafield id and value hash are recorded and the offer map takes the winning
`offer_id` and `shop_id` (order routing reads them there).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bridge.runtime import Runtime
from bridge.streams import Stream
from connectors.bigcommerce.models import MetafieldBatchResult, MetafieldCreate, MetafieldUpdate
from connectors.state import (
    OutboxItem,
    claim_batch,
    offer_metafields_for,
    resolve_rejections,
    upsert_offer_map,
    upsert_offer_metafields,
)
from tasks.offers.calls import PushStats, acknowledge, owned_items, quarantine_items, send_batches
from tasks.offers.metafields import METAFIELD_KEY, METAFIELD_KIND

__all__ = ["METAFIELD_REJECTED", "PERMISSION", "push_metafields"]

PERMISSION = "read_and_sf_access"
METAFIELD_REJECTED = "metafield rejected by BigCommerce"
_BATCH = 50
# Items claimed at a time: their calls are begun in one transaction and settled in one (`calls.send_batches`).
_CLAIM = 1000


async def push_metafields(rt: Runtime, stats: PushStats, worker: str, run_id: str | None) -> None:
    """Drain the due metafield items, a claim of `_CLAIM` at a time in batch calls of 50, until the queue is
    empty or the drain must stop."""
    while stats.transient_failures < rt.config.offers.max_push_failures:
        with rt.sessions() as session:
            items = claim_batch(session, Stream.OFFER_SYNC, METAFIELD_KIND, _CLAIM, worker)
            session.commit()
        if not items:
            return
        allowed = owned_items(rt, items, stats, run_id)
        if allowed:
            await _push_claim(rt, allowed, stats, run_id)


async def _push_claim(rt: Runtime, items: list[OutboxItem], stats: PushStats, run_id: str | None) -> None:
    variants = [int(item.payload["variant_id"]) for item in items]
    with rt.sessions() as session:
        ids = {variant: state[0] for variant, state in offer_metafields_for(session, variants).items() if state[0]}
    if any(item.attempts > 1 and int(item.payload["variant_id"]) not in ids for item in items):
        ids.update(await _existing_ids(rt, [v for v in variants if v not in ids]))
    creates = [item for item in items if int(item.payload["variant_id"]) not in ids]
    updates = [item for item in items if int(item.payload["variant_id"]) in ids]
    namespace = rt.config.offers.metafield_namespace

    async def create(batch: list[OutboxItem]) -> MetafieldBatchResult:
        stats.metafield_calls += 1
        bodies = [
            MetafieldCreate(
                namespace=namespace,
                key=METAFIELD_KEY,
                value=item.payload["value"],
                permission_set=PERMISSION,
                resource_id=int(item.payload["variant_id"]),
            )
            for item in batch
        ]
        return await rt.bigcommerce.create_variant_metafields(bodies)

    async def update(batch: list[OutboxItem]) -> MetafieldBatchResult:
        stats.metafield_calls += 1
        changes = [
            MetafieldUpdate(id=ids[int(item.payload["variant_id"])], value=item.payload["value"]) for item in batch
        ]
        return await rt.bigcommerce.update_variant_metafields(changes)

    for operation, chosen, send in (
        ("create_variant_metafields", creates, create),
        ("update_variant_metafields", updates, update),
    ):
        batches = [chosen[start : start + _BATCH] for start in range(0, len(chosen), _BATCH)]
        if batches:
            answered = await send_batches(rt, operation, batches, send, METAFIELD_REJECTED, stats, run_id)
            _record(rt, answered, ids, operation, stats, run_id)


async def _existing_ids(rt: Runtime, variants: list[int]) -> dict[int, int]:
    """The offer metafield ids BigCommerce already holds for these variants (recovering an unrecorded create)."""
    found: dict[int, int] = {}
    namespace = rt.config.offers.metafield_namespace
    async for page in rt.bigcommerce.iter_variant_metafields_of(variants, namespace=namespace, key=METAFIELD_KEY):
        found.update({m.resource_id: m.id for m in page if m.resource_id is not None})
    return found


def _record(
    rt: Runtime,
    answered: list[tuple[list[OutboxItem], str, MetafieldBatchResult]],
    ids: dict[int, int],
    operation: str,
    stats: PushStats,
    run_id: str | None,
) -> None:
    """Record what was saved (metafield id, hash, winner in the offer map) in one transaction, and quarantine
    what was refused."""
    variant_of = {metafield_id: variant for variant, metafield_id in ids.items()}
    done: list[tuple[OutboxItem, int]] = []
    refused: list[tuple[OutboxItem, str]] = []
    for items, _, result in answered:
        saved: dict[int, int] = {}
        for metafield in result.saved:
            variant = metafield.resource_id if metafield.resource_id is not None else variant_of.get(metafield.id)
            if variant is not None:
                saved[variant] = metafield.id
        reasons: dict[int | None, str] = {}
        for body, message in result.rejected:
            variant = body.resource_id if isinstance(body, MetafieldCreate) else variant_of.get(body.id)
            reasons[variant] = message
        for item in items:
            variant = int(item.payload["variant_id"])
            if variant in saved:
                done.append((item, saved[variant]))
            else:
                refused.append((item, reasons.get(variant, "not saved")))

    def record(session: Session) -> None:
        upsert_offer_metafields(
            session,
            [
                {
                    "bc_variant_id": int(item.payload["variant_id"]),
                    "product_sku": item.payload["product_sku"],
                    "metafield_id": metafield_id,
                    "pushed_hash": item.payload["hash"],
                }
                for item, metafield_id in done
            ],
        )
        upsert_offer_map(
            session,
            [
                {
                    "product_sku": item.payload["product_sku"],
                    "offer_id": item.payload["offer_id"],
                    "shop_id": item.payload["shop_id"],
                }
                for item, _ in done
            ],
        )
        resolve_rejections(
            session, Stream.OFFER_SYNC, [item.payload["product_sku"] for item, _ in done], METAFIELD_REJECTED
        )

    if answered:
        acknowledge(rt, [item for item, _ in done], operation, [key for _, key, _ in answered], record)
    stats.metafields_written += len(done)
    for item, reason in refused:
        quarantine_items(rt, [item], f"{METAFIELD_REJECTED}: {reason}", stats, run_id)
