"""The drift monitor's decide and record steps: findings from what was read, then the health report and events.

Reading is left to the shared readers (seller health, the offer export, the offer map, the owned variants);
this module turns them into `DriftFindings` and the `drift-monitor` report, and emits an event per breached
threshold. It writes nothing to either system.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.config import DriftConfig
from bridge.runtime import Runtime
from bridge.streams import Stream
from tasks.drift.measure import DriftFindings, measure_drift
from tasks.offers.select import select_best
from tasks.offers.sources import OfferRead, SellerHealth
from tasks.reporting import RunReport, Tally, emit_alert

__all__ = ["Drift", "alert_breaches", "drift_report", "find_drift", "owned_variant_ids"]


@dataclass(frozen=True)
class Drift:
    """The findings, the offers no mapping knows (mapping errors) and how many variants were checked."""

    findings: DriftFindings
    unmapped: pd.DataFrame
    variants_checked: int


def owned_variant_ids(mapping: pd.DataFrame) -> list[int]:
    """The BigCommerce variants Mirakl owns, from the offer map: the ones whose drift is measured."""
    owned = mapping[(mapping["owner"] == "mirakl") & mapping["bc_variant_id"].notna()]
    return [int(v) for v in owned["bc_variant_id"]]


@task(cache_policy=NO_CACHE)
def find_drift(
    rt: Runtime,
    read: OfferRead,
    health: SellerHealth,
    mapping: pd.DataFrame,
    variants: pd.DataFrame,
    now: datetime,
) -> Drift:
    """Measure the owned variants against the best usable offer of each product."""
    usable = health.open_shops - set(health.failed_feeds)
    winners = select_best(read.offers, usable)
    stale_after = timedelta(minutes=rt.config.drift.stale_after_minutes)
    findings = measure_drift(variants, winners, mapping, stale_after, now, currency=rt.config.currency)
    unmapped = read.offers[~read.offers["product_sku"].isin(set(mapping["product_sku"]))]
    return Drift(findings, unmapped, len(variants))


@task(cache_policy=NO_CACHE)
def drift_report(drift: Drift, health: SellerHealth, stuck: list[dict[str, Any]]) -> Tally:
    """The `drift-monitor` health measures: counts, the drifted variants and the per-seller table (the run's
    report absorbs them)."""
    findings = drift.findings
    report = Tally()
    report.counts.update(
        {
            "variants_checked": drift.variants_checked,
            "oos_buyable": len(findings.oos_buyable),
            "value_at_risk": str(findings.value_at_risk),
            "price_mismatches": len(findings.price_mismatches),
            "stale_variants": findings.stale,
            "latency_p50_s": round(findings.latency_p50_s, 3),
            "latency_p95_s": round(findings.latency_p95_s, 3),
            "sellers_feed_failed": len(health.failed_feeds),
            "sellers_feed_partial": len(health.partial_imports),
            # Products (SKUs) without a listing, as offer sync counts them: one figure, one value.
            "mapping_errors": drift.unmapped["product_sku"].nunique(),
        }
    )
    report.tables["oos-buyable"] = findings.oos_buyable[
        ["product_sku", "variant_id", "price", "inventory_level"]
    ].to_dict("records")
    report.tables["price-mismatches"] = findings.price_mismatches[
        ["product_sku", "variant_id", "price", "mirakl_price"]
    ].to_dict("records")
    report.counts["outbox_stuck_in_flight"] = sum(row["items"] for row in stuck)
    report.tables["stuck-in-flight"] = stuck
    per_shop = drift.unmapped.groupby("shop_id")["product_sku"].nunique()
    report.tables["sellers"] = [
        {
            "shop_id": int(shop_id),
            "seller": health.names.get(int(shop_id), ""),
            "feed": health.failed_feeds.get(int(shop_id), "ok"),
            "mapping_errors": int(per_shop.get(shop_id, 0)),
        }
        for shop_id in sorted(set(per_shop.index) | set(health.failed_feeds))
    ]
    return report


@task(cache_policy=NO_CACHE)
def alert_breaches(config: DriftConfig, report: RunReport, drift: Drift, stuck: list[dict[str, Any]]) -> None:
    """One event per threshold the findings cross (the report records each)."""
    findings = drift.findings
    if len(findings.oos_buyable) >= config.oos_buyable_alert_count:
        payload = {"count": len(findings.oos_buyable), "value_at_risk": findings.value_at_risk}
        emit_alert(report, "bcmirakl.drift.oos-buyable", f"bcmirakl.stream.{Stream.OFFER_SYNC}", payload)
    if findings.latency_p95_s > config.latency_p95_seconds:
        payload = {"p95_s": findings.latency_p95_s, "bound_s": config.latency_p95_seconds}
        emit_alert(report, "bcmirakl.offer-sync.latency-breach", f"bcmirakl.stream.{Stream.OFFER_SYNC}", payload)
    if stuck:
        payload = {"items": report.counts["outbox_stuck_in_flight"], "workers": len(stuck)}
        emit_alert(report, "bcmirakl.drift.stuck-in-flight", "bcmirakl.outbox", payload)
