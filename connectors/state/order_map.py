"""The order map: a BigCommerce order, its Mirakl commercial order, the per-seller logistic orders, and
which Mirakl order line carries each BigCommerce order product.

Every order stream (routing, acceptance, shipments, refunds, reconciliation) translates ids through it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from connectors.state._sql import upsert_rows
from connectors.state.models import LogisticOrder, OrderLineMapping, OrderRoute

__all__ = [
    "get_logistic_order",
    "get_order_line_by_mirakl_line",
    "get_order_route",
    "get_order_route_by_commercial_id",
    "logistic_orders_for",
    "order_lines_for",
    "upsert_logistic_orders",
    "upsert_order_lines",
    "upsert_order_routes",
]

_Query = TypeVar("_Query", bound=Select[Any])


def upsert_order_routes(session: Session, rows: Iterable[Mapping[str, Any]], now: datetime | None = None) -> int:
    """Insert or update routes keyed by `bc_order_id`; a new route needs at least `status`."""
    return upsert_rows(session, OrderRoute.__table__, rows, ["bc_order_id"], now=now)


def upsert_logistic_orders(session: Session, rows: Iterable[Mapping[str, Any]], now: datetime | None = None) -> int:
    """Insert or update logistic orders keyed by `mirakl_order_id`; a new one needs `commercial_id`."""
    return upsert_rows(session, LogisticOrder.__table__, rows, ["mirakl_order_id"], now=now)


def upsert_order_lines(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert or update line maps keyed by (`bc_order_id`, `bc_order_product_id`); new ones need `quantity`."""
    return upsert_rows(session, OrderLineMapping.__table__, rows, ["bc_order_id", "bc_order_product_id"])


def get_order_route(session: Session, bc_order_id: int) -> OrderRoute | None:
    return session.scalar(_fresh(select(OrderRoute).where(OrderRoute.bc_order_id == bc_order_id)))


def get_order_route_by_commercial_id(session: Session, commercial_id: str) -> OrderRoute | None:
    return session.scalar(_fresh(select(OrderRoute).where(OrderRoute.commercial_id == commercial_id)))


def get_logistic_order(session: Session, mirakl_order_id: str) -> LogisticOrder | None:
    return session.scalar(_fresh(select(LogisticOrder).where(LogisticOrder.mirakl_order_id == mirakl_order_id)))


def logistic_orders_for(
    session: Session, *, bc_order_id: int | None = None, commercial_id: str | None = None
) -> list[LogisticOrder]:
    """The logistic orders of one BigCommerce order or one commercial order, by Mirakl order id."""
    if bc_order_id is None and commercial_id is None:
        raise ValueError("give bc_order_id or commercial_id")
    query = select(LogisticOrder).order_by(LogisticOrder.mirakl_order_id)
    if bc_order_id is not None:
        query = query.where(LogisticOrder.bc_order_id == bc_order_id)
    if commercial_id is not None:
        query = query.where(LogisticOrder.commercial_id == commercial_id)
    return list(session.scalars(_fresh(query)))


def order_lines_for(
    session: Session, *, bc_order_id: int | None = None, mirakl_order_id: str | None = None
) -> list[OrderLineMapping]:
    """The line maps of one BigCommerce order or one logistic order, by BigCommerce order product id."""
    if bc_order_id is None and mirakl_order_id is None:
        raise ValueError("give bc_order_id or mirakl_order_id")
    query = select(OrderLineMapping).order_by(OrderLineMapping.bc_order_id, OrderLineMapping.bc_order_product_id)
    if bc_order_id is not None:
        query = query.where(OrderLineMapping.bc_order_id == bc_order_id)
    if mirakl_order_id is not None:
        query = query.where(OrderLineMapping.mirakl_order_id == mirakl_order_id)
    return list(session.scalars(_fresh(query)))


def get_order_line_by_mirakl_line(session: Session, mirakl_order_line_id: str) -> OrderLineMapping | None:
    query = select(OrderLineMapping).where(OrderLineMapping.mirakl_order_line_id == mirakl_order_line_id)
    return session.scalar(_fresh(query))


def _fresh(query: _Query) -> _Query:
    # Rows may have changed through bulk upserts in this session; reload instead of trusting the identity map.
    return query.execution_options(populate_existing=True)
