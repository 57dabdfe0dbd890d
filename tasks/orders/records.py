"""What routing reads from and writes to the state store: owned variants, order routes, the order map.

The order route row is the idempotency anchor: it is written (status `pending`, with every line of the order)
before anything is sent, and moves to `routed`, `exception` or `cancelled` only once the effects are
recorded. Every line of the order gets a line-map row, natives included, so no line can be dropped unseen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.streams import Stream
from connectors.mirakl.models import Order as MiraklOrder
from connectors.state import (
    OfferMapping,
    OrderRoute,
    open_cs_case,
    upsert_logistic_orders,
    upsert_order_lines,
    upsert_order_routes,
)
from connectors.state._sql import IN_CHUNK_SIZE, chunks
from connectors.state.types import utcnow
from tasks.orders.plan import LineProblem, OfferRef, OrderPlan

__all__ = [
    "anchor_route",
    "owned_offers",
    "record_logistic_orders",
    "record_problems",
    "routes_for",
    "set_route_status",
]

MIRAKL_OWNER = "mirakl"


def owned_offers(session: Session, variant_ids: Iterable[int]) -> tuple[dict[int, OfferRef | None], set[int]]:
    """What the offer map knows of `variant_ids`: the Mirakl-owned ones with the offer that sells each (None when
    no offer is live: sold out, blocked feed), and the variants it maps as native. Variants in neither are unknown
    to it (a fresh or restored state store): their ownership mark decides."""
    owned: dict[int, OfferRef | None] = {}
    native: set[int] = set()
    for batch in chunks(dict.fromkeys(variant_ids), IN_CHUNK_SIZE):
        query = select(
            OfferMapping.bc_variant_id, OfferMapping.owner, OfferMapping.offer_id, OfferMapping.shop_id
        ).where(OfferMapping.bc_variant_id.in_(batch))
        for variant_id, owner, offer_id, shop_id in session.execute(query):
            if owner != MIRAKL_OWNER:
                native.add(int(variant_id))
            else:
                owned[int(variant_id)] = OfferRef(int(offer_id), shop_id) if offer_id is not None else None
    return owned, native


def routes_for(session: Session, bc_order_ids: Iterable[int]) -> dict[int, OrderRoute]:
    found: dict[int, OrderRoute] = {}
    for batch in chunks(dict.fromkeys(bc_order_ids), IN_CHUNK_SIZE):
        query = select(OrderRoute).where(OrderRoute.bc_order_id.in_(batch)).execution_options(populate_existing=True)
        found.update({route.bc_order_id: route for route in session.scalars(query)})
    return found


def anchor_route(session: Session, plan: OrderPlan, problems: Sequence[LineProblem]) -> None:
    """Record the order and all its lines as `pending` before any call: the anchor a rerun recovers from."""
    marketplace = bool(plan.marketplace) or bool(problems)
    upsert_order_routes(
        session,
        [
            {
                "bc_order_id": plan.order.id,
                "commercial_id": plan.commercial_id if marketplace else None,
                "status": "pending",
            }
        ],
    )
    rows = [
        {"bc_order_id": plan.order.id, "bc_order_product_id": p.id, "quantity": p.quantity, "marketplace": False}
        for p in plan.native
    ]
    rows += [
        {
            "bc_order_id": plan.order.id,
            "bc_order_product_id": line.order_product_id,
            "mirakl_order_line_id": line.line_id,
            "offer_id": line.offer.offer_id,
            "shop_id": line.offer.shop_id,
            "quantity": line.offer_line.quantity,
            "amount": line.expected_debit,
            "marketplace": True,
        }
        for line in plan.marketplace
    ]
    quantities = {p.id: p.quantity for p in plan.products}
    listed = {row["bc_order_product_id"] for row in rows}
    rows += [
        {
            "bc_order_id": plan.order.id,
            "bc_order_product_id": problem.order_product_id,
            "offer_id": problem.offer_id,
            "quantity": quantities.get(problem.order_product_id, 0),
            "marketplace": True,
        }
        for problem in problems
        if problem.order_product_id is not None and problem.order_product_id not in listed
    ]
    upsert_order_lines(session, rows)


def record_logistic_orders(session: Session, bc_order_id: int, orders: Sequence[MiraklOrder]) -> None:
    """Record each logistic order Mirakl made and which of them carries each of our lines."""
    if not orders:
        return
    upsert_logistic_orders(
        session,
        [
            {
                "mirakl_order_id": o.order_id,
                "commercial_id": o.commercial_id or str(bc_order_id),
                "bc_order_id": bc_order_id,
                "shop_id": o.shop_id,
                "state": o.order_state,
            }
            for o in orders
        ],
    )
    prefix = f"{bc_order_id}-"
    lines = [
        {
            "bc_order_id": bc_order_id,
            "bc_order_product_id": int(line.order_line_id.removeprefix(prefix)),
            "mirakl_order_id": o.order_id,
            "mirakl_order_line_id": line.order_line_id,
            "shop_id": o.shop_id,
        }
        for o in orders
        for line in o.order_lines
        if line.order_line_id.startswith(prefix) and line.order_line_id.removeprefix(prefix).isdigit()
    ]
    upsert_order_lines(session, lines)


def record_problems(session: Session, bc_order_id: int, problems: Sequence[LineProblem], now: datetime) -> int:
    """One exception case per problem line (or per order for whole-order problems); returns how many are new."""
    opened = 0
    for problem in problems:
        key = f"{bc_order_id}:{problem.order_product_id}" if problem.order_product_id is not None else str(bc_order_id)
        detail = {"bc_order_id": bc_order_id, "order_product_id": problem.order_product_id, "reason": problem.reason}
        if problem.offer_id is not None:
            detail["offer_id"] = problem.offer_id
        opened += open_cs_case(session, Stream.ORDER_ROUTING, key, problem.kind, detail, now=now)
    return opened


def set_route_status(
    session: Session, bc_order_id: int, status: str, now: datetime | None = None, *, native_sent: bool | None = None
) -> None:
    """Move the route on; `routed_at` marks when its effects were recorded."""
    row: dict[str, object] = {"bc_order_id": bc_order_id, "status": status}
    if native_sent is not None:
        row["native_sent"] = native_sent
    if status in ("routed", "exception"):
        row["routed_at"] = now or utcnow()
    upsert_order_routes(session, [row], now=now)
