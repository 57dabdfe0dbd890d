"""The drift monitor: is every Mirakl-owned variant on BigCommerce what Mirakl's offers say it should be?

Reads Mirakl's current offers (full export), the sellers' feed health, BigCommerce's owned variants and the
offer map, then publishes a health artifact and emits events when a configured threshold is crossed:
buyable-but-out-of-stock variants, stock-out-to-unbuyable latency, failed seller feeds, and outbox items stuck
in flight under a worker that stopped beating (a change no drain is pushing). It writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import flow

from bridge.runtime import runtime_scope
from bridge.streams import Stream
from flows.run_names import run_name
from tasks.drift import measure_drift, read_owned_variants
from tasks.leases import stuck_in_flight
from tasks.offers import read_offer_export, read_seller_health
from tasks.offers.feed_alerts import alert_feed_failures
from tasks.offers.ownership import read_offer_map
from tasks.offers.select import select_best
from tasks.reporting import RunReport, emit_alert
from tasks.runs import reported_run

__all__ = ["drift_monitor"]


@flow(name="drift_monitor", flow_run_name=run_name("drift-monitor"))
async def drift_monitor() -> RunReport:
    """Measure drift, publish `drift-monitor-summary` (+ tables) and emit `bcmirakl.*` events on breaches."""
    async with (
        runtime_scope() as rt,
        reported_run(rt, RunReport(stream=Stream.DRIFT_MONITOR, title="Marketplace drift health")) as report,
    ):
        config = rt.config.drift
        now = datetime.now(UTC)
        health = await read_seller_health(rt, now)
        read = await read_offer_export(rt, None)
        mapping = read_offer_map(rt)
        owned = mapping[(mapping["owner"] == "mirakl") & mapping["bc_variant_id"].notna()]
        variants = await read_owned_variants(rt, [int(v) for v in owned["bc_variant_id"]])
        usable = health.open_shops - set(health.failed_feeds)
        winners = select_best(read.offers, usable)
        findings = measure_drift(
            variants, winners, mapping, timedelta(minutes=config.stale_after_minutes), now, currency=rt.config.currency
        )
        known = set(mapping["product_sku"])
        unmapped = read.offers[~read.offers["product_sku"].isin(known)]
        report.counts.update(
            {
                "variants_checked": len(variants),
                "oos_buyable": len(findings.oos_buyable),
                "value_at_risk": str(findings.value_at_risk),
                "price_mismatches": len(findings.price_mismatches),
                "stale_variants": findings.stale,
                "latency_p50_s": round(findings.latency_p50_s, 3),
                "latency_p95_s": round(findings.latency_p95_s, 3),
                "sellers_feed_failed": len(health.failed_feeds),
                "sellers_feed_partial": len(health.partial_imports),
                # Products (SKUs) without a listing, as offer sync counts them: one figure, one value.
                "mapping_errors": unmapped["product_sku"].nunique(),
            }
        )
        report.tables["oos-buyable"] = findings.oos_buyable[
            ["product_sku", "variant_id", "price", "inventory_level"]
        ].to_dict("records")
        report.tables["price-mismatches"] = findings.price_mismatches[
            ["product_sku", "variant_id", "price", "mirakl_price"]
        ].to_dict("records")
        per_shop = unmapped.groupby("shop_id")["product_sku"].nunique()
        stuck = stuck_in_flight(rt)
        report.counts["outbox_stuck_in_flight"] = sum(row["items"] for row in stuck)
        report.tables["stuck-in-flight"] = stuck
        report.tables["sellers"] = [
            {
                "shop_id": int(shop_id),
                "seller": health.names.get(int(shop_id), ""),
                "feed": health.failed_feeds.get(int(shop_id), "ok"),
                "mapping_errors": int(per_shop.get(shop_id, 0)),
            }
            for shop_id in sorted(set(per_shop.index) | set(health.failed_feeds))
        ]
        if len(findings.oos_buyable) >= config.oos_buyable_alert_count:
            payload = {"count": len(findings.oos_buyable), "value_at_risk": findings.value_at_risk}
            emit_alert(report, "bcmirakl.drift.oos-buyable", f"bcmirakl.stream.{Stream.OFFER_SYNC}", payload)
        if findings.latency_p95_s > config.latency_p95_seconds:
            payload = {"p95_s": findings.latency_p95_s, "bound_s": config.latency_p95_seconds}
            emit_alert(report, "bcmirakl.offer-sync.latency-breach", f"bcmirakl.stream.{Stream.OFFER_SYNC}", payload)
        if stuck:
            payload = {"items": report.counts["outbox_stuck_in_flight"], "workers": len(stuck)}
            emit_alert(report, "bcmirakl.drift.stuck-in-flight", "bcmirakl.outbox", payload)
        alert_feed_failures(rt.sessions, report, health.failed_feeds)
        return report
