"""The offer sync stream: Mirakl offers become BigCommerce variant prices, stock and purchasability.

The flow is the map of the stream, one task per step, in the order of the README's stream table:
read (seller health: a failed import disables the seller, a partial one is only reported; then the export since
the cursor, less an overlap) -> decide the boundary (which variants the bridge owns) -> gate each seller's
offers -> decide and enqueue (book, best offer per product, diff against the last push, outbox and cursor in
one transaction) -> write (drain the queue within the quota) -> record (the run report). The first run, and
`full` mode, read every offer and also make unbuyable each Mirakl-owned variant that has no offer left.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from prefect import flow
from prefect.runtime import flow_run

from bridge.streams import Stream
from flows.run_names import run_name
from tasks.offers import (
    create_draft_listings,
    decide_and_enqueue,
    drain_outbox,
    gate_offers,
    read_offer_export,
    read_seller_health,
    refresh_ownership,
    start_read,
)
from tasks.offers.feed_alerts import alert_feed_failures
from tasks.offers.partial_imports import describe_partial_imports, report_partial_imports
from tasks.offers.summary import fill_report
from tasks.outages import report_deferrals
from tasks.reporting import RunReport, emit_alert
from tasks.runs import flow_frame

__all__ = ["ARTIFACT_PREFIXES", "offer_sync"]

# Artifact key prefix per requested mode: a delta deployment's summaries form one history in the UI, the
# nightly full run's another (`offer-sync-delta-summary`, `offer-sync-full-summary`, and their tables).
ARTIFACT_PREFIXES: dict[str, str] = {"delta": "offer-sync-delta", "full": "offer-sync-full"}


@flow(name="offer_sync", flow_run_name=run_name("offer-sync {mode}", mode="delta"))
async def offer_sync(mode: Literal["delta", "full"] = "delta") -> RunReport:
    """One offer-sync cycle: read Mirakl offers, push what changed to BigCommerce variants.

    Args:
        mode: `delta` (the default, every few minutes) reads the offers changed since the last run, less an
            overlap; `full` (nightly) reads every offer and also makes unbuyable each Mirakl variant with no
            offer left. A first run, with no cursor yet, reads everything whatever the mode.
    """
    async with flow_frame(Stream.OFFER_SYNC, "Offer sync", artifact_prefix=ARTIFACT_PREFIXES[mode]) as (rt, report):
        calls_before = rt.api_calls()
        run_id = str(flow_run.get_id() or "")
        effective, since = start_read(rt, mode)
        read_at = datetime.now(UTC)
        health = await read_seller_health(rt, read_at)
        partials = await describe_partial_imports(rt, health.partial_imports)
        read = await read_offer_export(rt, since)
        ownership = await refresh_ownership(rt, read, full=effective == "full")
        created: list[str] = []
        if rt.config.offers.create_listings and ownership.unmapped:
            created = await create_draft_listings(rt, ownership.unmapped)
            ownership = await refresh_ownership(rt, read, recheck=True)
        gated = gate_offers(rt, read, health, ownership)
        cycle = decide_and_enqueue(rt, read, gated, health, ownership, effective, read_at, run_id)
        push = await drain_outbox(rt, run_id)
        fill_report(report, effective, read, health, ownership, cycle, push, created, rt.api_calls(), calls_before)
        report_partial_imports(report, partials)
        alert_feed_failures(rt.sessions, report, health.failed_feeds)
        # Changes a drain gave up on after transient errors stay queued for the next run: deferred on BigCommerce.
        deferred = {"bigcommerce": push.left} if push.transient_failures and push.left else {}
        report_deferrals(
            rt.sessions, report, Stream.OFFER_SYNC, push.pushed + push.left, deferred, rt.config.outages.alert_share
        )
        for shop_id, (failed, total) in sorted(gated.tripped.items()):
            emit_alert(
                report,
                "bcmirakl.gate.circuit-breaker",
                f"bcmirakl.shop.{shop_id}",
                {"suite": "offers", "shop_id": shop_id, "failed_rows": failed, "total_rows": total},
            )
        return report
