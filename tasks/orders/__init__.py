"""Tasks of the order split-and-route stream: plan a paid BigCommerce order, send its parts once, unwind cancels."""

from __future__ import annotations

from tasks.orders.cancel import cancel_routed_order
from tasks.orders.cx import CxWrites, cx_document, write_cx_metafield, write_cx_metafields
from tasks.orders.lookup import mirakl_orders_of
from tasks.orders.plan import LinePlan, LineProblem, OfferRef, OrderPlan, build_plan, mirakl_line_id
from tasks.orders.route import PageResult, changed_orders, load_order_cursor, route_order_page

__all__ = [
    "CxWrites",
    "LinePlan",
    "LineProblem",
    "OfferRef",
    "OrderPlan",
    "PageResult",
    "build_plan",
    "cancel_routed_order",
    "changed_orders",
    "cx_document",
    "load_order_cursor",
    "mirakl_line_id",
    "mirakl_orders_of",
    "route_order_page",
    "write_cx_metafield",
    "write_cx_metafields",
]
