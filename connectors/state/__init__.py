"""The bridge's state store: SQLAlchemy 2 tables and the repository functions over them.

Tables and plain functions taking a `Session`, no business rules. Functions flush but never commit, so a
task groups its writes (effects, ledger, cursor) in one transaction it commits itself.
"""

from __future__ import annotations

from connectors.state.cases import open_exception, open_exceptions, resolve_exception
from connectors.state.cursors import get_cursor, set_cursor
from connectors.state.db import (
    DEFAULT_SQLITE_URL,
    create_state_engine,
    is_postgres,
    session_factory,
    upgrade,
)
from connectors.state.ledger import ledger_begin, ledger_finish, ledger_get
from connectors.state.models import (
    Base,
    ExceptionCase,
    LedgerEntry,
    LogisticOrder,
    OfferMapping,
    OrderLineMapping,
    OrderRoute,
    OutboxItem,
    QuarantineRecord,
    StreamCursor,
)
from connectors.state.offer_map import get_offer_map, iter_offer_map, upsert_offer_map
from connectors.state.order_map import (
    get_logistic_order,
    get_order_line_by_mirakl_line,
    get_order_route,
    get_order_route_by_commercial_id,
    logistic_orders_for,
    order_lines_for,
    upsert_logistic_orders,
    upsert_order_lines,
    upsert_order_routes,
)
from connectors.state.outbox import (
    DEFAULT_LEASE,
    claim_batch,
    enqueue,
    enqueue_many,
    mark_done,
    mark_failed,
    mark_quarantined,
    queue_depth,
    requeue,
)
from connectors.state.quarantines import quarantine, quarantine_counts, quarantine_many, resolve_quarantine

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_SQLITE_URL",
    "Base",
    "ExceptionCase",
    "LedgerEntry",
    "LogisticOrder",
    "OfferMapping",
    "OrderLineMapping",
    "OrderRoute",
    "OutboxItem",
    "QuarantineRecord",
    "StreamCursor",
    "claim_batch",
    "create_state_engine",
    "enqueue",
    "enqueue_many",
    "get_cursor",
    "get_logistic_order",
    "get_offer_map",
    "get_order_line_by_mirakl_line",
    "get_order_route",
    "get_order_route_by_commercial_id",
    "is_postgres",
    "iter_offer_map",
    "ledger_begin",
    "ledger_finish",
    "ledger_get",
    "logistic_orders_for",
    "mark_done",
    "mark_failed",
    "mark_quarantined",
    "open_exception",
    "open_exceptions",
    "order_lines_for",
    "quarantine",
    "quarantine_counts",
    "quarantine_many",
    "queue_depth",
    "requeue",
    "resolve_exception",
    "resolve_quarantine",
    "session_factory",
    "set_cursor",
    "upgrade",
    "upsert_logistic_orders",
    "upsert_offer_map",
    "upsert_order_lines",
    "upsert_order_routes",
]
