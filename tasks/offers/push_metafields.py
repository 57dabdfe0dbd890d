"""Write the offer metafields (winning offer and runners-up) of changed variants with the batch endpoints.

A variant's first value is created (POST, permission `read_and_sf_access` so the theme can read it) and its
metafield id is recorded; later values update that id (PUT). Both are batches of at most 50. A create is not
repeatable: when a claimed item was attempted before (a crash or a lost response), the variants' existing
metafields are read first and updated instead, so a rerun never creates a second one. Each call goes through
the ledger; once acknowledged, the metafield id and value hash are recorded and the offer map takes the winning
`offer_id` and `shop_id` (order routing reads them there).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bridge.runtime import Runtime
from bridge.streams import Stream
from connectors.bigcommerce.client import BigCommerceClient
from connectors.bigcommerce.models import MetafieldBatchResult
from connectors.state import (
    claim_batch,
    offer_metafields_for,
    resolve_rejections,
    upsert_offer_map_columns,
    upsert_offer_metafield_columns,
)
from tasks.offers.calls import PushStats, acknowledge, owned_claims, quarantine_each, send_batches
from tasks.offers.metafields import METAFIELD_KEY, METAFIELD_KIND
from tasks.offers.payloads import Claimed, MetafieldChange

__all__ = ["METAFIELD_REJECTED", "PERMISSION", "push_metafields"]

PERMISSION = "read_and_sf_access"
METAFIELD_REJECTED = "metafield rejected by BigCommerce"
_BATCH = 50
# Items claimed at a time: their calls are begun in one transaction and settled in one (`calls.send_batches`); as
# many as a variant claim, since each claim's transactions cost the same whatever its size.
_CLAIM = 2000

Metafield = Claimed[MetafieldChange]
Body = dict[str, Any]


@dataclass(frozen=True)
class _Write:
    """One of the two metafield writes: which items it takes, the body of each, and the batch call that sends them.

    The table below replaces a dispatch on the operation's name: a variant whose metafield id is known is updated
    by that id, any other gets its metafield created.
    """

    operation: str
    for_known_id: bool
    body: Callable[[MetafieldChange, Mapping[int, int], str], Body]
    call: Callable[[BigCommerceClient, list[Body]], Awaitable[MetafieldBatchResult]]


def _create_body(change: MetafieldChange, ids: Mapping[int, int], namespace: str) -> Body:
    # POST /v3/catalog/variants/metafields (`catalog_product.v3.yml`, `createVariantsMetafields`): namespace,
    # key, value and permission_set are required; resource_id names the variant.
    return {
        "namespace": namespace,
        "key": METAFIELD_KEY,
        "value": change.value,
        "permission_set": PERMISSION,
        "resource_id": change.variant_id,
    }


def _update_body(change: MetafieldChange, ids: Mapping[int, int], namespace: str) -> Body:
    # PUT /v3/catalog/variants/metafields (`updateVariantsMetafields`): the metafield `id` and what changes.
    return {"id": ids[change.variant_id], "value": change.value}


_WRITES = (
    _Write(
        "create_variant_metafields",
        False,
        _create_body,
        lambda client, bodies: client.create_variant_metafields(bodies),
    ),
    _Write(
        "update_variant_metafields",
        True,
        _update_body,
        lambda client, bodies: client.update_variant_metafields(bodies),
    ),
)


async def push_metafields(rt: Runtime, stats: PushStats, worker: str, run_id: str | None) -> None:
    """Drain the due metafield items, a claim of `_CLAIM` at a time in batch calls of 50, until the queue is
    empty or the drain must stop."""
    while stats.transient_failures < rt.config.offers.max_push_failures:
        with rt.sessions() as session:
            items = claim_batch(session, Stream.OFFER_SYNC, METAFIELD_KIND, _CLAIM, worker)
            session.commit()
        if not items:
            return
        allowed = owned_claims(rt, items, MetafieldChange, stats, run_id)
        if allowed:
            await _push_claim(rt, allowed, stats, run_id)


async def _push_claim(rt: Runtime, claims: list[Metafield], stats: PushStats, run_id: str | None) -> None:
    variants = [claimed.change.variant_id for claimed in claims]
    with rt.sessions() as session:
        ids = {variant: state[0] for variant, state in offer_metafields_for(session, variants).items() if state[0]}
    if any(claimed.item.attempts > 1 and claimed.change.variant_id not in ids for claimed in claims):
        ids.update(await _existing_ids(rt, [v for v in variants if v not in ids]))
    namespace = rt.config.offers.metafield_namespace
    for write in _WRITES:
        chosen = [claimed for claimed in claims if (claimed.change.variant_id in ids) == write.for_known_id]
        batches = [chosen[start : start + _BATCH] for start in range(0, len(chosen), _BATCH)]
        if not batches:
            continue

        async def send(batch: list[Metafield], write: _Write = write) -> MetafieldBatchResult:
            stats.metafield_calls += 1
            return await write.call(rt.bigcommerce, [write.body(c.change, ids, namespace) for c in batch])

        answered = await send_batches(rt, write.operation, batches, send, METAFIELD_REJECTED, stats, run_id)
        _record(rt, answered, ids, write.operation, stats, run_id)


async def _existing_ids(rt: Runtime, variants: list[int]) -> dict[int, int]:
    """The offer metafield ids BigCommerce already holds for these variants (recovering an unrecorded create)."""
    found: dict[int, int] = {}
    namespace = rt.config.offers.metafield_namespace
    async for page in rt.bigcommerce.iter_variant_metafields_of(variants, namespace=namespace, key=METAFIELD_KEY):
        found.update({m.resource_id: m.id for m in page if m.resource_id is not None})
    return found


def _record(
    rt: Runtime,
    answered: list[tuple[list[Metafield], str, MetafieldBatchResult]],
    ids: dict[int, int],
    operation: str,
    stats: PushStats,
    run_id: str | None,
) -> None:
    """Record what was saved (metafield id, hash, winner in the offer map) in one transaction, and quarantine
    what was refused (with the API's message for that item when it gave one)."""
    variant_of = {metafield_id: variant for variant, metafield_id in ids.items()}
    done: list[tuple[Metafield, int]] = []
    refused: list[tuple[Metafield, str]] = []
    for batch, _, result in answered:
        saved: dict[int, int] = {}
        for metafield in result.saved:
            variant = metafield.resource_id if metafield.resource_id is not None else variant_of.get(metafield.id)
            if variant is not None:
                saved[variant] = metafield.id
        reasons = {_variant_of(body, variant_of): message for body, message in result.rejected}
        for claimed in batch:
            variant = claimed.change.variant_id
            if variant in saved:
                done.append((claimed, saved[variant]))
            else:
                refused.append((claimed, reasons.get(variant, "not saved")))

    def record(session: Session) -> None:
        changes = [(claimed.change, metafield_id) for claimed, metafield_id in done]
        upsert_offer_metafield_columns(
            session,
            {
                "bc_variant_id": [change.variant_id for change, _ in changes],
                "product_sku": [change.product_sku for change, _ in changes],
                "metafield_id": [metafield_id for _, metafield_id in changes],
                "pushed_hash": [change.hash for change, _ in changes],
            },
        )
        upsert_offer_map_columns(
            session,
            {
                "product_sku": [change.product_sku for change, _ in changes],
                "offer_id": [change.offer_id for change, _ in changes],
                "shop_id": [change.shop_id for change, _ in changes],
            },
        )
        resolve_rejections(
            session, Stream.OFFER_SYNC, [change.product_sku for change, _ in changes], METAFIELD_REJECTED
        )

    if answered:
        acknowledge(rt, [claimed for claimed, _ in done], operation, [key for _, key, _ in answered], record)
    stats.metafields_written += len(done)
    quarantine_each(rt, [(claimed, f"{METAFIELD_REJECTED}: {reason}") for claimed, reason in refused], stats, run_id)


def _variant_of(body: Mapping[str, Any], variant_of: Mapping[int, int]) -> int | None:
    """The variant a refused body was for: a create names it (`resource_id`), an update names its metafield."""
    if body.get("resource_id") is not None:
        return int(body["resource_id"])
    return variant_of.get(int(body["id"])) if body.get("id") is not None else None
