"""The offer-sync run report, step by step: each step's result becomes a `Tally` the flow's report absorbs.

A tally is built afresh from what a task returned, so a retried task counts once, and a run that fails at the
push still reports what it read and decided. Ids, counts, prices and reasons only; no customer data exists in
this stream, and none is added.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tasks.offers.calls import PushStats
from tasks.offers.cycle import CycleResult
from tasks.offers.gating import GatedOffers
from tasks.offers.ownership import Ownership
from tasks.offers.sources import OfferRead, SellerHealth
from tasks.reporting import Tally

__all__ = [
    "decision_tally",
    "gate_tally",
    "ownership_tally",
    "percentile",
    "push_tally",
    "read_tally",
]


def percentile(values: Sequence[float], share: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), share)) if len(values) else 0.0


def read_tally(mode: str, read: OfferRead) -> Tally:
    """The export read: the mode it ran in, offers read (rejected rows included) and offers deleted."""
    return Tally(counts={"mode": mode, "offers_read": read.rows_read, "offers_deleted": len(read.deleted_ids)})


def ownership_tally(ownership: Ownership, created: list[str]) -> Tally:
    """The boundary: SKUs colliding with native products, SKUs with no listing, draft listings created."""
    return Tally(
        counts={
            "sku_collisions": len(ownership.collisions),
            "mapping_errors": len(ownership.unmapped),
            "listings_created": len(created),
        },
        tables={
            "mapping-errors": [{"product_sku": sku, "error": "no BigCommerce listing"} for sku in ownership.unmapped]
        },
    )


def gate_tally(gated: GatedOffers, health: SellerHealth) -> Tally:
    """The gate: offers refused (SKU collisions and the suite's refusals, with reasons), and the sellers whose
    offers are unbuyable, for a failed feed or a tripped breaker."""
    failed = sorted(health.failed_feeds.items()) + [(shop_id, "circuit breaker") for shop_id in sorted(gated.tripped)]
    tally = Tally(
        counts={"sellers_failed": len(failed)},
        tables={
            "quarantined": [
                {"product_sku": r["record_key"], "reason": r["reason"], **dict(r.get("payload") or {})}  # type: ignore[arg-type]
                for r in gated.refused
            ],
            "sellers-failed": [
                {"shop_id": shop_id, "seller": health.names.get(shop_id, ""), "reason": reason}
                for shop_id, reason in failed
            ],
        },
    )
    tally.quarantined.update(str(r["reason"]) for r in gated.refused)
    return tally


def decision_tally(cycle: CycleResult) -> Tally:
    """The decision: variants changed (made unbuyable, stock only), metafields changed, held items superseded."""
    return Tally(
        counts={
            "changed": cycle.changed,
            "made_unbuyable": cycle.unbuyable,
            "stock_only_changes": cycle.stock_only,
            "metafields_changed": cycle.metafields_changed,
            "held_superseded": cycle.superseded_held,
        }
    )


def push_tally(push: PushStats) -> Tally:
    """The drain: changes pushed and the calls it took, what is left queued, and the push latency."""
    variant_calls = push.batches + push.inventory_calls
    tally = Tally(
        counts={
            "pushed": push.pushed,
            "push_batches": push.batches,
            "inventory_calls": push.inventory_calls,
            "metafields_written": push.metafields_written,
            "metafield_calls": push.metafield_calls,
            "write_calls_bigcommerce": push.calls,
            "updates_per_call": round(push.pushed / variant_calls, 2) if variant_calls else 0.0,
            "push_wall_s": round(push.wall_s, 3),
            "transient_batch_failures": push.transient_failures,
            "queue_left": push.left,
            "taken_over_from_dead_workers": push.taken_over,
            "latency_p50_s": round(percentile(push.latencies_s, 50), 3),
            "latency_p95_s": round(percentile(push.latencies_s, 95), 3),
        },
        tables={"changes": push.changes},
    )
    tally.quarantined.update(push.quarantined)
    return tally
