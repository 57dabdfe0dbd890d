"""What each number in a run summary means: a label a person reads, its unit, and what kind of number it is.

Summaries show the same rows every run (a stream's rows are listed here, a missing one reads 0), write
measures feed the failure sentence ("already written: ..."), and technical counters (API calls, batches,
timings) go to their own block below the business figures. The handbook lists these labels; a test keeps
the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MEASURES", "STREAM_ROWS", "TABLES", "Measure", "measure", "stream_key"]

Kind = Literal["read", "decision", "write", "problem", "technical"]


@dataclass(frozen=True)
class Measure:
    """One summary row: `unit` is a plain word ("offers", "s", "calls"), or "money" for the store currency."""

    label: str
    unit: str = ""
    kind: Kind = "decision"


def _m(label: str, unit: str = "", kind: Kind = "decision") -> Measure:
    return Measure(label, unit, kind)


MEASURES: dict[str, Measure] = {
    # offer sync
    "mode": _m("mode (delta: changes since the cursor; full: every offer)"),
    "offers_read": _m("offers read from Mirakl", "offers", "read"),
    "offers_deleted": _m("offers deleted in Mirakl", "offers", "read"),
    "changed": _m("variant changes decided", "changes"),
    "made_unbuyable": _m("variants made unbuyable (out of stock, deleted or failed feed)", "variants"),
    "pushed": _m("changes pushed to BigCommerce", "changes", "write"),
    "stock_only_changes": _m("stock-only changes", "changes"),
    "metafields_changed": _m("offer metafields changed", "metafields"),
    "metafields_written": _m("offer metafields written to BigCommerce", "metafields", "write"),
    "queue_left": _m("changes left queued for the next run", "changes", "problem"),
    "held_superseded": _m("held changes superseded by newer ones", "changes"),
    "sellers_failed": _m("sellers whose feed failed or tripped the gate (offers made unbuyable)", "sellers", "problem"),
    "sellers_partial": _m("sellers with a partial import (good offers kept)", "sellers", "problem"),
    "sku_collisions": _m("SKUs claimed by two products", "SKUs", "problem"),
    "mapping_errors": _m("offers with no BigCommerce listing (mapping errors)", "SKUs", "problem"),
    "listings_created": _m("draft listings created", "listings", "write"),
    "records_rejected": _m("records rejected by the reader (quarantined)", "records", "problem"),
    "transient_batch_failures": _m("push batches that met a transient error", "batches", "technical"),
    "push_batches": _m("variant batches sent", "batches", "technical"),
    "inventory_calls": _m("inventory calls", "calls", "technical"),
    "metafield_calls": _m("metafield calls", "calls", "technical"),
    "write_calls_bigcommerce": _m("BigCommerce write calls", "calls", "technical"),
    "updates_per_call": _m("variant updates per call", "updates/call", "technical"),
    "push_wall_s": _m("push wall time", "s", "technical"),
    "taken_over_from_dead_workers": _m("queue items taken over from stopped workers", "items", "technical"),
    "latency_p50_s": _m("Mirakl change -> BigCommerce latency, median", "s", "technical"),
    "latency_p95_s": _m("Mirakl change -> BigCommerce latency, p95", "s", "technical"),
    # drift monitor
    "variants_checked": _m("Mirakl-owned variants checked", "variants", "read"),
    "oos_buyable": _m("variants buyable but out of stock in Mirakl", "variants", "problem"),
    "value_at_risk": _m("value at risk (price x units buyable but not in stock)", "money", "problem"),
    "price_mismatches": _m("variants whose price differs from the best offer", "variants", "problem"),
    "stale_variants": _m("variants not synced within the stale bound", "variants", "problem"),
    "sellers_feed_failed": _m("sellers whose last feed failed", "sellers", "problem"),
    "sellers_feed_partial": _m("sellers whose last import was partial", "sellers", "problem"),
    "outbox_stuck_in_flight": _m("queued changes stuck under a stopped worker", "changes", "problem"),
    # order routing
    "pages": _m("order pages read", "pages", "read"),
    "orders_seen": _m("orders seen (changed since the cursor)", "orders", "read"),
    "orders_skipped": _m("orders needing nothing", "orders"),
    "orders_routed": _m("orders routed", "orders", "write"),
    "orders_exception": _m("orders made exception cases — see the exceptions table", "orders", "problem"),
    "orders_deferred": _m("orders deferred to the next run (transient error)", "orders", "problem"),
    "orders_cancelled": _m("orders cancelled", "orders", "write"),
    "native_lines_sent": _m("native lines sent to the ERP", "lines", "write"),
    "marketplace_lines_routed": _m("marketplace lines sent to Mirakl (OR01)", "lines", "write"),
    "logistic_orders_created": _m("Mirakl logistic orders created", "orders", "write"),
    "line_exceptions": _m("lines made exception cases", "lines", "problem"),
    "cancelled_before_routing": _m("orders cancelled before routing", "orders"),
    "cancelled_after_routing": _m("orders cancelled after routing (unwound)", "orders", "write"),
    "cx_metafields_written": _m("customer-service metafields written", "metafields", "write"),
    "cx_metafields_updated": _m("customer-service metafields updated", "metafields", "write"),
    "cx_metafields_failed": _m("customer-service metafields that failed", "metafields", "problem"),
    "orders_read_one_by_one": _m("orders read one by one", "orders", "technical"),
    "orders_read_from_page": _m("orders read from the list page", "orders", "technical"),
    # acceptance guard
    "orders_watched": _m("Mirakl orders watched", "orders", "read"),
    "staging_waiting": _m("orders waiting in STAGING", "orders"),
    "refusals_queued": _m("refusals queued for a person", "refusals", "problem"),
    "debits_ok": _m("debits checked against what BigCommerce took", "debits"),
    "pa01_sent": _m("debits confirmed to Mirakl (PA01)", "debits", "write"),
    "refusal_refund_sent": _m("refused lines refunded in BigCommerce", "refunds", "write"),
    "outcome_accepted": _m("orders accepted by their seller", "orders"),
    "outcome_refused_auto": _m("orders refused automatically (acceptance deadline passed)", "orders", "problem"),
    "outcome_refused_by_seller": _m("orders refused by their seller", "orders", "problem"),
    "erp_sent": _m("orders sent to the ERP", "orders", "write"),
    "or01_sent": _m("commercial orders created in Mirakl (OR01)", "orders", "write"),
    "or29_sent": _m("Mirakl orders cancelled (OR29)", "orders", "write"),
    # shipments
    "mirakl_carriers": _m("carriers in Mirakl's list (SH21)", "carriers", "read"),
    "carrier_table_version": _m("carrier table version", "", "technical"),
    "carrier_list_version": _m("Mirakl carrier list version (distinct SH21 lists read)", "", "technical"),
    "carrier_list_stale": _m("Mirakl carrier list stale (SH21 refresh failed, last good list used)", "", "problem"),
    "carrier_list_stale_since": _m("Mirakl carrier list stale since", "", "problem"),
    "carrier_list_age_hours": _m("Mirakl carrier list age (hours)", "", "problem"),
    "tracking_held_no_carrier_list": _m("tracking to Mirakl held: no carrier list ever read", "", "problem"),
    "shipments_to_bigcommerce": _m("shipments created in BigCommerce", "shipments", "write"),
    "shipments_to_mirakl": _m("shipments sent to Mirakl (OR23/OR24)", "shipments", "write"),
    "shipments_to_bigcommerce_refused": _m("shipments BigCommerce refused", "shipments", "problem"),
    "tracking_not_sendable": _m("tracking with an unmapped carrier (quarantined)", "shipments", "problem"),
    # refunds
    "refunds_to_mirakl": _m("refunds sent to Mirakl (OR28)", "refunds", "write"),
    "refunds_to_bigcommerce": _m("seller refunds made in BigCommerce", "refunds", "write"),
    "refunds_confirmed_to_mirakl": _m("refunds confirmed to Mirakl (PA02)", "refunds", "write"),
    "refunded_to_mirakl_amount": _m("amount refunded through Mirakl", "money", "write"),
    "confirmed_to_mirakl_amount": _m("amount confirmed to Mirakl", "money", "write"),
    "refunds_refused_by_mirakl": _m("refunds Mirakl refused", "refunds", "problem"),
    "refunds_refused_by_bigcommerce": _m("refunds BigCommerce refused", "refunds", "problem"),
    # reconciliation
    "days": _m("days reconciled", "days", "read"),
    "days_incomplete": _m("days whose Mirakl read failed", "days", "problem"),
    "mirakl_transactions": _m("Mirakl transactions read", "transactions", "read"),
    "bigcommerce_lines": _m("BigCommerce order lines read", "lines", "read"),
    "gate": _m("input gate (passed: every input complete and well-formed)"),
    "order_lines": _m("order lines reconciled", "lines"),
    "matched_lines": _m("lines matched on both sides", "lines"),
    "balanced": _m("balanced (yes: every gap is explained and totals agree)"),
    "unexplained_amount": _m("unexplained amount", "money", "problem"),
    "revision": _m("revision of this period's reconciliation", "", "technical"),
    # every stream
    "mirakl_budget_wait_s": _m("time waited for Mirakl call budgets", "s", "technical"),
    "mirakl_offers_read": _m("Mirakl offers read", "offers", "read"),
    "bigcommerce_orders_read": _m("BigCommerce orders read", "orders", "read"),
}

# The rows every run of a stream shows, in this order (a run that did not reach a step shows 0).
STREAM_ROWS: dict[str, tuple[str, ...]] = {
    "offer-sync": (
        "mode",
        "offers_read",
        "offers_deleted",
        "changed",
        "made_unbuyable",
        "pushed",
        "queue_left",
        "sellers_failed",
        "mapping_errors",
        "sku_collisions",
        "records_rejected",
    ),
    "drift-monitor": (
        "variants_checked",
        "oos_buyable",
        "value_at_risk",
        "price_mismatches",
        "stale_variants",
        "sellers_feed_failed",
        "sellers_feed_partial",
        "mapping_errors",
        "outbox_stuck_in_flight",
    ),
    "order-routing": (
        "orders_seen",
        "orders_routed",
        "orders_exception",
        "orders_deferred",
        "native_lines_sent",
        "marketplace_lines_routed",
        "cancelled_after_routing",
    ),
    "commission-reconciliation": (
        "days",
        "days_incomplete",
        "mirakl_transactions",
        "bigcommerce_lines",
        "gate",
        "order_lines",
        "matched_lines",
        "balanced",
    ),
}


def stream_key(stream: str) -> str:
    """Streams are spelt with dashes or underscores in places; the catalog uses dashes."""
    return stream.replace("_", "-")


def measure(name: str) -> Measure:
    """The catalog entry, or one derived from the name's shape (API counters and timings are technical)."""
    if name in MEASURES:
        return MEASURES[name]
    plain = name.replace("_", " ")
    if name.startswith("api_calls_"):
        return Measure(f"{name.removeprefix('api_calls_')} API calls", "calls", "technical")
    if name.endswith("_s"):
        return Measure(plain.removesuffix(" s"), "s", "technical")
    if name.startswith("class_"):
        return Measure(f"lines classed {name.removeprefix('class_')}", "lines")
    return Measure(plain)


