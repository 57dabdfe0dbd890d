"""What must hold once a schedule's faults are over and clean runs have passed, read from outside the bridge.

Both platforms are read through the sandbox's public API (OR11, OF51, BigCommerce v2/v3, the ERP's order
list) and the log of writes it accepted; the bridge's own bookkeeping through the state store. Nothing here
asks the bridge what it believes it did. Each finding is a `Violation` of one kind, so a run of the suite can
count them per kind.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from connectors.state.models import ExceptionCase, LedgerEntry, OutboxItem, QuarantineRecord
from tests.chaos.world import ChaosWorld

__all__ = ["INVARIANTS", "Violation", "check_all"]

PAID_STATUS_IDS = {11}
# Mirakl order states before the customer is debited (mmp-front-openapi.yaml OrderState).
NOT_DEBITED = {"STAGING", "WAITING_ACCEPTANCE", "WAITING_DEBIT", "WAITING_DEBIT_PAYMENT"}


@dataclass(frozen=True)
class Violation:
    kind: str
    detail: str


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def _marketplace(sku: str) -> bool:
    return sku.startswith("MKP")


async def mirakl_order_twice(world: ChaosWorld, orders: list[dict[str, Any]]) -> list[Violation]:
    """No Mirakl commercial order created twice: one accepted OR01 per commercial id, one logistic order per shop."""
    created = Counter(
        r.body.get("commercial_id") for r in world.log if r.method == "POST" and r.path.endswith("/api/orders")
    )
    found = [Violation("mirakl_order_twice", f"OR01 accepted {n}x for {c}") for c, n in created.items() if n > 1]
    per_shop = Counter((o["commercial_id"], o["shop_id"]) for o in orders)
    found += [
        Violation("mirakl_order_twice", f"{c} has {n} orders of shop {s}") for (c, s), n in per_shop.items() if n > 1
    ]
    return found


async def line_in_two_orders(
    world: ChaosWorld, orders: list[dict[str, Any]], erp: list[dict[str, Any]]
) -> list[Violation]:
    """No BigCommerce line in two orders: Mirakl gets only marketplace lines, the ERP only native ones, each once."""
    found: list[Violation] = []
    ordered: dict[tuple[str, str], int] = defaultdict(int)
    for order in orders:
        for line in order["order_lines"]:
            ordered[(order["commercial_id"], line["product_sku"])] += int(line["quantity"])
    erp_skus: dict[tuple[str, str], int] = defaultdict(int)
    for record in erp:
        body = record.get("order") or {}
        bc_id = str(body.get("bc_order_id") or body.get("order_id") or body.get("id") or "")
        for line in body.get("lines") or body.get("items") or []:
            erp_skus[(bc_id, str(line.get("sku")))] += int(line.get("quantity") or 0)
    bought = {(str(o.bc_order_id), line.sku): line.quantity for o in world.sandbox.world.orders for line in o.lines}
    bought |= {
        (str(o.id), line.sku): line.quantity
        for o in world.sandbox.bigcommerce.state.store.orders.values()
        for line in o.lines
    }
    for (order_id, sku), quantity in ordered.items():
        if not _marketplace(sku):
            found.append(Violation("native_line_to_mirakl", f"native {sku} of {order_id} sent to Mirakl"))
        elif quantity + erp_skus.get((order_id, sku), 0) > bought.get((order_id, sku), 0):
            # The same marketplace line fulfilled twice: by the ERP (routed there first) and by a seller.
            kind = "marketplace_line_to_erp_and_mirakl" if erp_skus.get((order_id, sku)) else "line_in_two_orders"
            found.append(Violation(kind, f"{sku} of {order_id}: {quantity} ordered in Mirakl"))
    for (order_id, sku), quantity in erp_skus.items():
        if _marketplace(sku):
            found.append(Violation("marketplace_line_to_erp", f"marketplace {sku} of {order_id} sent to the ERP"))
        if quantity > bought.get((order_id, sku), 0):
            found.append(Violation("line_in_two_orders", f"{sku} of {order_id}: {quantity} sent to the ERP"))
    return found


async def erp_order_twice(world: ChaosWorld, erp: list[dict[str, Any]]) -> list[Violation]:
    """No ERP order twice: one stored order per BigCommerce order (the receiver dedupes keys, not orders)."""
    per_order = Counter(
        str((r.get("order") or {}).get("bc_order_id") or (r.get("order") or {}).get("order_id") or r["idempotency_key"])
        for r in erp
    )
    return [Violation("erp_order_twice", f"order {o} stored {n}x by the ERP") for o, n in per_order.items() if n > 1]


async def refund_beyond_refunded(world: ChaosWorld, orders: list[dict[str, Any]]) -> list[Violation]:
    """No OR28, PA02 or BigCommerce refund beyond what was refunded on the other side."""
    found: list[Violation] = []
    bc_refunds = world.sandbox.bigcommerce.state.store.refunds
    refunded_in_bc: dict[str, Decimal] = defaultdict(Decimal)
    for refund in bc_refunds:
        refunded_in_bc[str(refund["order_id"])] += _money(refund.get("total_amount"))
    or28: dict[str, Decimal] = defaultdict(Decimal)
    line_commercial = {line["order_line_id"]: o["commercial_id"] for o in orders for line in o["order_lines"]}
    for record in world.log:
        if record.method == "PUT" and record.path.endswith("/api/orders/refund"):
            for refund in (record.body or {}).get("refunds", []):
                taxes = sum((_money(t.get("amount")) for t in refund.get("taxes") or []), Decimal(0))
                shipping_taxes = sum((_money(t.get("amount")) for t in refund.get("shipping_taxes") or []), Decimal(0))
                amount = _money(refund.get("amount")) + _money(refund.get("shipping_amount")) + taxes + shipping_taxes
                or28[line_commercial.get(refund.get("order_line_id"), "?")] += amount
    for commercial, amount in or28.items():
        if amount > refunded_in_bc.get(commercial, Decimal(0)) + Decimal("0.01"):
            found.append(
                Violation(
                    "or28_beyond_refunded",
                    f"{commercial}: OR28 {amount} > BigCommerce {refunded_in_bc.get(commercial)}",
                )
            )
    confirmed = Counter(
        refund.get("refund_id")
        for record in world.log
        if record.method == "PUT" and record.path.endswith("/api/payment/refund")
        for refund in (record.body or {}).get("refunds", [])
    )
    found += [Violation("pa02_twice", f"refund {r} confirmed {n}x") for r, n in confirmed.items() if n > 1]
    # BigCommerce refunds the bridge made: at most what sellers refunded or refused on that order, inc. tax.
    by_bridge = Counter(
        str(r.path.split("/orders/")[1].split("/")[0])
        for r in world.log
        if r.method == "POST" and r.path.endswith("/payment_actions/refunds")
    )
    seller_side: dict[str, int] = defaultdict(int)
    or28_ids = {
        rid
        for r in world.log
        if r.method == "PUT" and r.path.endswith("/api/orders/refund")
        for rid in _refund_ids(r.response)
    }
    for order in orders:
        for line in order["order_lines"]:
            seller_side[order["commercial_id"]] += sum(1 for f in line.get("refunds") or [] if f["id"] not in or28_ids)
            seller_side[order["commercial_id"]] += line["order_line_state"] in ("REFUSED", "CANCELED")
            seller_side[order["commercial_id"]] += len(line.get("cancelations") or [])
    for order_id, count in by_bridge.items():
        if count > seller_side.get(order_id, 0):
            found.append(Violation("bc_refund_beyond_refunded", f"order {order_id}: {count} bridge refunds"))
    return found


async def refund_not_mirrored(world: ChaosWorld, orders: list[dict[str, Any]]) -> list[Violation]:
    """Every refund customer service made in BigCommerce reached Mirakl as OR28, in full, or as the payment of a
    seller's refund of the same line (PA02 with it as transaction number), or as an OR30 cancellation before the
    debit, or is held with a reason. A refund of lines whose Mirakl order is not debited yet (STAGING, waiting for
    acceptance or debit) is held by design: the acceptance guard cancels it with OR30 before PA01; one whose order
    was cancelled before any debit has nothing to mirror.

    An OR28 recovery that adopts a seller's own refund of the same amount leaves the customer's refund short here.
    """
    by_bridge = {
        str((r.response.get("data") or {}).get("id"))
        for r in world.log
        if r.path.endswith("/payment_actions/refunds") and isinstance(r.response, dict)
    }
    line_commercial = {line["order_line_id"]: o["commercial_id"] for o in orders for line in o["order_lines"]}
    in_mirakl = {(o["commercial_id"], line["product_sku"]) for o in orders for line in o["order_lines"]}
    # A line Mirakl never debited has nothing to refund there: still waiting for the debit, or cancelled before it
    # (OR29 of an order the customer cancelled in BigCommerce: `customer_debited_date` stays empty, OR11).
    not_debited = {
        (o["commercial_id"], line["product_sku"])
        for o in orders
        if o.get("order_state") in NOT_DEBITED or not o.get("customer_debited_date")
        for line in o["order_lines"]
    }
    bc_orders = world.sandbox.bigcommerce.state.store.orders
    customer: dict[str, Decimal] = defaultdict(Decimal)
    for refund in world.sandbox.bigcommerce.state.store.refunds:
        if str(refund["id"]) in by_bridge | world.seeded_refund_ids:
            continue
        order = str(refund["order_id"])
        sku_of = {line.id: line.sku for line in bc_orders[int(order)].lines}
        items = refund.get("items") or []
        # Only refunds of lines that are in Mirakl have something to mirror (a line routed elsewhere is another check).
        lines = {(order, sku_of.get(i.get("item_id"))) for i in items}
        if items and all(i.get("item_type") == "PRODUCT" for i in items) and lines <= in_mirakl - not_debited:
            customer[order] += _money(refund.get("total_amount"))
    created: dict[str, Decimal] = defaultdict(Decimal)
    for record in world.log:
        for path, name in (("/api/orders/refund", "refunds"), ("/api/orders/cancel", "cancelations")):
            if record.method != "PUT" or not record.path.endswith(path):
                continue
            for refund in (record.body or {}).get(name, []):
                taxes = sum((_money(t.get("amount")) for t in refund.get("taxes") or []), Decimal(0))
                created[line_commercial.get(refund.get("order_line_id"), "?")] += (
                    _money(refund.get("amount")) + _money(refund.get("shipping_amount")) + taxes
                )
    order_of_refund = {str(r["id"]): str(r["order_id"]) for r in world.sandbox.bigcommerce.state.store.refunds}
    for record in world.log:
        if record.method == "PUT" and record.path.endswith("/api/payment/refund"):
            for confirmed in (record.body or {}).get("refunds", []):
                for number in str(confirmed.get("transaction_number") or "").split(","):
                    if number in order_of_refund and number not in by_bridge:
                        created[order_of_refund[number]] += _money(confirmed.get("amount"))
    explained = _explained(world)
    return [
        Violation("bc_refund_not_mirrored", f"order {order}: refunded {amount}, OR28 {created.get(order, 0)}")
        for order, amount in customer.items()
        if created.get(order, Decimal(0)) + Decimal("0.01") < amount and not re.search(rf"\b{order}\b", explained)
    ]


def _explained(world: ChaosWorld) -> str:
    """Open exception cases and quarantined records, as text: what the bridge holds for a human, with its reason."""
    with world.runtime.sessions() as session:
        open_cases = select(ExceptionCase).where(ExceptionCase.resolved_at.is_(None))
        held = select(QuarantineRecord).where(QuarantineRecord.resolved_at.is_(None))
        return " ".join(
            [f"{c.key} {c.detail}" for c in session.scalars(open_cases)]
            + [f"{q.record_key} {q.payload}" for q in session.scalars(held)]
        )


def _refund_ids(response: Any) -> list[str]:
    if not isinstance(response, dict):
        return []
    return [str(r.get("refund_id")) for r in response.get("refunds") or [] if isinstance(r, dict)]


async def shipment_twice(world: ChaosWorld, orders: list[dict[str, Any]]) -> list[Violation]:
    """No shipment or tracking twice: BigCommerce shipments within the ordered quantities, OR23/OR24 once."""
    found: list[Violation] = []
    for order in world.sandbox.bigcommerce.state.store.orders.values():
        shipments = await world.bc(f"/v2/orders/{order.id}/shipments")
        if not shipments:
            continue
        shipped: Counter[int] = Counter()
        for shipment in shipments:
            for item in shipment.get("items") or []:
                shipped[int(item["order_product_id"])] += int(item["quantity"])
        quantities = {line.id: line.quantity for line in order.lines}
        found += [
            Violation("shipment_twice", f"order {order.id} product {p}: shipped {q} of {quantities.get(p)}")
            for p, q in shipped.items()
            if q > quantities.get(p, 0)
        ]
    ships = Counter(r.path for r in world.log if r.method == "PUT" and _order_call(r.path, "/ship"))
    found += [Violation("ship_twice", f"{path} accepted {n}x") for path, n in ships.items() if n > 1]
    # OR23 is a PUT that sets an order's tracking: the same values again (the HTTP layer's retry after a lost
    # answer, chaos seed 499) change nothing. Two different values, or any OR23 after the order's OR24, would.
    tracking: dict[str, list[str]] = {}
    shipped: set[str] = set()
    for r in world.log:
        if r.method == "PUT" and _order_call(r.path, "/ship"):
            shipped.add(r.path.removesuffix("/ship"))
        elif r.method == "PUT" and _order_call(r.path, "/tracking"):
            order = r.path.removesuffix("/tracking")
            values = tracking.setdefault(order, [])
            values.append("after OR24" if order in shipped else json.dumps(r.body, sort_keys=True))
    found += [
        Violation("tracking_twice", f"{order}/tracking accepted {len(values)}x, {len(set(values))} different")
        for order, values in tracking.items()
        if len(set(values)) > 1 or "after OR24" in values
    ]
    return found


def _order_call(path: str, suffix: str) -> bool:
    return "/api/orders/" in path and path.endswith(suffix)


async def paid_order_never_routed(
    world: ChaosWorld, orders: list[dict[str, Any]], erp: list[dict[str, Any]]
) -> list[Violation]:
    """Every paid order reached Mirakl (marketplace lines) and the ERP (native lines), or is an open exception."""
    found: list[Violation] = []
    in_mirakl = {o["commercial_id"] for o in orders}
    in_erp = {str((r.get("order") or {}).get("bc_order_id")) for r in erp}
    explained = _explained(world)
    for order in world.sandbox.bigcommerce.state.store.orders.values():
        if order.status_id not in PAID_STATUS_IDS or re.search(rf"\b{order.id}\b", explained):
            continue
        skus = [line.sku for line in order.lines]
        if any(map(_marketplace, skus)) and str(order.id) not in in_mirakl | in_erp:
            found.append(Violation("paid_order_never_routed", f"order {order.id} not in Mirakl"))
        if not all(map(_marketplace, skus)) and str(order.id) not in in_erp:
            found.append(Violation("paid_order_never_routed", f"order {order.id} not in the ERP"))
    return found


async def stockout_buyable(world: ChaosWorld) -> list[Violation]:
    """No Mirakl-owned variant buyable when no open seller offers it in stock (OF51, S20, BigCommerce v3)."""
    answer = await world.mirakl_raw("/mirakl/api/offers/export")
    shops = await world.mirakl("/mirakl/api/shops", max=100)
    open_shops = {int(s["shop_id"]) for s in shops["shops"] if s.get("shop_state") == "OPEN"}
    sellable: set[str] = set()
    for row in csv.DictReader(io.StringIO(answer.text), delimiter=";"):
        if (
            row.get("active", "true") == "true"
            and row.get("deleted", "false") != "true"
            and int(float(row.get("quantity") or 0)) > 0
            and int(row["shop-id"]) in open_shops
        ):
            sellable.add(row["product-sku"])
    with world.runtime.sessions() as session:
        queued = {
            int(value): item.status
            for item in session.scalars(
                select(OutboxItem)
                .where(OutboxItem.kind == "variant", OutboxItem.status != "done")
                .order_by(OutboxItem.id)
            )
            for name, value in (item.payload or {}).items()
            if name in ("id", "bc_variant_id", "variant_id") and str(value).isdigit()
        }
    listed = {p.bc_variant_id: p.product_sku for p in world.sandbox.world.products if p.listed and p.bc_variant_id}
    variants = [v for v in await world.bc_all("/v3/catalog/variants") if v["id"] in listed]
    found = []
    for variant in variants:
        sku = listed[variant["id"]]
        buyable = not variant.get("purchasing_disabled", True) and int(variant.get("inventory_level") or 0) > 0
        if buyable and sku not in sellable:
            # Named after where its queued change is stuck, when it is: the two known ways a stock-out stays buyable.
            stuck = queued.get(variant["id"])
            kind = f"stockout_buyable_{stuck}" if stuck in ("in_flight", "quarantined") else "stockout_buyable"
            found.append(Violation(kind, f"{sku} (variant {variant['id']}) buyable"))
    return found


async def bookkeeping_settled(world: ChaosWorld) -> list[Violation]:
    """After a clean pass no ledger row is left `started` and no outbox item in flight."""
    with world.runtime.sessions() as session:
        started = list(session.scalars(select(LedgerEntry).where(LedgerEntry.outcome == "started")))
        in_flight = list(session.scalars(select(OutboxItem).where(OutboxItem.status == "in_flight")))
    found = [
        Violation(
            "ledger_started_offer_push" if e.idempotency_key.startswith("offer-sync") else "ledger_started",
            f"{e.system}/{e.operation}/{e.idempotency_key}",
        )
        for e in started
    ]
    found += [Violation("outbox_in_flight", f"{i.stream}/{i.idempotency_key}") for i in in_flight]
    return found


async def check_all(world: ChaosWorld, reconciliation: Any) -> list[Violation]:
    orders = await world.mirakl_orders()
    erp = await world.erp_orders()
    found = await mirakl_order_twice(world, orders)
    found += await line_in_two_orders(world, orders, erp)
    found += await erp_order_twice(world, erp)
    found += await refund_beyond_refunded(world, orders)
    found += await refund_not_mirrored(world, orders)
    found += await shipment_twice(world, orders)
    found += await paid_order_never_routed(world, orders, erp)
    found += await stockout_buyable(world)
    found += await bookkeeping_settled(world)
    if isinstance(reconciliation, BaseException):
        found.append(Violation("reconciliation_failed", f"{type(reconciliation).__name__}: {reconciliation}"[:300]))
    else:
        found += reconciliation_explained(reconciliation.counts)
    return found


# Gap classes a converged world may show: rounding, and a refund the bridge held for finance on purpose (an open
# quarantine record or case names the line, `tasks.reconciliation.held`); any other class is a gap it lost.
EXPECTED_GAP_CLASSES = frozenset({"rounding", "refund_held_for_finance"})


def reconciliation_explained(counts: dict[str, Any]) -> list[Violation]:
    """The day's reconciliation after convergence: gate passed, every difference listed (nothing unexplained)
    and every listed gap one the bridge meant (`EXPECTED_GAP_CLASSES`)."""
    gaps = {
        name: count
        for name, count in counts.items()
        if name.startswith("class_") and name.removeprefix("class_") not in EXPECTED_GAP_CLASSES and int(count)
    }
    if counts.get("gate") != "passed" or _money(counts.get("unexplained_amount")) != 0 or gaps:
        # Named apart when Mirakl lines only lack their BigCommerce side: the one way still open (see the smoke).
        only_missing = set(gaps) == {"class_missing_in_bigcommerce"} and counts.get("gate") == "passed"
        kind = "reconciliation_missing_in_bigcommerce" if only_missing else "reconciliation_unexplained"
        return [Violation(kind, f"{gaps or counts}"[:300])]
    return []


INVARIANTS = (
    "mirakl_order_twice",
    "line_in_two_orders",
    "native_line_to_mirakl",
    "marketplace_line_to_erp",
    "marketplace_line_to_erp_and_mirakl",
    "erp_order_twice",
    "or28_beyond_refunded",
    "pa02_twice",
    "bc_refund_not_mirrored",
    "bc_refund_beyond_refunded",
    "shipment_twice",
    "tracking_twice",
    "ship_twice",
    "paid_order_never_routed",
    "stockout_buyable",
    "stockout_buyable_in_flight",
    "stockout_buyable_quarantined",
    "ledger_started",
    "ledger_started_offer_push",
    "outbox_in_flight",
    "reconciliation_unexplained",
    "reconciliation_missing_in_bigcommerce",
    "reconciliation_failed",
    "clean_run_failed",
    "harness_error",
)
