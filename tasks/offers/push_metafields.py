"""Write the offer metafields (winning offer and runners-up) of changed variants with the batch endpoints.

A variant's first value is created (POST, permission `read_and_sf_access` so the theme can read it) and its
metafield id is recorded; later values update that id (PUT). Both are batches of at most 50. A create is not
repeatable: when a claimed item was attempted before (a crash or a lost response), the variants' existing
metafields are read first and updated instead, so a rerun never creates a second one. Each call goes through
the ledger; once acknowledged, the metafield id and value hash are recorded and the offer map takes the winning
`offer_id` and `shop_id` (order routing reads them there).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.orm import Session

from bcmirakl.runtime import Runtime
from connectors.bigcommerce.models import MetafieldBatchResult, MetafieldCreate, MetafieldUpdate
from connectors.state import (
    OutboxItem,
    claim_batch,
    offer_metafields_for,
    resolve_rejections,
    upsert_offer_map,
    upsert_offer_metafields,
)
from tasks.offers.calls import NOT_OWNED, STREAM, PushStats, acknowledge, ledgered_call, quarantine_items
from tasks.offers.metafields import METAFIELD_KEY, METAFIELD_KIND

__all__ = ["METAFIELD_REJECTED", "PERMISSION", "push_metafields"]

PERMISSION = "read_and_sf_access"
METAFIELD_REJECTED = "metafield rejected by BigCommerce"
_BATCH = 50


async def push_metafields(rt: Runtime, owned: set[int], stats: PushStats, worker: str, run_id: str | None) -> None:
    """Drain the due metafield items in batches of 50 until the queue is empty or the drain must stop."""
    while stats.transient_failures < rt.config.offers.max_push_failures:
        with rt.sessions() as session:
            items = claim_batch(session, Stream.OFFER_SYNC, METAFIELD_KIND, _BATCH, worker)
            session.commit()
        if not items:
            return
        refused = [item for item in items if int(item.payload["variant_id"]) not in owned]
        if refused:
            quarantine_items(rt, refused, NOT_OWNED, stats, run_id)
        allowed = [item for item in items if int(item.payload["variant_id"]) in owned]
        if allowed:
            await _push_batch(rt, allowed, stats, run_id)


async def _push_batch(rt: Runtime, items: list[OutboxItem], stats: PushStats, run_id: str | None) -> None:
    variants = [int(item.payload["variant_id"]) for item in items]
    with rt.sessions() as session:
        ids = {variant: state[0] for variant, state in offer_metafields_for(session, variants).items() if state[0]}
    if any(item.attempts > 1 and int(item.payload["variant_id"]) not in ids for item in items):
        ids.update(await _existing_ids(rt, [v for v in variants if v not in ids]))
    creates = [item for item in items if int(item.payload["variant_id"]) not in ids]
    updates = [item for item in items if int(item.payload["variant_id"]) in ids]
    namespace = rt.config.offers.metafield_namespace
    if creates:
        bodies = [
            MetafieldCreate(
                namespace=namespace,
                key=METAFIELD_KEY,
                value=item.payload["value"],
                permission_set=PERMISSION,
                resource_id=int(item.payload["variant_id"]),
            )
            for item in creates
        ]
        await _call(
            rt,
            "create_variant_metafields",
            creates,
            {},
            lambda: rt.bigcommerce.create_variant_metafields(bodies),
            stats,
            run_id,
        )
    if updates:
        changes = [
            MetafieldUpdate(id=ids[int(item.payload["variant_id"])], value=item.payload["value"]) for item in updates
        ]
        await _call(
            rt,
            "update_variant_metafields",
            updates,
            ids,
            lambda: rt.bigcommerce.update_variant_metafields(changes),
            stats,
            run_id,
        )


async def _existing_ids(rt: Runtime, variants: list[int]) -> dict[int, int]:
    """The offer metafield ids BigCommerce already holds for these variants (recovering an unrecorded create)."""
    found: dict[int, int] = {}
    namespace = rt.config.offers.metafield_namespace
    async for page in rt.bigcommerce.iter_variant_metafields_of(variants, namespace=namespace, key=METAFIELD_KEY):
        found.update({m.resource_id: m.id for m in page if m.resource_id is not None})
    return found


async def _call(
    rt: Runtime,
    operation: str,
    items: list[OutboxItem],
    ids: dict[int, int],
    send: Callable[[], Awaitable[MetafieldBatchResult]],
    stats: PushStats,
    run_id: str | None,
) -> None:
    stats.metafield_calls += 1
    key, result = await ledgered_call(rt, operation, items, send, METAFIELD_REJECTED, stats, run_id)
    if result is not None:
        _record(rt, items, ids, result, operation, key, stats, run_id)


def _record(
    rt: Runtime,
    items: list[OutboxItem],
    ids: dict[int, int],
    result: MetafieldBatchResult,
    operation: str,
    key: str,
    stats: PushStats,
    run_id: str | None,
) -> None:
    """Record what was saved (metafield id, hash, winner in the offer map) and quarantine what was refused."""
    variant_of = {metafield_id: variant for variant, metafield_id in ids.items()}
    saved: dict[int, int] = {}
    for metafield in result.saved:
        variant = metafield.resource_id if metafield.resource_id is not None else variant_of.get(metafield.id)
        if variant is not None:
            saved[variant] = metafield.id
    done = [item for item in items if int(item.payload["variant_id"]) in saved]

    def record(session: Session) -> None:
        upsert_offer_metafields(
            session,
            [
                {
                    "bc_variant_id": int(item.payload["variant_id"]),
                    "product_sku": item.payload["product_sku"],
                    "metafield_id": saved[int(item.payload["variant_id"])],
                    "pushed_hash": item.payload["hash"],
                }
                for item in done
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
                for item in done
            ],
        )
        resolve_rejections(session, STREAM, [item.payload["product_sku"] for item in done], METAFIELD_REJECTED)

    acknowledge(rt, done, operation, key, record)
    stats.metafields_written += len(done)
    reasons: dict[int | None, str] = {}
    for body, message in result.rejected:
        variant = body.resource_id if isinstance(body, MetafieldCreate) else variant_of.get(body.id)
        reasons[variant] = message
    for item in items:
        variant = int(item.payload["variant_id"])
        if variant not in saved:
            reason = reasons.get(variant, "not saved")
            quarantine_items(rt, [item], f"{METAFIELD_REJECTED}: {reason}", stats, run_id)