# What each table artifact holds and what to do about its rows (the artifact's description in the UI).
TABLES: dict[str, str] = {
    "quarantined": "offers the gate refused, with the reason — fix in Mirakl; the next sync picks them up",
    "mapping-errors": "Mirakl products with no BigCommerce listing — create the listing or fix the SKU",
    "sellers-failed": "sellers whose feed failed or tripped the gate (their offers are unbuyable) — ask the seller",
    "partial-imports": "sellers with a partial import: the lines in error — the seller fixes the file",
    "changes": "changes pushed to BigCommerce: price and stock before -> after, buyable — nothing to do",
    "rejected-records": "records the reader could not parse — fix at the source; they are kept in the quarantine",
    "exceptions": "rows that need a person, with their kind or class — see the handbook's list for what to do",
    "oos-buyable": "variants buyable but out of stock in Mirakl — run offer sync; if they stay, check the queue",
    "price-mismatches": "variants whose price differs from the best offer — run offer sync; if it stays, check held",
    "stuck-in-flight": "queued changes held by a stopped worker — they are taken over by the next drain",
    "sellers": "per seller: feed state and mapping errors — ask the seller to fix a failed feed",
    "debits": "debit confirmations: amount Mirakl asks vs expected, outcome — a refused one waits for finance",
    "scorecard": "per seller: orders decided, accepted, refused, median hours to accept — discuss with the seller",
    "deadlines": "orders near or past their acceptance deadline — chase the seller before Mirakl refuses",
    "cancelled-before-debit": "lines refunded in BigCommerce before the debit, cancelled in Mirakl — nothing to do",
    "to-bigcommerce": "what was mirrored into BigCommerce this run — nothing to do",
    "to-mirakl": "what was mirrored into Mirakl this run — nothing to do",
    "quarantined-carriers": "shipments whose carrier has no Mirakl code — add a carrier mapping (runbook)",
    "overdue": "seller orders past their shipping deadline — chase the seller",
    "totals": "per amount: both sides' totals, the difference, explained and unexplained — unexplained must be 0",
    "cycles": "per billing cycle: expected payout vs SBC11 — a delta is a gap to raise with Mirakl",
    "invoices": "per seller: booked commission and fees vs the IV01 invoice — a gap is raised with Mirakl",
}
