"""The ownership boundary: which BigCommerce variants the bridge may write, and where each Mirakl SKU lands.

Only variants carrying the metafield `<namespace>.owner = mirakl` are Mirakl-owned. The marks are cached in
the offer map (SKU -> product, variant, owner) and re-listed in full only by a `full` run, which turns a row
whose mark was revoked `native` so the bridge stops writing it; a delta looks up only SKUs the map lacks.
A Mirakl SKU that matches a variant without the mark is a SKU collision (a native product: quarantined, never
written); a SKU with no variant at all is a mapping error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from connectors.bigcommerce.matching import Sweep
from connectors.bigcommerce.models import Variant
from connectors.state import offer_map_rows, upsert_offer_map
from tasks.offers.book import changed_skus
from tasks.offers.diff import MAP_COLUMNS
from tasks.offers.sources import OfferRead
from tasks.retry import TASK_RETRY

__all__ = ["OWNER_KEY", "OWNER_VALUE", "Ownership", "marked_variants", "read_offer_map", "refresh_ownership"]

OWNER_KEY = "owner"
OWNER_VALUE = "mirakl"
# What the mapping reads of a variant and of a mark: listed alone (`include_fields`), a first sync's sweep of a
# big catalog moves and parses a fraction of each record (GET /v3/catalog/variants and its metafields).
_MAPPED_FIELDS = ("sku", "product_id")
_MARK_FIELDS = "resource_id,namespace,key,value"


@dataclass
class Ownership:
    """The offer map after the refresh (a `full` run: every row; a delta: the rows of the SKUs it read), and the
    SKUs the bridge may not write."""

    mapping: pd.DataFrame
    collisions: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def read_offer_map(rt: Runtime, product_skus: Iterable[str] | None = None) -> pd.DataFrame:
    """The offer map as a frame: every row, or the rows of `product_skus`."""
    with rt.sessions() as session:
        return map_frame(offer_map_rows(session, MAP_COLUMNS, product_skus))


def map_frame(rows: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=MAP_COLUMNS)


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def refresh_ownership(rt: Runtime, read: OfferRead, full: bool = False, recheck: bool = False) -> Ownership:
    """Classify the SKUs `read` names against the offer map; `full` first re-lists every ownership mark.

    A delta trusts the map and calls BigCommerce only for SKUs the map does not know yet (their variants,
    then those variants' marks), and only if one of their offers is new or changed: a known mapping error
    re-read unchanged is not looked up again (`recheck` looks up every unknown SKU, as after draft listings
    were created). So a delta whose offers are all unchanged makes no call at all. The SKUs are taken from
    `read` here, not passed as a set: Prefect walks every element of a collection argument.
    """
    offers = read.offers
    skus = set(offers["product_sku"].dropna()) | set(read.deleted_skus)
    # A delta needs only the rows of the SKUs it read (the decision asks the store for the others it re-decides);
    # a full run's decision, and so a recheck that may follow it, needs the whole map.
    scope = None if full or recheck else skus
    mapping = read_offer_map(rt, scope)
    marks = await _owned_marks(rt) if full else None
    rows = _mark_changes(mapping, marks) if marks is not None else []
    known = set(mapping["product_sku"])
    # The SKUs the lookup below may ask for, kept if the marked variants' listing turns out to be a full sweep.
    candidates = skus - known
    sweep: Sweep[Variant] = Sweep(lambda variant: variant.sku in candidates)
    if marks is not None:
        rows += await _owned_unmapped(rt, mapping, marks, sweep)
    mapped = known | {str(row["product_sku"]) for row in rows}
    unmapped = skus - mapped
    if not full and not recheck and unmapped:
        with rt.sessions() as session:
            unmapped &= changed_skus(session, offers[offers["product_sku"].isin(unmapped)])
    unknown = sorted(unmapped)
    if unknown:
        # Only the variants whose SKU was asked for: a store that ignores `sku:in` must not map unrelated ones.
        # (sku, product, variant) only: a first full run of a big catalog lists every variant. A store that
        # ignored `id:in` above has just been swept whole: its variants of these SKUs are in hand already.
        found = (
            _swept_by_sku(sweep, unmapped)
            if sweep.complete
            else [
                (str(v.sku), v.product_id, v.id)
                async for page in rt.bigcommerce.iter_variants_by_sku(unknown, fields=_MAPPED_FIELDS)
                for v in page
                if v.sku
            ]
        )
        # A full run has just listed every mark: asking them again per variant would repeat that sweep.
        if marks is not None:
            owned = marks
        else:
            owned = await marked_variants(rt, [variant_id for _, _, variant_id in found]) if found else set()
        rows += [_mapping_row(sku, pid, vid, "mirakl" if vid in owned else "native") for sku, pid, vid in found]
    if rows:
        with rt.sessions() as session:
            upsert_offer_map(session, rows)
            session.commit()
        mapping = read_offer_map(rt, scope)
    natives = set(mapping.loc[mapping["owner"] == "native", "product_sku"])
    still = skus - set(mapping["product_sku"])
    return Ownership(mapping, sorted(skus & natives), sorted(still))


def _swept_by_sku(sweep: Sweep[Variant], skus: set[str]) -> list[tuple[str, Any, int]]:
    """(sku, product, variant) of the swept variants of these SKUs, the first of each SKU in listing order, as
    `iter_variants_by_sku` would have yielded them."""
    found: dict[str, tuple[str, Any, int]] = {}
    for variant in sweep.rows:
        if variant.sku and variant.sku in skus and variant.sku not in found:
            found[variant.sku] = (str(variant.sku), variant.product_id, variant.id)
    return list(found.values())


async def _owned_marks(rt: Runtime) -> set[int]:
    """Every variant the store marks Mirakl-owned (one sweep of the ownership metafields)."""
    namespace = rt.config.offers.metafield_namespace
    marks: dict[int, str] = {}
    listing = rt.bigcommerce.iter_variant_metafields(namespace=namespace, key=OWNER_KEY, include_fields=_MARK_FIELDS)
    async for page in listing:
        marks.update({m.resource_id: m.value for m in page if m.resource_id is not None})
    return {variant_id for variant_id, value in marks.items() if value == OWNER_VALUE}


def _mark_changes(mapping: pd.DataFrame, owned: set[int]) -> list[dict[str, object]]:
    """Rows of the map whose owner the marks contradict (a mark revoked or added by hand)."""
    known = mapping[mapping["bc_variant_id"].notna()]
    rows: list[dict[str, object]] = []
    for sku, variant_id, owner in zip(known["product_sku"], known["bc_variant_id"], known["owner"], strict=True):
        expected = "mirakl" if int(variant_id) in owned else "native"
        if owner != expected:
            rows.append({"product_sku": sku, "owner": expected})
    return rows


async def _owned_unmapped(
    rt: Runtime, mapping: pd.DataFrame, owned: set[int], sweep: Sweep[Variant]
) -> list[dict[str, object]]:
    """Map rows for marked variants the map lacks (`sweep` keeps the other variants it wants on a full sweep)."""
    known = {int(v) for v in mapping["bc_variant_id"].dropna()}
    missing = sorted(owned - known)
    rows: list[dict[str, object]] = []
    if missing:
        async for page in rt.bigcommerce.iter_variants_by_id(missing, fields=_MAPPED_FIELDS, sweep=sweep):
            rows.extend(_mapping_row(v.sku, v.product_id, v.id, "mirakl") for v in page if v.sku)
    return rows


async def marked_variants(rt: Runtime, variant_ids: list[int]) -> set[int]:
    """Which of these variants carry the Mirakl ownership mark (one metafield read per chunk of variants).

    Shared with order routing, which asks the mark itself for variants the offer map does not know."""
    owned: set[int] = set()
    namespace = rt.config.offers.metafield_namespace
    async for page in rt.bigcommerce.iter_variant_metafields_of(variant_ids, namespace=namespace, key=OWNER_KEY):
        owned.update(m.resource_id for m in page if m.resource_id is not None and m.value == OWNER_VALUE)
    return owned


def _mapping_row(sku: str, product_id: int, variant_id: int, owner: str) -> dict[str, object]:
    return {"product_sku": sku, "bc_product_id": product_id, "bc_variant_id": variant_id, "bc_sku": sku, "owner": owner}
