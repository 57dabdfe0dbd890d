"""The drift monitor's decide and record steps: findings from what was read, then the health report and events.

Reading is left to the shared readers (seller health, the offer export, the offer map, the owned variants);
this module turns them into the `drift-monitor` measures and tables, and emits an event per breached threshold.
Each task returns its step's `Tally`, which the flow's report absorbs and logs in one line (a retried task counts
once). It writes nothing to either system.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.config import BridgeConfig, DriftConfig
from bridge.streams import Stream
from tasks.drift.measure import DriftFindings, measure_drift
from tasks.offers.select import select_best
from tasks.offers.sources import OfferRead, SellerHealth
from tasks.reporting import Tally, emit_alert

__all__ = ["Drift", "alert_breaches", "find_drift", "owned_variant_ids"]


@dataclass(frozen=True)
class Drift:
    """The findings and the offers no mapping knows (mapping errors)."""

    findings: DriftFindings
    unmapped: pd.DataFrame


def owned_variant_ids(mapping: pd.DataFrame) -> list[int]:
    """The BigCommerce variants Mirakl owns, from the offer map: the ones whose drift is measured."""
    owned = mapping[(mapping["owner"] == "mirakl") & mapping["bc_variant_id"].notna()]
    return [int(v) for v in owned["bc_variant_id"]]


@task(cache_policy=NO_CACHE)
def find_drift(
    config: BridgeConfig,
    read: OfferRead,
    health: SellerHealth,
    mapping: pd.DataFrame,
    variants: pd.DataFrame,
    stuck: list[dict[str, Any]],
    now: datetime,
) -> Tally:
    """Measure the owned variants against the best usable offer of each product: the `drift-monitor` health
    measures, the drifted variants and the per-seller table, as the step's tally (the run's report absorbs it)."""
    usable = health.open_shops - set(health.failed_feeds)
    winners = select_best(read.offers, usable)
    stale_after = timedelta(minutes=config.drift.stale_after_minutes)
    findings = measure_drift(variants, winners, mapping, stale_after, now, currency=config.currency)
    unmapped = read.offers[~read.offers["product_sku"].isin(set(mapping["product_sku"]))]
    return _drift_tally(Drift(findings, unmapped), health, stuck)


def _drift_tally(drift: Drift, health: SellerHealth, stuck: list[dict[str, Any]]) -> Tally:
    """The counts and tables of the `drift-monitor` summary for these findings."""
    findings = drift.findings
    tally = Tally()
    tally.counts.update(
        {
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
            "outbox_stuck_in_flight": sum(row["items"] for row in stuck),
        }
    )
    tally.tables["oos-buyable"] = findings.oos_buyable[
        ["product_sku", "variant_id", "price", "inventory_level"]
    ].to_dict("records")
    tally.tables["price-mismatches"] = findings.price_mismatches[
        ["product_sku", "variant_id", "price", "mirakl_price"]
    ].to_dict("records")
    tally.tables["stuck-in-flight"] = stuck
    per_shop = drift.unmapped.groupby("shop_id")["product_sku"].nunique()
    tally.tables["sellers"] = [
        {
            "shop_id": int(shop_id),
            "seller": health.names.get(int(shop_id), ""),
            "feed": health.failed_feeds.get(int(shop_id), "ok"),
            "mapping_errors": int(per_shop.get(shop_id, 0)),
        }
        for shop_id in sorted(set(per_shop.index) | set(health.failed_feeds))
    ]
    return tally


@task(cache_policy=NO_CACHE)
def alert_breaches(config: DriftConfig, measured: Tally) -> Tally:
    """One event per threshold the measured drift crosses, as the step's tally of alerts."""
    counts, tally = measured.counts, Tally()
    oos = int(counts["oos_buyable"])
    if oos >= config.oos_buyable_alert_count:
        payload = {"count": oos, "value_at_risk": counts["value_at_risk"]}
        emit_alert(tally, "bcmirakl.drift.oos-buyable", f"bcmirakl.stream.{Stream.OFFER_SYNC}", payload)
    p95 = float(counts["latency_p95_s"])
    if p95 > config.latency_p95_seconds:
        payload = {"p95_s": p95, "bound_s": config.latency_p95_seconds}
        emit_alert(tally, "bcmirakl.offer-sync.latency-breach", f"bcmirakl.stream.{Stream.OFFER_SYNC}", payload)
    stuck = measured.tables["stuck-in-flight"]
    if stuck:
        payload = {"items": counts["outbox_stuck_in_flight"], "workers": len(stuck)}
        emit_alert(tally, "bcmirakl.drift.stuck-in-flight", "bcmirakl.outbox", payload)
    tally.counts["alerts_emitted"] = len(tally.alerts)
    return tally
