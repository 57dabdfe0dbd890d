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
from tasks.offers.gating import alert_tripped
from tasks.offers.partial_imports import describe_partial_imports, partial_imports_tally
from tasks.offers.summary import decision_tally, gate_tally, ownership_tally, push_tally, read_tally
from tasks.outages import report_deferrals
from tasks.rejections import report_rejections
from tasks.reporting import RunReport
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
        run_id = str(flow_run.get_id() or "")
        # read: where the export starts, the sellers' feed health, then the export itself
        effective, since = start_read(rt, mode)
        report.title = f"Offer sync ({effective})"
        read_at = datetime.now(UTC)
        health = await read_seller_health(rt, read_at)
        report.absorb(partial_imports_tally(await describe_partial_imports(rt, health.partial_imports)), "partials")
        read = await read_offer_export(rt, since)
        report.absorb(read_tally(effective, read), "read_offer_export")
        report_rejections(report, read.rejected)
        # decide the boundary: which variants the bridge owns (draft listings first, when configured)
        ownership = await refresh_ownership(rt, read, full=effective == "full")
        created: list[str] = []
        if rt.config.offers.create_listings and ownership.unmapped:
            created = await create_draft_listings(rt, ownership.unmapped)
            ownership = await refresh_ownership(rt, read, recheck=True)
        report.absorb(ownership_tally(ownership, created), "refresh_ownership")
        # gate (one validation, the breaker per seller), then decide and enqueue (book, best offer, diff, outbox)
        gated = gate_offers(rt, read, health, ownership)
        report.absorb(gate_tally(gated, health), "gate_offers")
        cycle = decide_and_enqueue(rt, read, gated, health, ownership, effective, read_at, run_id)
        report.absorb(decision_tally(cycle), "decide_and_enqueue")
        # The queue now holds every decision: the export, its frames and the ownership map are let go before the
        # drain, so a million-offer run does not carry them (and the collector does not walk them) while pushing.
        tripped = gated.tripped
        del read, ownership, gated
        # write: drain the queue within the quota
        push = await drain_outbox(rt, run_id)
        report.absorb(push_tally(push), "drain_outbox")
        # record: alerts (failed feeds, tripped breakers) and deferred changes; the frame records the API calls
        alert_feed_failures(rt.sessions, report, health.failed_feeds)
        alert_tripped(report, tripped)
        # Changes a drain gave up on after transient errors stay queued for the next run: deferred on BigCommerce.
        deferred = {"bigcommerce": push.left} if push.transient_failures and push.left else {}
        report_deferrals(
            rt.sessions, report, Stream.OFFER_SYNC, push.pushed + push.left, deferred, rt.config.outages.alert_share
        )
        return report
