"""The drift monitor: is every Mirakl-owned variant on BigCommerce what Mirakl's offers say it should be?

Reads Mirakl's current offers (full export), the sellers' feed health, BigCommerce's owned variants and the
offer map, then publishes a health artifact and emits events when a configured threshold is crossed:
buyable-but-out-of-stock variants, stock-out-to-unbuyable latency, failed seller feeds, and outbox items stuck
in flight under a worker that stopped beating (a change no drain is pushing). It writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow

from bridge.streams import Stream
from flows.run_names import run_name
from tasks.drift import alert_breaches, find_drift, owned_variant_ids, read_owned_variants
from tasks.leases import stuck_in_flight
from tasks.offers import read_offer_export, read_seller_health
from tasks.offers.feed_alerts import alert_feed_failures
from tasks.offers.ownership import read_offer_map
from tasks.reporting import RunReport, Tally
from tasks.runs import flow_frame

__all__ = ["drift_monitor"]


@flow(name="drift_monitor", flow_run_name=run_name("drift-monitor"))
async def drift_monitor() -> RunReport:
    """Measure drift, publish `drift-monitor-summary` (+ tables) and emit `bcmirakl.*` events on breaches."""
    async with flow_frame(Stream.DRIFT_MONITOR, "Marketplace drift health") as (rt, report):
        now = datetime.now(UTC)
        health = await read_seller_health(rt, now)
        read = await read_offer_export(rt, None)
        mapping = read_offer_map(rt)
        report.absorb(Tally(counts={"mirakl_offers_read": len(read.offers)}), "Mirakl offers and seller health read")
        owned = await read_owned_variants(rt, owned_variant_ids(mapping))
        report.absorb(owned.tally, "BigCommerce variants read")
        stuck = stuck_in_flight(rt)
        measured = find_drift(rt.config, read, health, mapping, owned.variants, stuck, now)
        report.absorb(measured, "drift measured")
        report.absorb(alert_breaches(rt.config.drift, measured), "drift thresholds checked")
        alert_feed_failures(rt.sessions, report, health.failed_feeds)
        return report
