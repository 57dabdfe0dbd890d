"""The offer-sync run report: the numbers the issue asks for, plus row tables for quarantine and mapping errors.

Ids, counts, prices and reasons only; no customer data exists in this stream, and none is added.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tasks.offers.calls import PushStats
from tasks.offers.cycle import CycleResult
from tasks.offers.ownership import Ownership
from tasks.offers.sources import OfferRead, SellerHealth
from tasks.rejections import report_rejections
from tasks.reporting import RunReport

__all__ = ["fill_report", "percentile"]


def percentile(values: Sequence[float], share: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), share)) if len(values) else 0.0


def fill_report(
    report: RunReport,
    mode: str,
    read: OfferRead,
    health: SellerHealth,
    ownership: Ownership,
    cycle: CycleResult,
    push: PushStats,
    created: list[str],
    calls_after: dict[str, int],
    calls_before: dict[str, int],
) -> RunReport:
    """Fill the run's report (opened by the flow, so a failure still publishes it) once the push is done."""
    report.title = f"Offer sync ({mode})"
    calls = {system: calls_after[system] - calls_before.get(system, 0) for system in calls_after}
    variant_calls = push.batches + push.inventory_calls
    report.counts.update(
        {
            "mode": mode,
            "offers_read": read.rows_read,
            "offers_deleted": len(read.deleted_ids),
            "changed": cycle.changed,
            "made_unbuyable": cycle.unbuyable,
            "pushed": push.pushed,
            "push_batches": push.batches,
            "stock_only_changes": cycle.stock_only,
            "inventory_calls": push.inventory_calls,
            "metafields_changed": cycle.metafields_changed,
            "metafields_written": push.metafields_written,
            "metafield_calls": push.metafield_calls,
            "write_calls_bigcommerce": push.calls,
            "api_calls_bigcommerce": calls.get("bigcommerce", 0),
            "api_calls_mirakl": calls.get("mirakl", 0),
            "updates_per_call": round(push.pushed / variant_calls, 2) if variant_calls else 0.0,
            "push_wall_s": round(push.wall_s, 3),
            "transient_batch_failures": push.transient_failures,
            "queue_left": push.left,
            "held_superseded": cycle.superseded_held,
            "taken_over_from_dead_workers": push.taken_over,
            "sellers_failed": len(health.failed_feeds) + len(cycle.tripped),
            "sku_collisions": len(ownership.collisions),
            "mapping_errors": len(ownership.unmapped),
            "listings_created": len(created),
            "latency_p50_s": round(percentile(push.latencies_s, 50), 3),
            "latency_p95_s": round(percentile(push.latencies_s, 95), 3),
        }
    )
    report_rejections(report, read.rejected)
    report.quarantined.update(cycle.quarantined)
    report.quarantined.update(push.quarantined)
    report.tables["quarantined"] = [
        {"product_sku": r["record_key"], "reason": r["reason"], **dict(r.get("payload") or {})}  # type: ignore[arg-type]
        for r in cycle.quarantine_rows
    ]
    report.tables["changes"] = push.changes
    report.tables["mapping-errors"] = [
        {"product_sku": sku, "error": "no BigCommerce listing"} for sku in ownership.unmapped
    ]
    failed = sorted(health.failed_feeds.items()) + [(shop_id, "circuit breaker") for shop_id in sorted(cycle.tripped)]
    report.tables["sellers-failed"] = [
        {"shop_id": shop_id, "seller": health.names.get(shop_id, ""), "reason": reason} for shop_id, reason in failed
    ]
    return report
